import { createHash } from 'node:crypto';
import { Queue, WaitingError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobData, JobRunner } from './job.ts';
import { jobId } from './job.ts';
import type { QueueCounts, QueueLimits, WorkQueue } from './queue.ts';

/** Options of {@link createRedisQueue}. */
export interface RedisQueueOptions {
  /** The worker's shared client (`maxRetriesPerRequest: null`, as BullMQ requires); the queue never closes it. */
  readonly connection: Redis;
  readonly limits: QueueLimits;
  /** Prefix of every BullMQ key. @default 'scanner-worker' */
  readonly prefix?: string;
  /**
   * How long a replica holds a job's lock without renewing it; a job whose replica died is taken over by another
   * after about this long (BullMQ's stalled-job check runs every half of it). @default 30000
   */
  readonly lockMs?: number;
  /** Told about a runner that rejected (the job fails; the next schedule plans it again); not for a run aborted at shutdown (handed back). */
  readonly onRunnerError: (job: JobData, error: unknown) => void;
  /** Told about errors the BullMQ workers report (Redis connection lost and the like). */
  readonly onQueueError: (error: Error) => void;
}

interface RegistryQueue {
  readonly queue: Queue<JobData>;
  worker: Worker<JobData> | undefined;
}

const shortHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * The scale-out queue on BullMQ: one BullMQ queue per target registry (`<prefix>:sync-<hash of host>`), so that
 * the registry's concurrency holds across every replica (`setGlobalConcurrency`) and a 429 pauses only that
 * registry (`worker.rateLimit`). Job ids come from {@link jobId}: BullMQ ignores an add whose id exists, and
 * jobs are removed when they end, so an id is waiting or running at most once across replicas. A replica that
 * dies loses its locks; BullMQ's stalled-job check hands its jobs to another replica.
 */
/**
 * The length BullMQ trims each queue's `:events` stream to (approximately: `XADD … MAXLEN ~`, so up to one
 * stream node of 100 entries more). BullMQ's default is 10,000; the worker reads no events (it uses no
 * QueueEvents), so a few hundred bound the key at tens of kB.
 */
export const EVENTS_MAX_LEN = 200;

export function createRedisQueue(options: RedisQueueOptions): WorkQueue {
  const prefix = options.prefix ?? 'scanner-worker';
  const lockMs = options.lockMs ?? 30_000;
  const { connection, limits } = options;
  const queues = new Map<string, RegistryQueue>();
  const active = new Map<string, AbortController>();
  let runner: JobRunner | undefined;
  let closing: Promise<void> | undefined;

  // The shared client queues commands while disconnected (BullMQ's workers need that); callers that must not
  // wait (HTTP handlers, the scheduler) fail fast instead.
  const reachable = (): void => {
    if (connection.status !== 'ready') throw new Error('scanner-worker: Redis is not reachable; jobs are queued again once it is');
  };

  const process = async (job: Job<JobData>, token: string | undefined, signal: AbortSignal | undefined): Promise<void> => {
    const run = runner;
    if (run === undefined) throw new Error('scanner-worker: the queue runs jobs only after start()');
    const id = jobId(job.data);
    const controller = new AbortController();
    const abort = (): void => {
      controller.abort(signal?.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
    active.set(id, controller);
    let pauseMs: number | undefined;
    try {
      pauseMs = (await run(job.data, controller.signal)).rateLimitedMs;
    } catch (error) {
      // Aborted at shutdown: expected, handed back below, and the run said so itself (a warning).
      if (!controller.signal.aborted) options.onRunnerError(job.data, error);
    } finally {
      active.delete(id);
      signal?.removeEventListener('abort', abort);
    }
    if (controller.signal.aborted) {
      // Shutting down past the grace period: give the job back for another replica instead of failing it.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    // A 429 from the target registry pauses its queue for every replica.
    if (pauseMs !== undefined && pauseMs > 0) await queues.get(job.data.registry)?.queue.rateLimit(pauseMs);
  };

  const startWorker = (registry: string, entry: RegistryQueue): void => {
    if (runner === undefined || closing !== undefined || entry.worker !== undefined) return;
    const worker = new Worker<JobData>(entry.queue.name, process, {
      connection,
      prefix,
      concurrency: Math.min(limits.concurrency, limits.registryConcurrency(registry)),
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
      maxStalledCount: 2,
      // BullMQ honours a manual pause (queue.rateLimit after a 429) only for workers with a limiter; this ceiling
      // is never reached otherwise (the registry's concurrency is the limit that matters).
      limiter: { max: 10_000, duration: 1_000 },
    });
    worker.on('error', options.onQueueError);
    entry.worker = worker;
  };

  const queueFor = async (registry: string): Promise<RegistryQueue> => {
    let entry = queues.get(registry);
    if (entry === undefined) {
      const queue = new Queue<JobData>(`sync-${shortHash(registry)}`, {
        connection,
        prefix,
        defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
        streams: { events: { maxLen: EVENTS_MAX_LEN } },
      });
      queue.on('error', options.onQueueError);
      entry = { queue, worker: undefined };
      queues.set(registry, entry);
      await queue.setGlobalConcurrency(limits.registryConcurrency(registry));
    }
    startWorker(registry, entry);
    return entry;
  };

  return {
    kind: 'redis',
    async add(jobs) {
      if (closing !== undefined) return 0;
      reachable();
      let added = 0;
      for (const job of jobs) {
        const { queue } = await queueFor(job.registry);
        const id = jobId(job);
        // An existing id (waiting or running on any replica) makes this a no-op; BullMQ then returns that job.
        const before = await queue.getJobState(id);
        if (before !== 'unknown') continue;
        await queue.add('sync', job, { jobId: id });
        added += 1;
      }
      return added;
    },
    async serve(registries) {
      if (closing !== undefined) return;
      reachable();
      for (const registry of registries) await queueFor(registry);
    },
    async claimTick(key, ttlMs) {
      reachable();
      const answer = await connection.set(`${prefix}:tick:${shortHash(key)}`, '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
      return answer === 'OK';
    },
    async start(run) {
      runner = run;
      for (const [registry, entry] of queues) startWorker(registry, entry);
      return Promise.resolve();
    },
    ready: () => closing === undefined && connection.status === 'ready',
    running: () => new Set(active.keys()),
    async counts(): Promise<QueueCounts> {
      reachable();
      let waiting = 0;
      let running = 0;
      for (const { queue } of queues.values()) {
        const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
        waiting += (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0) + (counts['delayed'] ?? 0);
        running += counts['active'] ?? 0;
      }
      return { waiting, active: running };
    },
    close(graceMs) {
      closing ??= (async () => {
        const workers = [...queues.values()].flatMap((entry) => (entry.worker === undefined ? [] : [entry.worker]));
        // close() stops fetching at once and resolves when the running jobs are done.
        const closed = Promise.all(workers.map((worker) => worker.close()));
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = setTimeout(resolve, graceMs, 'expired');
        });
        const outcome = await Promise.race([closed.then(() => 'done' as const), expired]);
        clearTimeout(timer);
        if (outcome === 'expired') {
          for (const controller of active.values()) controller.abort(new Error('scanner-worker: shutting down, grace period over'));
          await closed;
        }
        await Promise.all([...queues.values()].map((entry) => entry.queue.close()));
      })();
      return closing;
    },
  };
}
