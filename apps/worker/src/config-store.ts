import type { ConfigIssue, MirrorConfig, MirrorImage, MirrorTarget } from '@scanner/sync';
import type { FileLoad, SyncEngine, TeamFile } from './engine.ts';
import { cronProblem } from './schedule.ts';

/** How one config file stands now. */
export interface ConfigFileStatus {
  /** Relative to the config directory. */
  readonly file: string;
  readonly kind: 'targets' | 'team';
  /** The team file's owner (from its last valid version); undefined for `targets.yaml` or a file never valid. */
  readonly owner: string | undefined;
  /** Whether the file as it is now is valid. */
  readonly valid: boolean;
  /** Problems of the file as it is now. */
  readonly issues: readonly ConfigIssue[];
  /** ISO 8601 of the first load that found it invalid, in the current streak; `null` while valid. */
  readonly invalidSince: string | null;
  /** Whether a valid version (now or an earlier one) is in force. */
  readonly inForce: boolean;
}

/** What a load changed. */
export interface ConfigChange {
  /** Images that are new or whose entry changed. */
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  /** Whether the targets changed. */
  readonly targetsChanged: boolean;
}

/** The config directory with last-valid semantics per file. */
export interface ConfigStore {
  readonly dir: string;
  /** Reads the directory again. A file that is invalid now keeps its last valid version in force. */
  load(signal?: AbortSignal): Promise<ConfigChange>;
  /** The config in force; undefined until `targets.yaml` was valid once. */
  config(): MirrorConfig | undefined;
  files(): readonly ConfigFileStatus[];
  image(id: string): MirrorImage | undefined;
  target(name: string): MirrorTarget | undefined;
}

interface FileState {
  status: ConfigFileStatus;
  inForce: TeamFile | undefined;
}

/** Adds the worker's own check of team files: every `schedule` must be a cron pattern croner accepts. */
function checkSchedules(load: FileLoad<TeamFile>): FileLoad<TeamFile> {
  if (!load.ok) return load;
  const issues: ConfigIssue[] = [];
  for (const image of load.value.images) {
    if (image.schedule === undefined) continue;
    const problem = cronProblem(image.schedule);
    if (problem !== undefined) {
      issues.push({ file: load.file, line: undefined, column: undefined, path: `images[${image.index}].schedule`, message: `invalid cron pattern ${JSON.stringify(image.schedule)}: ${problem}` });
    }
  }
  return issues.length === 0 ? load : { file: load.file, ok: false, issues };
}

/** Options of {@link createConfigStore}. */
export interface ConfigStoreOptions {
  readonly dir: string;
  readonly engine: Pick<SyncEngine, 'loadDir'>;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Keeps the config in force across reloads: each file is taken as it is now when valid, else its last valid
 * version stays in force (and the file is reported invalid); a deleted file's images go away; other files are
 * never affected by one file's problems.
 */
export function createConfigStore(options: ConfigStoreOptions): ConfigStore {
  const now = options.now ?? Date.now;
  let targets: readonly MirrorTarget[] | undefined;
  let targetsStatus: ConfigFileStatus | undefined;
  const teams = new Map<string, FileState>();
  let current: MirrorConfig | undefined;
  let images = new Map<string, MirrorImage>();

  const statusOf = (file: string, kind: 'targets' | 'team', load: FileLoad<unknown>, previous: ConfigFileStatus | undefined, owner: string | undefined, inForce: boolean): ConfigFileStatus => ({
    file,
    kind,
    owner,
    valid: load.ok,
    issues: load.ok ? [] : load.issues,
    invalidSince: load.ok ? null : (previous?.invalidSince ?? new Date(now()).toISOString()),
    inForce,
  });

  return {
    dir: options.dir,
    async load(signal) {
      const loaded = await options.engine.loadDir(options.dir, targets, signal);
      const before = images;
      const beforeTargets = JSON.stringify(targets ?? null);

      if (loaded.targets.ok) targets = loaded.targets.value;
      targetsStatus = statusOf(loaded.targets.file, 'targets', loaded.targets, targetsStatus, undefined, targets !== undefined);

      const seen = new Set<string>();
      for (const raw of loaded.teams) {
        const load = checkSchedules(raw);
        seen.add(load.file);
        const previous = teams.get(load.file);
        const inForce = load.ok ? load.value : previous?.inForce;
        teams.set(load.file, { inForce, status: statusOf(load.file, 'team', load, previous?.status, inForce?.owner, inForce !== undefined) });
      }
      for (const file of teams.keys()) if (!seen.has(file)) teams.delete(file);

      images = new Map();
      for (const state of teams.values()) for (const image of state.inForce?.images ?? []) images.set(image.id, image);
      current = targets === undefined ? undefined : { dir: options.dir, targets, images: [...images.values()] };

      const changed: string[] = [];
      for (const [id, image] of images) {
        const old = before.get(id);
        if (old === undefined || JSON.stringify(old) !== JSON.stringify(image)) changed.push(id);
      }
      const removed = [...before.keys()].filter((id) => !images.has(id));
      return { changed, removed, targetsChanged: JSON.stringify(targets ?? null) !== beforeTargets };
    },
    config: () => current,
    files: () => [...(targetsStatus === undefined ? [] : [targetsStatus]), ...[...teams.values()].map((state) => state.status)],
    image: (id) => images.get(id),
    target: (name) => targets?.find((target) => target.name === name),
  };
}
