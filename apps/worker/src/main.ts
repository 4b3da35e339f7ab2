import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { Cache } from '@scanner/registry';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import { USAGE, WorkerOptionsError, parseWorkerOptions } from './options.ts';
import type { WorkerOptions } from './options.ts';
import { createSyncEngine } from './sync-engine.ts';
import { startWorker } from './worker.ts';
import type { RunningWorker } from './worker.ts';

/** What {@link main} runs with. */
export interface MainIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where SIGTERM/SIGINT/SIGHUP come from. @default process */
  readonly signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** The user agent the worker sends to registries. */
export const USER_AGENT = 'scanner-worker (+https://github.com/registry-scanner/registry-scanner)';

/** Secrets in the options that must never be logged. */
function secretsOf(options: WorkerOptions): string[] {
  const secrets: string[] = [];
  if (options.triggerToken !== undefined) secrets.push(options.triggerToken);
  if (options.redisUrl !== undefined) {
    try {
      const url = new URL(options.redisUrl);
      if (url.password !== '') secrets.push(decodeURIComponent(url.password));
    } catch {
      // Validated as a redis:// URL already; an unparsable one holds no password we could find.
    }
  }
  return secrets;
}

/** Builds the scan cache: in Redis with `--redis` (its own fail-fast connection), else in memory. */
export async function createScanCache(options: WorkerOptions, redis: Redis | undefined): Promise<Cache> {
  if (redis !== undefined && options.redisUrl !== undefined) {
    const { createRedisCache } = await import('@scanner/cache-redis');
    return createRedisCache({ url: options.redisUrl, keyPrefix: `${options.redisPrefix}:`, namespace: 'scan-cache' });
  }
  const { createMemoryCache } = await import('@scanner/cache-memory');
  // Tag lists are shared between the targets of one image within minutes; a long-lived process needs no more,
  // and expired entries stay until evicted, so the bound is what the cache costs in steady state.
  return createMemoryCache({ namespace: 'scanner-worker', maxBytes: 8 * 1024 * 1024, maxEntries: 5_000 });
}

/**
 * Why the config directory cannot be watched, or undefined when it is a directory (an empty or invalid one is
 * not a start-up error: the worker waits for a valid config and says so on `/readyz`).
 */
async function configDirProblem(dir: string): Promise<string | undefined> {
  try {
    return (await stat(dir)).isDirectory() ? undefined : 'is not a directory; give the directory holding targets.yaml and the team files';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist; give the directory holding targets.yaml and the team files';
    if (code === 'EACCES') return 'cannot be read (permission denied)';
    return `cannot be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * Starts the worker from argv and the environment and runs until SIGTERM or SIGINT; SIGHUP reloads the config.
 * Resolves the exit code: 0 after a clean shutdown, 2 for bad options (a config directory that is missing or not a
 * directory included), 1 when starting failed.
 */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let parsed;
  try {
    parsed = parseWorkerOptions(argv, io.env);
  } catch (error) {
    if (error instanceof WorkerOptionsError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (parsed.kind === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { options } = parsed;
  const dirProblem = await configDirProblem(options.configDir);
  if (dirProblem !== undefined) {
    io.stderr.write(`scanner-worker: --config ${JSON.stringify(options.configDir)} ${dirProblem}\n`);
    return 2;
  }
  const secrets = secretsOf(options);
  const logger: Logger = createLogger({ level: options.logLevel, secrets: () => secrets });
  const signals = io.signals ?? process;

  let worker: RunningWorker;
  try {
    worker = await startWorker(options, {
      logger,
      createEngine: async (redis) =>
        createSyncEngine({
          registriesConfig: options.registriesConfig,
          insecure: options.insecure,
          env: io.env,
          cache: await createScanCache(options, redis),
          cacheTtlMs: options.cacheTtlMs,
          userAgent: USER_AGENT,
        }),
    });
  } catch (error) {
    const { code, syscall } = error as { code?: unknown; syscall?: unknown };
    if (syscall === 'listen' && (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')) {
      // A flag problem, told like the other flag problems: one line, exit 2.
      const { host, port } = options.listen;
      const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied (a port below 1024?)' : 'no such address on this machine';
      logger.flush();
      io.stderr.write(`scanner-worker: --listen ${address}: ${why}\n`);
      return 2;
    }
    logger.fatal({ err: error }, 'worker failed to start');
    logger.flush();
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'signal received');
      signals.off('SIGHUP', hangup);
      void worker.close().then(() => {
        signals.off('SIGTERM', onTerm);
        signals.off('SIGINT', onInt);
        logger.flush();
        resolve(0);
      });
    };
    const onTerm = (): void => {
      stop('SIGTERM');
    };
    const onInt = (): void => {
      stop('SIGINT');
    };
    const hangup = (): void => {
      worker.reload('SIGHUP').catch((error: unknown) => {
        logger.error({ err: error }, 'config reload failed');
      });
    };
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
    signals.on('SIGHUP', hangup);
  });
}
