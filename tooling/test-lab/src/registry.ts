import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinary } from './binary.ts';
import { freePort } from './net.ts';
import { runCommand, spawnService, type ServiceProcess } from './process.ts';
import { tempDir } from './temp-dir.ts';
import { startTokenServer, type TokenKeyReference, type TokenKeyType, type TokenServer } from './token-server.ts';
import { TestLabError } from './errors.ts';

/** How the registry authenticates clients. */
export type RegistryAuthMode = 'none' | 'basic' | 'token';

/** The one user of a registry started with `auth: 'basic'` or `'token'`. */
export interface Credentials {
  username: string;
  password: string;
}

/** How `startRegistry` configures the registry. */
export interface StartRegistryOptions {
  /** @default 'none' */
  auth?: RegistryAuthMode;
  /** The user that may push (basic: htpasswd entry; token: Basic auth at the token server). @default generated */
  username?: string;
  /** @default generated */
  password?: string;
  /**
   * Token mode: repositories anonymous users may pull (exact names or patterns tested against the whole
   * name), or `'all'`.
   * @default []
   */
  publicRepositories?: readonly (string | RegExp)[] | 'all';
  /** Token mode: lifetime of issued tokens (`expires_in`, JWT `exp`). @default 300 */
  tokenLifetimeSeconds?: number;
  /** Token mode: signing key type. @default 'ec' */
  tokenKey?: TokenKeyType;
  /** Token mode: how the JWT header names its key. @default 'kid' */
  tokenKeyReference?: TokenKeyReference;
  /** @default 15000 */
  startTimeoutMs?: number;
}

/** A running `docker-registry` (CNCF distribution 2.8) on a free loopback port. */
export interface Registry extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` (same as `origin`). */
  readonly url: string;
  readonly origin: string;
  /** `127.0.0.1:PORT`, the registry part of image references. */
  readonly host: string;
  readonly port: number;
  readonly auth: RegistryAuthMode;
  /** The user that may push; undefined for `auth: 'none'`. */
  readonly credentials: Credentials | undefined;
  /** The in-process token server; only for `auth: 'token'`. */
  readonly tokenServer: TokenServer | undefined;
  /** Temp dir holding config.yml, storage, htpasswd and keys; removed on stop. */
  readonly dir: string;
  /** What docker-registry printed so far (access log included), for failure messages. */
  logs(): string;
  /** Stops the registry and the token server, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const TOKEN_SERVICE = 'test-lab-registry';

/**
 * Starts the real `docker-registry` with a generated config (filesystem storage in a temp dir, delete
 * enabled, no TLS, no debug server) on a free 127.0.0.1 port and waits until it listens.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<Registry> {
  const auth = options.auth ?? 'none';
  if (!['none', 'basic', 'token'].includes(auth)) throw new TestLabError('INVALID_OPTION', `test-lab: unknown registry auth mode ${JSON.stringify(auth)}; use 'none', 'basic' or 'token'`);
  const binary = findBinary('docker-registry');
  if (binary === undefined) throw new TestLabError('BINARY_MISSING', 'test-lab: docker-registry is not installed; run `npm run setup` (Debian: apt-get install docker-registry)');

  const dir = await tempDir('scanner-registry-');
  const credentials: Credentials | undefined = auth === 'none' ? undefined : {
    username: options.username ?? `user-${randomBytes(3).toString('hex')}`,
    password: options.password ?? randomBytes(12).toString('base64url'),
  };
  let tokenServer: TokenServer | undefined;
  let service: ServiceProcess | undefined;
  try {
    const storage = join(dir.path, 'storage');
    const [port, authConfig] = await Promise.all([
      freePort(),
      (async (): Promise<Record<string, unknown> | undefined> => {
        if (auth === 'basic' && credentials) {
          const path = join(dir.path, 'htpasswd');
          const { stdout } = await runCommand('htpasswd', ['-Bbn', credentials.username, credentials.password], { secrets: [credentials.password] });
          await writeFile(path, stdout.trim() + '\n');
          return { htpasswd: { realm: 'test-lab', path } };
        }
        if (auth === 'token' && credentials) {
          tokenServer = await startTokenServer({
            dir: dir.path,
            service: TOKEN_SERVICE,
            users: [credentials],
            publicRepositories: options.publicRepositories ?? [],
            ...(options.tokenLifetimeSeconds === undefined ? {} : { lifetimeSeconds: options.tokenLifetimeSeconds }),
            ...(options.tokenKey === undefined ? {} : { keyType: options.tokenKey }),
            ...(options.tokenKeyReference === undefined ? {} : { keyReference: options.tokenKeyReference }),
          });
          return { token: { realm: tokenServer.url, service: tokenServer.service, issuer: tokenServer.issuer, rootcertbundle: tokenServer.certificatePath } };
        }
        return undefined;
      })(),
      mkdir(storage),
    ]);

    // YAML is a superset of JSON, so the config is written as JSON.
    const config = {
      version: '0.1',
      log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
      storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true }, cache: { blobdescriptor: 'inmemory' }, maintenance: { uploadpurging: { enabled: false } } },
      http: { addr: `127.0.0.1:${port}`, headers: { 'X-Content-Type-Options': ['nosniff'] } },
      ...(authConfig ? { auth: authConfig } : {}),
    };
    const configPath = join(dir.path, 'config.yml');
    await writeFile(configPath, JSON.stringify(config, null, 2));

    // REGISTRY_* variables would override the generated config.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_')));
    service = await spawnService(binary, ['serve', configPath], { port, cwd: dir.path, env, startTimeoutMs: options.startTimeoutMs ?? 15_000 });

    const origin = `http://127.0.0.1:${port}`;
    const running = service;
    const server = tokenServer;
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        await Promise.allSettled([running.stop({ graceMs: 2_000 }), server?.stop()]);
        await dir[Symbol.asyncDispose]();
      })();
      return stopped;
    };
    return {
      url: origin,
      origin,
      host: `127.0.0.1:${port}`,
      port,
      auth,
      credentials,
      tokenServer,
      dir: dir.path,
      logs: () => running.output(),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await Promise.allSettled([service?.stop({ graceMs: 500 }), tokenServer?.stop()]);
    await dir[Symbol.asyncDispose]();
    throw error;
  }
}
