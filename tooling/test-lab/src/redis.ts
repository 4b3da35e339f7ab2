import { freePort } from './net.ts';
import { spawnService } from './process.ts';
import type { ServiceProcess } from './process.ts';
import { tempDir } from './temp-dir.ts';
import type { TempDir } from './temp-dir.ts';

/** A real `redis-server` on a free loopback port, with no persistence. */
export interface RedisServer extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Whether the server process is running (false after `stop()` or `kill()` until `restart()`). */
  readonly running: boolean;
  /** Everything the current server process wrote, for failure messages. */
  output(): string;
  /** Stops the server gracefully (SIGTERM). Idempotent. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would; clients see their connections reset. */
  kill(): Promise<void>;
  /** Stops the server if it runs and starts a fresh, empty one on the same port. */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered, as when Redis hangs. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT). */
  resume(): void;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** @default 'redis-server' on PATH */
  binary?: string;
}

/**
 * Starts `redis-server` on a free port bound to 127.0.0.1, with snapshots and the append-only file off and its
 * working directory in a temp dir removed on dispose.
 *
 * @example
 * await using redis = await startRedis();
 * const cache = createRedisCache({ url: redis.url });
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? 'redis-server';
  const port = await freePort();
  const dir: TempDir = await tempDir('scanner-redis-');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir.path];
  let service: ServiceProcess | undefined;

  const spawn = async (): Promise<void> => {
    const started = await spawnService(binary, args, { port });
    service = started;
    // Tracks a crash or an outside kill, so `running` tells the truth.
    started.child.once('exit', () => {
      if (service === started) service = undefined;
    });
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const current = service;
    service = undefined;
    // A frozen process would only take SIGTERM once continued.
    current?.child.kill('SIGCONT');
    await current?.stop({ signal, graceMs: 3_000 });
  };

  try {
    await spawn();
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return service !== undefined;
    },
    output: () => service?.output() ?? '',
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    pause: () => {
      if (service === undefined) throw new Error('test-lab: redis-server is not running, so it cannot be paused');
      service.child.kill('SIGSTOP');
    },
    resume: () => {
      service?.child.kill('SIGCONT');
    },
    restart: async () => {
      await halt('SIGTERM');
      await spawn();
    },
    [Symbol.asyncDispose]: async () => {
      await halt('SIGTERM');
      await dir[Symbol.asyncDispose]();
    },
  };
}
