import { createHash } from 'node:crypto';

/**
 * One unit of work: one image entry of one team file, mirrored into one target. Every queue runs at most one
 * job per key at a time and holds at most one waiting.
 */
export interface JobKey {
  /** {@link MirrorImage.id} of `@scanner/sync`: `<team file>#<source repository>`. */
  readonly imageId: string;
  /** The target's name in `targets.yaml`. */
  readonly targetName: string;
}

/** What a queued job carries: its key, plus what the queue needs to route it (the target registry host). */
export interface JobData extends JobKey {
  /** The target's registry host; jobs are limited per target registry. */
  readonly registry: string;
  /** Why it was queued, for logs: a start-up run, a schedule tick, a reload, `POST /api/sync`, or Redis coming back. */
  readonly reason: JobReason;
}

/** Why a job was queued. */
export type JobReason = 'startup' | 'schedule' | 'reload' | 'trigger' | 'resume';

/**
 * The job id of a key: a SHA-256 of image id and target name, hex. Stable across replicas and restarts, so
 * that every replica derives the same id for the same work; free of `:` (BullMQ refuses custom ids with it).
 */
export function jobId(key: JobKey): string {
  return createHash('sha256').update(key.imageId).update('\0').update(key.targetName).digest('hex').slice(0, 40);
}

/** The outcome of one run, as the queue reports it. */
export type JobResult = 'succeeded' | 'failed';

/** What a run tells the queue. */
export interface JobOutcome {
  readonly result: JobResult;
  /** The target registry answered 429 and asked to wait this long: its queue pauses (on Redis, across replicas). */
  readonly rateLimitedMs: number | undefined;
}

/** Runs one job to completion; rejects only when the run could not be made at all (the next schedule retries). */
export type JobRunner = (job: JobData, signal: AbortSignal) => Promise<JobOutcome>;
