import type { JobData, JobRunner } from './job.ts';
import { jobId } from './job.ts';
import type { QueueCounts, QueueLimits, WorkQueue } from './queue.ts';

interface Running {
  readonly registry: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** Options of {@link createMemoryQueue}. */
export interface MemoryQueueOptions {
  readonly limits: QueueLimits;
  /** Told about a runner that rejected (the job is dropped; the next schedule plans it again); not for a run aborted at shutdown. */
  readonly onRunnerError: (job: JobData, error: unknown) => void;
}

/**
 * The single-process queue: FIFO, at most `concurrency` jobs at once and at most the registry's concurrency
 * per target registry; a job id waiting or running is not added again. A run that reports a 429
 * (`rateLimitedMs`) pauses its target registry for that long; other registries go on.
 */
export function createMemoryQueue(options: MemoryQueueOptions): WorkQueue {
  const { limits } = options;
  const waiting = new Map<string, JobData>();
  const running = new Map<string, Running>();
  let runner: JobRunner | undefined;
  let closing: Promise<void> | undefined;
  // Target registries that answered 429, paused until the given time (epoch ms).
  const pausedUntil = new Map<string, number>();
  let resumeTimer: NodeJS.Timeout | undefined;

  const paused = (registry: string): boolean => {
    const until = pausedUntil.get(registry);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    pausedUntil.delete(registry);
    return false;
  };
  const pause = (registry: string, ms: number): void => {
    pausedUntil.set(registry, Math.max(pausedUntil.get(registry) ?? 0, Date.now() + ms));
    if (resumeTimer !== undefined) clearTimeout(resumeTimer);
    const next = Math.min(...pausedUntil.values());
    resumeTimer = setTimeout(() => {
      resumeTimer = undefined;
      pump();
    }, Math.max(0, next - Date.now()) + 1);
    resumeTimer.unref();
  };

  const perRegistry = (registry: string): number => {
    let count = 0;
    for (const job of running.values()) if (job.registry === registry) count += 1;
    return count;
  };

  const pump = (): void => {
    if (runner === undefined || closing !== undefined) return;
    for (const [id, job] of waiting) {
      if (running.size >= limits.concurrency) return;
      if (paused(job.registry) || perRegistry(job.registry) >= limits.registryConcurrency(job.registry)) continue;
      waiting.delete(id);
      const controller = new AbortController();
      const run = runner;
      const done = (async () => {
        try {
          const outcome = await run(job, controller.signal);
          if (outcome.rateLimitedMs !== undefined && outcome.rateLimitedMs > 0) pause(job.registry, outcome.rateLimitedMs);
        } catch (error) {
          // Aborted at shutdown: expected, and the run said so itself (a warning); not a runner error.
          if (!controller.signal.aborted) options.onRunnerError(job, error);
        } finally {
          running.delete(id);
          pump();
        }
      })();
      running.set(id, { registry: job.registry, controller, done });
    }
  };

  return {
    kind: 'memory',
    add(jobs) {
      if (closing !== undefined) return Promise.resolve(0);
      let added = 0;
      for (const job of jobs) {
        const id = jobId(job);
        if (waiting.has(id) || running.has(id)) continue;
        waiting.set(id, job);
        added += 1;
      }
      pump();
      return Promise.resolve(added);
    },
    claimTick: () => Promise.resolve(true),
    serve: () => Promise.resolve(),
    start(run) {
      runner = run;
      pump();
      return Promise.resolve();
    },
    ready: () => closing === undefined,
    running: () => new Set(running.keys()),
    counts: (): Promise<QueueCounts> => Promise.resolve({ waiting: waiting.size, active: running.size }),
    close(graceMs) {
      closing ??= (async () => {
        waiting.clear();
        if (resumeTimer !== undefined) clearTimeout(resumeTimer);
        const all = Promise.all([...running.values()].map((job) => job.done));
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = setTimeout(resolve, graceMs, 'expired');
        });
        const outcome = await Promise.race([all.then(() => 'done' as const), expired]);
        clearTimeout(timer);
        if (outcome === 'expired') {
          for (const job of running.values()) job.controller.abort(new Error('scanner-worker: shutting down, grace period over'));
          await all;
        }
      })();
      return closing;
    },
  };
}
