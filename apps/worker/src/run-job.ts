import type { PlanItem } from '@scanner/sync';
import type { ConfigStore } from './config-store.ts';
import type { SyncEngine } from './engine.ts';
import type { JobData, JobOutcome, JobRunner } from './job.ts';
import { jobId } from './job.ts';
import type { Logger } from './log.ts';
import type { WorkerMetrics } from './metrics.ts';
import type { FailedTag, RunRecord, StatusStore } from './status-store.ts';
import { imageSelection } from './status.ts';

/** Error codes that mean a registry asked us to slow down. */
const RATE_LIMIT_CODES = new Set(['rate_limited', 'TOOMANYREQUESTS']);
/** How long a target registry's queue pauses after a 429 (the client already honoured Retry-After on its retries). */
const RATE_LIMIT_PAUSE_MS = 60_000;

/** The tag of a reference string (`host/repo:tag`), or its digest when it has none. */
export function tagOf(reference: string): string {
  const at = reference.indexOf('@');
  const name = at === -1 ? reference : reference.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) return name.slice(colon + 1);
  return at === -1 ? reference : reference.slice(at + 1);
}

/** The repository part of a reference string (`host/repo:tag` → `host/repo`). */
function repositoryOf(reference: string): string {
  const tag = tagOf(reference);
  return reference.slice(0, reference.length - tag.length - 1);
}

/** Options of {@link createJobRunner}. */
export interface JobRunnerOptions {
  readonly engine: Pick<SyncEngine, 'plan' | 'sync'>;
  readonly config: Pick<ConfigStore, 'image' | 'target'>;
  readonly status: StatusStore;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'internal';
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? '';
}

/**
 * Runs one job: looks the image and target up in the config in force (a job whose image left the config is
 * dropped), plans with `@scanner/sync`, records what is missing, copies, and records the outcome, the metrics and
 * one log line per run and per failure (`owner`, `source`, `target`).
 */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const now = options.now ?? Date.now;
  const { engine, config, status, metrics, logger } = options;

  const save = async (id: string, record: RunRecord): Promise<void> => {
    try {
      await status.put(id, record);
    } catch (error) {
      logger.warn({ err: error, imageId: record.imageId, target: record.targetName }, 'status not saved');
    }
  };

  return async (job: JobData, signal: AbortSignal): Promise<JobOutcome> => {
    const image = config.image(job.imageId);
    const target = config.target(job.targetName);
    if (image === undefined || target === undefined || !image.targets.includes(target.name)) {
      logger.info({ imageId: job.imageId, target: job.targetName }, 'job dropped: its image or target left the config');
      return { result: 'succeeded', rateLimitedMs: undefined };
    }
    const id = jobId(job);
    const source = `${image.source.registry}/${image.source.repository}`;
    const fields = { owner: image.owner, source, target: target.name, file: image.file };
    const startedMs = now();
    logger.debug({ ...fields, jobId: id, reason: job.reason }, 'run started');
    const startedAt = new Date(startedMs).toISOString();
    let previous: RunRecord | undefined;
    try {
      previous = await status.get(id);
    } catch {
      previous = undefined;
    }
    const base: RunRecord = {
      imageId: image.id,
      targetName: target.name,
      repository: previous?.repository,
      selection: imageSelection(image, target),
      startedAt,
      finishedAt: null,
      result: null,
      upToDate: previous?.upToDate ?? [],
      missing: previous?.missing ?? [],
      failed: previous?.failed ?? [],
      lastError: previous?.lastError ?? null,
      failingSince: previous?.failingSince ?? null,
      lastSuccessAt: previous?.lastSuccessAt ?? null,
    };
    await save(id, base);

    const finish = async (record: Omit<RunRecord, 'finishedAt' | 'failingSince' | 'lastSuccessAt'>, rateLimited: boolean): Promise<JobOutcome> => {
      const finishedMs = now();
      const failed = record.result === 'failed';
      const finishedAt = new Date(finishedMs).toISOString();
      await save(id, {
        ...record,
        finishedAt,
        failingSince: failed ? (previous?.failingSince ?? startedAt) : null,
        lastSuccessAt: failed ? (previous?.lastSuccessAt ?? null) : finishedAt,
      });
      const result = record.result ?? 'failed';
      metrics.runFinished(image.owner, target.name, result, (finishedMs - startedMs) / 1000);
      return { result, rateLimitedMs: rateLimited ? RATE_LIMIT_PAUSE_MS : undefined };
    };

    let plan;
    try {
      plan = await engine.plan(image, target, signal);
    } catch (error) {
      if (signal.aborted) {
        logger.warn({ ...fields }, 'run aborted at shutdown; its job is handed back');
        throw error;
      }
      const lastError = { code: codeOf(error), message: messageOf(error) };
      logger.error({ ...fields, code: lastError.code, err: error }, 'plan failed');
      return finish({ ...base, result: 'failed', lastError }, RATE_LIMIT_CODES.has(lastError.code));
    }
    const tag = (item: PlanItem): string => tagOf(item.target);
    const repository = plan.items[0] === undefined ? base.repository : repositoryOf(plan.items[0].target);
    const planned = { ...base, repository, upToDate: plan.items.filter((item) => item.action === 'skip').map(tag), missing: plan.items.filter((item) => item.action !== 'skip').map(tag) };
    await save(id, planned);

    const report = await engine.sync(plan, signal, (event) => {
      if (event.type === 'blob') metrics.bytesUploaded(image.owner, target.name, event.bytes);
    });
    if (signal.aborted) {
      logger.warn({ ...fields }, 'run aborted at shutdown; its job is handed back');
      throw signal.reason instanceof Error ? signal.reason : new Error('scanner-worker: run aborted');
    }

    const upToDate: string[] = [];
    const failed: FailedTag[] = [];
    const counts: Record<string, number> = { copied: 0, updated: 0, skipped: 0, failed: 0 };
    for (const item of report.items) {
      counts[item.result] = (counts[item.result] ?? 0) + 1;
      metrics.tagSynced(image.owner, target.name, item.result);
      if (item.result === 'failed') {
        const failure = { tag: tag(item), code: item.error?.code ?? 'copy_failed', message: item.error?.message ?? 'copy failed' };
        failed.push(failure);
        logger.warn({ ...fields, tag: failure.tag, code: failure.code, message: failure.message }, 'tag failed');
      } else {
        upToDate.push(tag(item));
      }
    }
    for (const error of report.errors) {
      logger.error({ ...fields, code: error.code, message: error.message }, 'image failed');
    }
    const firstError = report.errors[0] ?? failed[0];
    const lastError = firstError === undefined ? null : { code: firstError.code, message: firstError.message };
    const result = failed.length === 0 && report.errors.length === 0 ? 'succeeded' : 'failed';
    const rateLimited = [...failed, ...report.errors].some((entry) => RATE_LIMIT_CODES.has(entry.code));
    const outcome = await finish({ ...planned, result, upToDate, missing: [], failed, lastError }, rateLimited);
    logger.info({ ...fields, result, ...counts, bytesUploaded: report.stats.bytesUploaded, durationMs: now() - startedMs, reason: job.reason }, 'run');
    return outcome;
  };
}
