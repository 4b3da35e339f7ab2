import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { MirrorImage } from '@scanner/sync';
import { createConfigStore } from './config-store.ts';
import { watchConfigDir } from './config-watch.ts';
import type { SyncEngine } from './engine.ts';
import { createHttpApp } from './http.ts';
import type { TriggerFilter } from './http.ts';
import { jobId } from './job.ts';
import type { JobData, JobReason } from './job.ts';
import type { Logger } from './log.ts';
import { createMemoryQueue } from './memory-queue.ts';
import { createWorkerMetrics } from './metrics.ts';
import type { WorkerOptions } from './options.ts';
import type { QueueLimits, WorkQueue } from './queue.ts';
import { createJobRunner } from './run-job.ts';
import { createScheduler } from './scheduler.ts';
import { TARGET_STATES, buildStatus, imageSelection, stateOf } from './status.ts';
import type { StatusDocument } from './status.ts';
import { createMemoryStatusStore, createRedisStatusStore } from './status-store.ts';
import type { RunRecord, StatusStore } from './status-store.ts';

/** A running worker. Dispose it (or `close()`) to shut down: the same path SIGTERM takes. */
export interface RunningWorker extends AsyncDisposable {
  /** `http://host:port` the HTTP server listens on. */
  readonly url: string;
  /** The HTTP app, for `app.request()`. */
  readonly app: Hono;
  /** Reads the config directory again (what a file change or SIGHUP does). */
  reload(reason: string): Promise<void>;
  /**
   * Shuts down in reverse order of start: config watcher, scheduler, queue (running copies get the grace period,
   * then are aborted and handed back), HTTP server, sync engine, Redis. Idempotent.
   */
  close(): Promise<void>;
}

/** What {@link startWorker} is given besides the options. */
export interface WorkerDependencies {
  readonly logger: Logger;
  /** Creates the sync engine once the Redis client (if any) exists, so the engine can share it for its scan cache. */
  readonly createEngine: (redis: Redis | undefined) => Promise<SyncEngine>;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The composition root: builds every part from the validated options and starts them. */
export async function startWorker(options: WorkerOptions, deps: WorkerDependencies): Promise<RunningWorker> {
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const owned: { name: string; close: () => Promise<void> | void }[] = [];
  let closing: Promise<void> | undefined;
  let server: Server | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info({ gracePeriodMs: options.gracePeriodMs }, 'shutting down');
      for (const resource of owned.reverse()) {
        try {
          await resource.close();
        } catch (error) {
          logger.warn({ err: error, resource: resource.name }, 'close failed');
        }
      }
      logger.info('stopped');
    })();
    return closing;
  };

  try {
    let redis: Redis | undefined;
    if (options.redisUrl !== undefined) {
      // Loaded only for scale-out: ioredis and BullMQ are most of the worker's start-up cost.
      const { Redis: RedisClient } = await import('ioredis');
      const client = new RedisClient(options.redisUrl, {
        // BullMQ's blocking commands need unlimited retries; the worker reconnects forever while serving HTTP.
        maxRetriesPerRequest: null,
        retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 10), 5_000),
        connectionName: 'scanner-worker',
        lazyConnect: true,
      });
      redis = client;
      owned.push({
        name: 'redis',
        close: async () => {
          await client.quit().catch(() => {
            client.disconnect();
          });
        },
      });
      client.on('error', (error: Error) => {
        logger.debug({ err: error }, 'redis connection error');
      });
      await client.connect().catch((error: unknown) => {
        logger.warn({ err: error }, 'redis not reachable at start; serving HTTP and retrying');
      });
    }

    const engine = await deps.createEngine(redis);
    owned.push({ name: 'sync engine', close: async () => { await engine[Symbol.asyncDispose](); } });

    const status: StatusStore = redis === undefined ? createMemoryStatusStore() : createRedisStatusStore({ connection: redis, prefix: options.redisPrefix });
    const createRedisQueue = redis === undefined ? undefined : (await import('./redis-queue.ts')).createRedisQueue;
    const config = createConfigStore({ dir: options.configDir, engine, now });

    const limits: QueueLimits = {
      concurrency: options.concurrency,
      registryConcurrency: (registry) => engine.registryConcurrency(registry) ?? options.registryConcurrency,
    };
    const onRunnerError = (job: JobData, error: unknown): void => {
      logger.error({ err: error, imageId: job.imageId, target: job.targetName }, 'job failed to run');
    };
    const queue: WorkQueue =
      redis === undefined || createRedisQueue === undefined
        ? createMemoryQueue({ limits, onRunnerError })
        : createRedisQueue({
            connection: redis,
            limits,
            prefix: options.redisPrefix,
            lockMs: options.jobLockMs,
            onRunnerError,
            onQueueError: (error) => {
              logger.debug({ err: error }, 'queue error');
            },
          });

    const notReadyReasons = (): string[] => {
      const reasons: string[] = [];
      if (closing !== undefined) reasons.push('shutting down');
      if (config.config() === undefined) reasons.push('config not loaded: targets.yaml was never valid');
      if (redis !== undefined && redis.status !== 'ready') reasons.push('Redis not reachable');
      else if (!queue.ready()) reasons.push('queue not ready');
      return reasons;
    };

    const metrics = createWorkerMetrics({
      async tagCounts() {
        const rows = new Map<string, { team: string; target: string; result: string; count: number }>();
        const records = await status.all().catch((): ReadonlyMap<string, RunRecord> => new Map());
        for (const image of config.config()?.images ?? []) {
          for (const name of image.targets) {
            const record = records.get(jobId({ imageId: image.id, targetName: name }));
            if (record === undefined) continue;
            for (const [result, count] of [['up_to_date', record.upToDate.length], ['missing', record.missing.length], ['failed', record.failed.length]] as const) {
              const key = `${image.owner}\0${name}\0${result}`;
              const row = rows.get(key) ?? { team: image.owner, target: name, result, count: 0 };
              row.count += count;
              rows.set(key, row);
            }
          }
        }
        return [...rows.values()];
      },
      async imageCounts() {
        const rows = new Map<string, { team: string; target: string; result: string; count: number }>();
        const records = await status.all().catch((): ReadonlyMap<string, RunRecord> => new Map());
        for (const image of config.config()?.images ?? []) {
          for (const name of image.targets) {
            // Every state of a (team, target) is exported, 0 included, so that an alert on it resolves.
            for (const result of TARGET_STATES) {
              const key = `${image.owner}\0${name}\0${result}`;
              if (!rows.has(key)) rows.set(key, { team: image.owner, target: name, result, count: 0 });
            }
            const target = config.target(name);
            const selection = target === undefined ? undefined : imageSelection(image, target);
            const row = rows.get(`${image.owner}\0${name}\0${stateOf(records.get(jobId({ imageId: image.id, targetName: name })), selection)}`);
            if (row !== undefined) row.count++;
          }
        }
        return [...rows.values()];
      },
      queueCounts: () => queue.counts(),
      configFiles() {
        const files = config.files();
        return { valid: files.filter((file) => file.valid).length, invalid: files.filter((file) => !file.valid).length };
      },
      ready: () => notReadyReasons().length === 0,
    });

    const jobsOf = (image: MirrorImage, reason: JobReason): JobData[] =>
      image.targets.flatMap((name) => {
        const target = config.target(name);
        return target === undefined ? [] : [{ imageId: image.id, targetName: name, registry: target.registry, reason }];
      });
    const enqueue = async (images: readonly MirrorImage[], reason: JobReason): Promise<number> => {
      const added = await queue.add(images.flatMap((image) => jobsOf(image, reason)));
      if (added > 0) logger.debug({ added, reason }, 'jobs queued');
      return added;
    };

    const scheduler = createScheduler({
      intervalMs: options.intervalMs,
      now,
      onError: (error) => {
        logger.warn({ err: error }, 'scheduled run not queued (queue unreachable); it is queued again when Redis returns');
      },
      async fire(ids, fireMs) {
        const due: MirrorImage[] = [];
        for (const id of ids) {
          const image = config.image(id);
          // On Redis, the replica that claims the tick queues it; the others skip it.
          if (image !== undefined && (await queue.claimTick(`${id}@${fireMs}`, Math.max(60_000, options.intervalMs)))) due.push(image);
        }
        await enqueue(due, 'schedule');
      },
    });

    const serveTargets = async (): Promise<void> => {
      const current = config.config();
      if (current === undefined) return;
      await queue.serve([...new Set(current.targets.map((target) => target.registry))]).catch((error: unknown) => {
        logger.warn({ err: error }, 'queues of the target registries not ready (Redis down?); served when Redis returns');
      });
    };

    let lastIssues = '';
    const reload = async (reason: string): Promise<void> => {
      if (closing !== undefined) return;
      const change = await config.load();
      const files = config.files();
      const invalid = files.filter((file) => !file.valid);
      metrics.configLoaded(invalid.length === 0 ? 'success' : 'failure');
      const issues = JSON.stringify(invalid.map((file) => file.issues));
      if (issues !== lastIssues) {
        for (const file of invalid) {
          logger.error({ file: file.file, owner: file.owner, inForce: file.inForce, issues: file.issues.map((issue) => `${issue.file}${issue.line === undefined ? '' : `:${issue.line}:${issue.column ?? 0}`} ${issue.path}: ${issue.message}`) }, 'config file invalid; its last valid version stays in force');
        }
        lastIssues = issues;
      }
      const current = config.config();
      await serveTargets();
      logger.info({ reason, files: files.length, invalid: invalid.length, images: current?.images.length ?? 0, changed: change.changed.length, removed: change.removed.length }, 'config loaded');
      if (current === undefined) return;
      scheduler.update(current.images);
      const images = change.targetsChanged ? current.images : change.changed.flatMap((id) => config.image(id) ?? []);
      if (reason !== 'start' && images.length > 0) {
        await enqueue(images, 'reload').catch((error: unknown) => {
          logger.warn({ err: error }, 'changed images not queued (queue unreachable); they run on schedule');
        });
      }
    };

    const runner = createJobRunner({ engine, config, status, metrics, logger, now });
    await queue.start(runner);
    owned.push({ name: 'queue', close: () => queue.close(options.gracePeriodMs) });
    await reload('start').catch((error: unknown) => {
      logger.error({ err: error, configDir: options.configDir }, 'config not loaded; not ready until a reload succeeds');
    });
    owned.push({ name: 'scheduler', close: () => { scheduler.close(); } });

    const startupRun = async (reason: JobReason): Promise<void> => {
      const current = config.config();
      if (current === undefined) return;
      try {
        // Replicas starting together (a rollout, a scale-up) run each image once: the first to claim it queues it.
        const claimMs = Math.min(options.intervalMs / 2, 15 * 60_000);
        const images: MirrorImage[] = [];
        for (const image of current.images) if (reason !== 'startup' || (await queue.claimTick(`${image.id}@startup`, claimMs))) images.push(image);
        const added = await enqueue(images, reason);
        logger.info({ added, reason }, 'run of every image queued');
      } catch (error) {
        logger.warn({ err: error, reason }, 'run not queued (queue unreachable); queued when Redis returns');
      }
    };
    await startupRun('startup');
    if (redis !== undefined) {
      let wasDown = redis.status !== 'ready';
      redis.on('close', () => {
        if (closing !== undefined) return;
        if (!wasDown) logger.warn('redis connection lost; not ready until it returns');
        wasDown = true;
      });
      redis.on('ready', () => {
        if (!wasDown) return;
        wasDown = false;
        logger.info('redis is back; queueing every image');
        void serveTargets().then(() => startupRun('resume'));
      });
    }

    const state = {
      notReadyReasons,
      triggerToken: options.triggerToken,
      reportError: (error: unknown) => {
        logger.error({ err: error }, 'request failed');
      },
      status: async (): Promise<StatusDocument> => {
        const [records, counts] = await Promise.all([
          status.all().catch((): ReadonlyMap<string, RunRecord> => new Map()),
          queue.counts().catch(() => undefined),
        ]);
        return buildStatus({
          now: now(),
          ready: notReadyReasons().length === 0,
          queue: { kind: queue.kind, waiting: counts?.waiting ?? null, active: counts?.active ?? null },
          dir: options.configDir,
          config: config.config(),
          files: config.files(),
          records,
          nextRunMs: (id) => scheduler.nextRunMs(id),
        });
      },
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
      trigger: async (filter: TriggerFilter) => {
        const images = (config.config()?.images ?? []).filter(
          (image) =>
            (filter.owner === undefined || image.owner === filter.owner) &&
            (filter.image === undefined || image.id === filter.image || `${image.source.registry}/${image.source.repository}` === filter.image || image.source.toString() === filter.image),
        );
        const queued = images.length === 0 ? 0 : await enqueue(images, 'trigger');
        logger.info({ owner: filter.owner, image: filter.image, matched: images.length, queued }, 'sync triggered');
        return { matched: images.length, queued };
      },
    };
    const app = createHttpApp(state);
    const listener = getRequestListener(app.fetch);
    const httpServer = createServer((request, response) => {
      void listener(request, response);
    });
    server = httpServer;
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(options.listen.port, options.listen.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    // Closed after the queue: the status page and probes answer while running copies finish.
    owned.splice(owned.findIndex((resource) => resource.name === 'queue'), 0, {
      name: 'http server',
      close: () =>
        new Promise<void>((resolve) => {
          httpServer.close(() => {
            resolve();
          });
          httpServer.closeIdleConnections();
          setTimeout(() => {
            httpServer.closeAllConnections();
          }, 2_000).unref();
        }),
    });

    const watcher = watchConfigDir({
      dir: options.configDir,
      debounceMs: options.reloadDebounceMs,
      onChange: () => {
        reload('file change').catch((error: unknown) => {
          logger.error({ err: error }, 'config reload failed');
        });
      },
      onError: (error) => {
        logger.warn({ err: error }, 'config directory watch failed; SIGHUP still reloads');
      },
    });
    owned.push({ name: 'config watcher', close: () => { watcher[Symbol.dispose](); } });

    const address = httpServer.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    logger.info({ url, queue: queue.kind, configDir: options.configDir, intervalMs: options.intervalMs }, 'worker started');

    return {
      url,
      app,
      reload,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    server?.close();
    await close();
    throw error;
  }
}
