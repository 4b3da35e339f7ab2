// The lab of the worker's end-to-end tests: a source registry (open) and two targets (htpasswd, token auth),
// real CNCF distribution registries from test-lab; a Docker config with the targets' credentials; a config
// directory; and helpers to start the worker in-process or as a child process.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { seedTags, skopeoInspectRaw, startFaultProxy, startRegistry, tempDir } from '@scanner/test-lab';
import type { FaultProxy, Registry, TempDir } from '@scanner/test-lab';
import { createHash } from 'node:crypto';

export interface MirrorLab extends AsyncDisposable {
  readonly source: Registry;
  readonly main: Registry;
  readonly regional: Registry;
  /** A fault proxy in front of `source`; team files may name the source by its host (`sourceHost`). */
  readonly sourceProxy: FaultProxy;
  readonly sourceHost: string;
  /** A fault proxy in front of `main`; `targets.yaml` and the Docker config name `main` by the proxy's host. */
  readonly mainProxy: FaultProxy;
  /** The host the worker reaches `main` at (the proxy's). */
  readonly mainHost: string;
  /** The config directory (targets.yaml and team files). */
  readonly configDir: string;
  /** A directory with the Docker `config.json` holding the targets' credentials: `DOCKER_CONFIG`. */
  readonly dockerConfigDir: string;
  /** Every password of the lab, to check that none leaks. */
  readonly secrets: readonly string[];
  /** Writes a file of the config directory. */
  write(file: string, content: string): Promise<void>;
  /** The digest of `host/repo:tag` as skopeo sees it, or undefined when absent. */
  digest(reference: string): Promise<string | undefined>;
  /** The registry of a host. */
  registryOf(host: string): Registry;
}

export const sha256 = (bytes: string | Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Starts the registries and writes `targets.yaml` (main, regional with prefix `acme`) and the Docker config. */
export async function startMirrorLab(): Promise<MirrorLab> {
  const started: AsyncDisposable[] = [];
  let dir: TempDir | undefined;
  try {
    const [source, main, regional] = await Promise.all([startRegistry({ auth: 'none' }), startRegistry({ auth: 'basic' }), startRegistry({ auth: 'token' })]);
    started.push(source, main, regional);
    const [sourceProxy, mainProxy] = await Promise.all([startFaultProxy({ upstream: source.url }), startFaultProxy({ upstream: main.url })]);
    started.push(sourceProxy, mainProxy);
    dir = await tempDir('scanner-worker-lab-');
    const configDir = join(dir.path, 'config');
    const dockerConfigDir = join(dir.path, 'docker');
    await Promise.all([mkdir(configDir), mkdir(dockerConfigDir)]);
    const auth = (registry: Registry): string => Buffer.from(`${registry.credentials?.username ?? ''}:${registry.credentials?.password ?? ''}`).toString('base64');
    await writeFile(join(dockerConfigDir, 'config.json'), JSON.stringify({ auths: { [mainProxy.host]: { auth: auth(main) }, [regional.host]: { auth: auth(regional) } } }));
    await writeFile(join(configDir, 'targets.yaml'), `targets:\n  - name: main\n    registry: ${mainProxy.host}\n  - name: regional\n    registry: ${regional.host}\n    prefix: acme\n`);
    const byHost = new Map([source, main, regional].map((registry) => [registry.host, registry]));
    byHost.set(mainProxy.host, main);
    byHost.set(sourceProxy.host, source);
    const labDir = dir;
    return {
      source,
      main,
      regional,
      mainProxy,
      mainHost: mainProxy.host,
      sourceProxy,
      sourceHost: sourceProxy.host,
      configDir,
      dockerConfigDir,
      secrets: [main.credentials?.password ?? '', regional.credentials?.password ?? ''].filter((secret) => secret !== ''),
      write: (file, content) => writeFile(join(configDir, file), content),
      registryOf(host) {
        const registry = byHost.get(host);
        if (registry === undefined) throw new Error(`no lab registry at ${host}`);
        return registry;
      },
      async digest(reference) {
        const host = reference.slice(0, reference.indexOf('/'));
        const registry = byHost.get(host);
        try {
          const direct = registry === undefined ? reference : `${registry.host}${reference.slice(host.length)}`;
          const raw = await skopeoInspectRaw(`docker://${direct}`, registry?.credentials === undefined ? {} : { creds: registry.credentials });
          return sha256(raw);
        } catch (error) {
          if (/manifest unknown|not found|name unknown/i.test(String(error))) return undefined;
          throw error;
        }
      },
      async [Symbol.asyncDispose]() {
        await Promise.allSettled(started.reverse().map((resource) => resource[Symbol.asyncDispose]()));
        await labDir[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((resource) => resource[Symbol.asyncDispose]()));
    await dir?.[Symbol.asyncDispose]();
    throw error;
  }
}

/** Seeds `repository` in the lab's source registry with `tags` (one image, reproducible from `seed`). */
export async function seedSource(lab: MirrorLab, repository: string, tags: readonly string[], seed = repository, layerBytes = 1024): Promise<string> {
  const artifact = await seedTags(lab.source, repository, tags, { seed, layers: [{ size: layerBytes }] });
  return artifact.digest;
}

/** A writable that keeps every line written, parsed as JSON (pino's output). */
export interface LogSink extends Writable {
  readonly lines: string[];
  records(): Record<string, unknown>[];
  text(): string;
}

export function logSink(): LogSink {
  const lines: string[] = [];
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter((line) => line !== ''));
      callback();
    },
  }) as LogSink;
  Object.assign(sink, {
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => lines.join('\n'),
  });
  return sink;
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

import { createScanCache } from './main.ts';
import { createLogger } from './log.ts';
import type { WorkerOptions } from './options.ts';
import { createSyncEngine } from './sync-engine.ts';
import { startWorker } from './worker.ts';
import type { RunningWorker } from './worker.ts';

/** Options for a test worker: loopback on a free port, a long interval, short grace and debounce. */
export function testOptions(configDir: string, overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  return {
    configDir,
    listen: { host: '127.0.0.1', port: 0 },
    redisUrl: undefined,
    redisPrefix: `scanner-worker-test`,
    intervalMs: 3_600_000,
    concurrency: 4,
    registryConcurrency: 2,
    gracePeriodMs: 2_000,
    jobLockMs: 30_000,
    reloadDebounceMs: 100,
    cacheTtlMs: 60_000,
    registriesConfig: undefined,
    insecure: false,
    logLevel: 'debug',
    triggerToken: undefined,
    ...overrides,
  };
}

/** Starts a worker in this process against the lab, its log going to `log`. */
export async function startTestWorker(lab: MirrorLab, log: LogSink, overrides: Partial<WorkerOptions> = {}): Promise<RunningWorker> {
  const options = testOptions(lab.configDir, overrides);
  const env = { DOCKER_CONFIG: lab.dockerConfigDir };
  const logger = createLogger({ level: options.logLevel, secrets: () => [...lab.secrets, ...(options.triggerToken === undefined ? [] : [options.triggerToken])], destination: log });
  return startWorker(options, {
    logger,
    createEngine: async (redis) =>
      createSyncEngine({ registriesConfig: undefined, insecure: false, env, cache: await createScanCache(options, redis), cacheTtlMs: options.cacheTtlMs, userAgent: 'scanner-worker-test' }),
  });
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('./bin.ts', import.meta.url));

/** A `scanner-worker` child process. */
export interface WorkerProcess extends AsyncDisposable {
  readonly pid: number;
  /** `http://127.0.0.1:PORT`, from its `worker started` log line. */
  readonly url: string;
  /** Every JSON log line so far. */
  records(): Record<string, unknown>[];
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves the exit code (or the signal's name) once the process ended. */
  readonly exited: Promise<number | string>;
}

/** Starts `scanner-worker` (from source, as `pnpm worker` does) with `args` and waits for its HTTP address. */
export async function spawnWorker(args: readonly string[], env: Readonly<Record<string, string>>, startTimeoutMs = 20_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--conditions=@scanner/source', BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // A test that times out never reaches its dispose: the worker must not outlive the test process.
  const orphan = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', orphan);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', orphan);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const records = (): Record<string, unknown>[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const started = await Promise.race([
    eventually(() => records().find((record) => record['msg'] === 'worker started'), startTimeoutMs, 'the worker to start'),
    exited.then((code) => {
      throw new Error(`scanner-worker exited (${String(code)}) before it started:\n${stdout}\n${stderr}`);
    }),
  ]);
  return {
    pid: child.pid ?? 0,
    url: String(started['url']),
    records,
    output: () => `${stdout}\n${stderr}`,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
