import type { JobData, JobRunner } from './job.ts';

/** Limits on running jobs. */
export interface QueueLimits {
  /** Jobs one process runs at once. @default 4 */
  readonly concurrency: number;
  /**
   * Jobs running at once against one target registry, across every process sharing the queue; from the
   * registry's `concurrency` in the registries config, else this default. @default 2
   */
  readonly registryConcurrency: (registry: string) => number;
}

/** Numbers of jobs, for metrics and the status page. */
export interface QueueCounts {
  readonly waiting: number;
  readonly active: number;
}

/**
 * The work queue the worker feeds and drains: in memory for one process, on BullMQ for many. A job id is
 * waiting or running at most once: adding a job whose id is already waiting or running is a no-op.
 */
export interface WorkQueue {
  /** `memory` or `redis`, for logs and the status page. */
  readonly kind: 'memory' | 'redis';
  /**
   * Adds the jobs not already waiting or running; resolves how many were added (on Redis a best-effort count:
   * two replicas adding one id at the same moment may both count it, while BullMQ keeps one job). Rejects when
   * the queue cannot be reached.
   */
  add(jobs: readonly JobData[]): Promise<number>;
  /**
   * Claims a schedule tick (`key` names the schedule group and its fire time) so that one process of many
   * enqueues it; the claim lapses after `ttlMs`. Always true in memory.
   */
  claimTick(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Takes jobs for these target registries (on Redis: one BullMQ queue and worker each, so that this replica
   * also runs, and recovers from dead replicas, jobs other replicas queued). Registries given before stay.
   */
  serve(registries: readonly string[]): Promise<void>;
  /** Starts taking jobs and running them with `runner`. */
  start(runner: JobRunner): Promise<void>;
  /** Whether the queue can take and hand out work now (Redis reachable when used). */
  ready(): boolean;
  /** Ids of the jobs this process runs now. */
  running(): ReadonlySet<string>;
  counts(): Promise<QueueCounts>;
  /**
   * Stops taking jobs, lets running ones finish for up to `graceMs`, then aborts them (their signal fires;
   * the sync engine writes a target tag last, so none is half-moved) and hands them back: in memory they are
   * dropped with the waiting ones (the next start plans them again), on Redis they go back to the wait list
   * for another replica. Idempotent.
   */
  close(graceMs: number): Promise<void>;
}
