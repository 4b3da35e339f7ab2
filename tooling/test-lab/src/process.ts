import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { waitForPort } from './net.ts';

export interface ServiceProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. Idempotent. */
  stop(options?: { graceMs?: number; signal?: NodeJS.Signals }): Promise<void>;
}

export interface SpawnServiceOptions {
  /** Wait until 127.0.0.1:port accepts connections before resolving. */
  port?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** @default 15000 */
  startTimeoutMs?: number;
}

/** Spawns a long-running service, waits until it listens, and stops it on dispose. */
export async function spawnService(command: string, args: readonly string[], options: SpawnServiceOptions = {}): Promise<ServiceProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = once(child, 'exit').then(() => undefined);
  let alive = true;
  void exited.then(() => { alive = false; });

  const stop: ServiceProcess['stop'] = async ({ graceMs = 3_000, signal = 'SIGTERM' } = {}) => {
    if (!alive) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  if (options.port !== undefined) {
    try {
      await waitForPort(options.port, { timeoutMs: options.startTimeoutMs ?? 15_000, isAlive: () => alive });
    } catch (error) {
      await stop({ graceMs: 500 });
      throw new Error(`${(error as Error).message}\n${command} said:\n${output}`, { cause: error });
    }
  }

  return { child, output: () => output, stop, [Symbol.asyncDispose]: () => stop() };
}
