import { createHash } from 'node:crypto';
import { targetRepository } from '@scanner/sync';
import type { MirrorConfig, MirrorImage, MirrorTarget } from '@scanner/sync';
import type { ConfigFileStatus } from './config-store.ts';
import { jobId } from './job.ts';
import type { FailedTag, RunRecord } from './status-store.ts';

/**
 * How one image stands at one target, worst first: `failing`, `missing`, `running`, `pending` (never run, or not
 * planned since a reload changed what it selects), `up_to_date`.
 */
export type TargetState = 'failing' | 'missing' | 'running' | 'pending' | 'up_to_date';

/** Every state, worst first. */
export const TARGET_STATES: readonly TargetState[] = ['failing', 'missing', 'running', 'pending', 'up_to_date'];
const SEVERITY = TARGET_STATES;

/** One image at one target in `GET /api/status`. */
export interface TargetStatus {
  readonly name: string;
  readonly registry: string;
  /** Target repository, e.g. `mirror.example.io/bitnami/postgresql`. */
  readonly repository: string | null;
  readonly state: TargetState;
  readonly upToDate: readonly string[];
  readonly missing: readonly string[];
  readonly failed: readonly FailedTag[];
  readonly lastRun: { readonly startedAt: string; readonly finishedAt: string | null; readonly result: 'succeeded' | 'failed' | null } | null;
  readonly lastError: { readonly code: string; readonly message: string } | null;
  readonly failingSince: string | null;
  readonly lastSuccessAt: string | null;
}

/** One image entry of a team file. */
export interface ImageStatus {
  readonly id: string;
  /** Source repository, e.g. `docker.io/bitnami/postgresql`. */
  readonly source: string;
  readonly file: string;
  readonly owner: string;
  /** The cron pattern, or `null` for the worker's interval. */
  readonly schedule: string | null;
  /** ISO 8601. */
  readonly nextRun: string | null;
  readonly state: TargetState;
  readonly targets: readonly TargetStatus[];
}

/** One team (owner). */
export interface TeamStatus {
  readonly owner: string;
  readonly state: TargetState;
  readonly files: readonly ConfigFileStatus[];
  readonly images: readonly ImageStatus[];
}

/** The document of `GET /api/status`. */
export interface StatusDocument {
  /** ISO 8601. */
  readonly generatedAt: string;
  readonly ready: boolean;
  readonly queue: { readonly kind: 'memory' | 'redis'; readonly waiting: number | null; readonly active: number | null };
  readonly config: {
    readonly dir: string;
    readonly files: readonly ConfigFileStatus[];
  };
  readonly teams: readonly TeamStatus[];
}

/** What {@link buildStatus} reads. */
export interface StatusInput {
  readonly now: number;
  readonly ready: boolean;
  readonly queue: StatusDocument['queue'];
  readonly dir: string;
  readonly config: MirrorConfig | undefined;
  readonly files: readonly ConfigFileStatus[];
  readonly records: ReadonlyMap<string, RunRecord>;
  readonly nextRunMs: (imageId: string) => number | undefined;
}

/** The worst of some states. */
export function worstState(states: Iterable<TargetState>): TargetState {
  let worst: TargetState = 'up_to_date';
  for (const state of states) if (SEVERITY.indexOf(state) < SEVERITY.indexOf(worst)) worst = state;
  return worst;
}

/**
 * What decides which tags an image mirrors where: source, rules, exclusions, mutable tags, renames and the
 * target's registry and prefix, as a SHA-256 (hex). A run record keeps the one it was planned under.
 */
export function imageSelection(image: MirrorImage, target: MirrorTarget): string {
  const { source, rules, exclude, mutable, rename, targetTag } = image;
  const fields = { source: `${source.registry}/${source.repository}`, rules, exclude, mutable, rename, targetTag, registry: target.registry, prefix: target.prefix };
  return createHash('sha256')
    .update(JSON.stringify(fields, (_key, value: unknown) => (value instanceof RegExp ? value.source : value)))
    .digest('hex');
}

/**
 * The state of one image at one target from its latest run record: `pending` without one, or when the record
 * was planned under another {@link imageSelection} than `selection` (the config in force) and is not running.
 */
export function stateOf(record: RunRecord | undefined, selection?: string): TargetState {
  if (record === undefined) return 'pending';
  if (record.finishedAt !== null && selection !== undefined && record.selection !== undefined && record.selection !== selection) return 'pending';
  if (record.result === 'failed' || record.failed.length > 0 || record.failingSince !== null) return 'failing';
  if (record.missing.length > 0) return 'missing';
  if (record.finishedAt === null) return 'running';
  return 'up_to_date';
}

/** Where the image lands at the target, from the config (`@scanner/sync` decides the path). */
function repositoryAt(image: MirrorImage, target: MirrorTarget): string | null {
  try {
    const reference = targetRepository(image, target);
    return `${reference.registry}/${reference.repository}`;
  } catch {
    return null;
  }
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Per team → image → target, from the config in force and the latest run records. Teams and images by name. */
export function buildStatus(input: StatusInput): StatusDocument {
  const teams = new Map<string, { images: ImageStatus[]; files: ConfigFileStatus[] }>();
  const team = (owner: string) => {
    let entry = teams.get(owner);
    if (entry === undefined) {
      entry = { images: [], files: [] };
      teams.set(owner, entry);
    }
    return entry;
  };
  for (const file of input.files) if (file.owner !== undefined) team(file.owner).files.push(file);

  const config = input.config;
  for (const image of config?.images ?? []) {
    const targets: TargetStatus[] = [];
    for (const name of image.targets) {
      const target = config?.targets.find((candidate) => candidate.name === name);
      if (target === undefined) continue;
      const record = input.records.get(jobId({ imageId: image.id, targetName: name }));
      targets.push({
        name,
        registry: target.registry,
        repository: record?.repository ?? repositoryAt(image, target),
        state: stateOf(record, imageSelection(image, target)),
        upToDate: record?.upToDate ?? [],
        missing: record?.missing ?? [],
        failed: record?.failed ?? [],
        lastRun: record === undefined ? null : { startedAt: record.startedAt, finishedAt: record.finishedAt, result: record.result },
        lastError: record?.lastError ?? null,
        failingSince: record?.failingSince ?? null,
        lastSuccessAt: record?.lastSuccessAt ?? null,
      });
    }
    const source = `${image.source.registry}/${image.source.repository}`;
    team(image.owner).images.push({
      id: image.id,
      source,
      file: image.file,
      owner: image.owner,
      schedule: image.schedule ?? null,
      nextRun: iso(input.nextRunMs(image.id)),
      state: worstState(targets.map((target) => target.state)),
      targets,
    });
  }

  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return {
    generatedAt: new Date(input.now).toISOString(),
    ready: input.ready,
    queue: input.queue,
    config: { dir: input.dir, files: input.files },
    teams: [...teams]
      // A valid file's own owner, when every image of it names another owner, is no team of its own.
      .filter(([, entry]) => entry.images.length > 0 || entry.files.some((file) => !file.valid))
      .sort(([a], [b]) => byName(a, b))
      .map(([owner, entry]) => {
        const images = entry.images.sort((a, b) => byName(a.source, b.source) || byName(a.id, b.id));
        const fileStates: TargetState[] = entry.files.some((file) => !file.valid) ? ['failing'] : [];
        return { owner, state: worstState([...images.map((image) => image.state), ...fileStates]), files: entry.files, images };
      }),
  };
}
