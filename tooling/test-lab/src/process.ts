import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { waitForPort } from './net.ts';
import { TestLabError } from './errors.ts';

/** A long-running child process started by `spawnService`. */
export interface ServiceProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. Idempotent. */
  stop(options?: { graceMs?: number; signal?: NodeJS.Signals }): Promise<void>;
}

/** How `spawnService` starts a process and decides it is ready. */
export interface SpawnServiceOptions {
  /** Wait until 127.0.0.1:port accepts connections before resolving. */
  port?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** @default 15000 */
  startTimeoutMs?: number;
}

// Services still running when this process exits (a crashed or killed test worker, a forgotten dispose) would
// outlive it as orphans; 'exit' handlers must be synchronous, and kill() is.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const service of running) service.kill('SIGKILL');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** Spawns a long-running service, waits until it listens, and stops it on dispose. */
export async function spawnService(command: string, args: readonly string[], options: SpawnServiceOptions = {}): Promise<ServiceProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
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
      throw new TestLabError(error instanceof TestLabError ? error.code : 'START_FAILED', `${(error as Error).message}\n${command} said:\n${output}`, { cause: error });
    }
  }

  return { child, output: () => output, stop, [Symbol.asyncDispose]: () => stop() };
}

/** How `runCommand` runs a short command. */
export interface RunCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin. */
  input?: string;
  signal?: AbortSignal;
  /** @default 60000 */
  timeoutMs?: number;
  /** Strings (passwords, tokens) replaced by `***` in the error thrown when the command fails. */
  secrets?: readonly string[];
}

/** What a command printed. */
export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a short command to completion; rejects with its output (secrets masked) when it exits non-zero. */
export async function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 60_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  // A command that exits without reading stdin makes the write fail with EPIPE; its exit code tells the story.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const mask = (text: string): string => {
    let masked = text;
    for (const secret of options.secrets ?? []) if (secret) masked = masked.split(secret).join('***');
    return masked;
  };
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', (error) => { reject(new TestLabError(error.message.includes('ENOENT') ? 'BINARY_MISSING' : 'COMMAND_FAILED', mask(`test-lab: could not run ${command}: ${error.message}`), { cause: error })); });
    child.once('close', (exitCode, exitSignal) => { resolve([exitCode, exitSignal]); });
  });
  if (code !== 0) {
    const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with ${code}`;
    throw new TestLabError('COMMAND_FAILED', mask(`test-lab: \`${command} ${args.join(' ')}\` ${how}\n${stderr}${stdout}`));
  }
  return { stdout, stderr };
}
