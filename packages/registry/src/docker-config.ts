import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { createCachedCredentialProvider } from './credential-provider.ts';
import { isDockerHub } from './endpoint.ts';
import { RegistryError } from './errors.ts';
import type { Credential, CredentialProvider } from './settings.ts';
import { lazySchema } from './lazy-schema.ts';

/** The key Docker stores Docker Hub's credentials under, in `auths` and in credential helpers. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

export interface DockerConfigCredentialsOptions {
  /** Directory holding `config.json`. @default $DOCKER_CONFIG, else ~/.docker */
  configDir?: string;
  /** Environment for `$DOCKER_CONFIG` and for credential helpers (their `PATH`). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** @default os.homedir() */
  homeDir?: string;
  /** Time limit for a credential helper. @default 10000 */
  timeoutMs?: number;
  /** Re-read after this long; `undefined` or `0` reads once per registry. */
  expireMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Returns the provider for one registry host; its `get()` resolves `undefined` when Docker holds nothing for it. */
export type DockerConfigCredentials = (registryHost: string) => CredentialProvider;

/**
 * Credentials from Docker's `config.json`, looked up the way the Docker CLI does: `credHelpers[host]`, else
 * `credsStore`, else `auths` (`auth` base64 `user:pass`, or `username`/`password`, or `identitytoken`).
 * A missing `config.json` means no credentials. Providers are memoised per host, so each host's cache and
 * expiry are shared by everyone who asks.
 *
 * @example
 * const docker = createDockerConfigCredentials();
 * const credential = await docker('ghcr.io').get();
 */
export function createDockerConfigCredentials(options: DockerConfigCredentialsOptions = {}): DockerConfigCredentials {
  const env = options.env ?? process.env;
  const configDir = options.configDir ?? nonEmpty(env['DOCKER_CONFIG']) ?? join(options.homeDir ?? homedir(), '.docker');
  const file = join(configDir, 'config.json');
  const providers = new Map<string, CredentialProvider>();

  return (registryHost) => {
    const host = registryHost.toLowerCase();
    let provider = providers.get(host);
    if (provider === undefined) {
      const description = `docker-config:${file} for ${host}`;
      provider = createCachedCredentialProvider({
        description,
        read: async () => {
          const text = await readOptional(file, description);
          if (text === undefined) return undefined;
          const config = await parseDockerConfig(text, file);
          const serverUrl = dockerConfigServerKey(host);
          const helperKey = findDockerConfigKey(Object.keys(config.credHelpers ?? {}), host);
          const helper = helperKey === undefined ? config.credsStore : config.credHelpers?.[helperKey];
          if (helper !== undefined && helper !== '') {
            // Loaded here: most Docker configs name no helper, and node:child_process is not needed without one.
            const { runDockerCredentialHelper } = await import('./credential-helpers.ts');
            return runDockerCredentialHelper(helper, serverUrl, description, {
              env,
              ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
            });
          }
          return credentialFromAuths(config.auths ?? {}, host, file);
        },
        ...(options.expireMs === undefined ? {} : { expireMs: options.expireMs }),
        ...(options.now === undefined ? {} : { now: options.now }),
      });
      providers.set(host, provider);
    }
    return provider;
  };
}

/**
 * Credentials for `registryHost` from a Kubernetes pull secret's `.dockerconfigjson` (or legacy
 * `.dockercfg`) mounted as a file. Unlike Docker's own file, this one was named explicitly, so a missing file
 * is an error.
 */
export function createDockerConfigJsonCredentials(
  path: string,
  registryHost: string,
  options: { expireMs?: number; now?: () => number } = {},
): CredentialProvider {
  const description = `dockerconfigjson:${path} for ${registryHost}`;
  return createCachedCredentialProvider({
    description,
    read: async () => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new RegistryError('credentials', `${description}: cannot read the file (${errorCode(error)})`);
      }
      return credentialFromDockerConfigText(text, `dockerconfigjson:${path}`, registryHost);
    },
    ...options,
  });
}

/**
 * The credential `auths` in a Docker config JSON text holds for `registryHost`, ignoring credential helpers
 * (a Kubernetes pull secret has none). Accepts the legacy `.dockercfg` shape (the `auths` map at top level).
 */
export async function credentialFromDockerConfigText(text: string, source: string, registryHost: string): Promise<Credential | undefined> {
  const json = parseJson(text, source);
  const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
  const wrapped = isObject && 'auths' in json ? json : { auths: json };
  const config = await validateDockerConfig(wrapped, source);
  return credentialFromAuths(config.auths ?? {}, registryHost.toLowerCase(), source);
}

/** The server URL Docker uses for a registry: its full index URL for Docker Hub, else `host[:port]`. */
export function dockerConfigServerKey(registryHost: string): string {
  return isDockerHub(registryHost) ? DOCKER_HUB_CONFIG_KEY : registryHost.toLowerCase();
}

/**
 * Picks the config key that holds `registryHost`, matching like Docker: the exact server key first
 * (`https://index.docker.io/v1/` for Docker Hub, `host[:port]` otherwise), then any key whose host part —
 * after dropping `http(s)://` and any path — equals the registry's `host[:port]`. For Docker Hub, keys naming
 * `docker.io`, `index.docker.io` or `registry-1.docker.io` also match, as Kubernetes allows. First match in
 * file order wins.
 */
export function findDockerConfigKey(keys: Iterable<string>, registryHost: string): string | undefined {
  const host = registryHost.toLowerCase();
  const serverKey = dockerConfigServerKey(host);
  const all = [...keys];
  const exact = all.find((key) => key.toLowerCase() === serverKey);
  if (exact !== undefined) return exact;
  const hub = isDockerHub(host);
  return all.find((key) => {
    const keyHost = hostOfConfigKey(key);
    return keyHost === host || (hub && isDockerHub(keyHost));
  });
}

function hostOfConfigKey(key: string): string {
  const withoutScheme = key.toLowerCase().replace(/^https?:\/\//, '');
  const slash = withoutScheme.indexOf('/');
  return slash === -1 ? withoutScheme : withoutScheme.slice(0, slash);
}

const dockerConfigSchema = lazySchema((z) => {
  const authEntry = z.looseObject({
    auth: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    identitytoken: z.string().optional(),
  });
  return z.looseObject({
    auths: z.record(z.string(), authEntry).optional(),
    credHelpers: z.record(z.string(), z.string()).optional(),
    credsStore: z.string().optional(),
  });
});

type DockerConfig = z.infer<Awaited<ReturnType<typeof dockerConfigSchema>>>;
type AuthEntry = NonNullable<DockerConfig['auths']>[string];

async function parseDockerConfig(text: string, source: string): Promise<DockerConfig> {
  return validateDockerConfig(parseJson(text, source), source);
}

async function validateDockerConfig(json: unknown, source: string): Promise<DockerConfig> {
  const parsed = (await dockerConfigSchema()).safeParse(json);
  if (!parsed.success) {
    // Issue paths and zod's messages name keys and types, never values.
    const issues = parsed.error.issues.map((issue) => `${formatJsonPath(issue.path)}: ${issue.message}`).join('; ');
    throw new RegistryError('credentials', `${source} is not a valid Docker config: ${issues}`);
  }
  return parsed.data;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // JSON.parse's message quotes the text around the error, which may be a password.
    throw new RegistryError('credentials', `${source} is not valid JSON; check it with \`jq . <file>\``);
  }
}

function credentialFromAuths(auths: Readonly<Record<string, AuthEntry>>, host: string, source: string): Credential | undefined {
  const key = findDockerConfigKey(Object.keys(auths), host);
  const entry = key === undefined ? undefined : auths[key];
  if (key === undefined || entry === undefined) return undefined;
  let { username, password } = entry;
  if (entry.auth !== undefined && entry.auth !== '') {
    const decoded = decodeAuth(entry.auth);
    if (decoded === undefined) {
      throw new RegistryError('credentials', `${source}: auths["${key}"].auth is not base64 of username:password; run docker login again`);
    }
    ({ username, password } = decoded);
  }
  if (entry.identitytoken !== undefined && entry.identitytoken !== '') {
    return { kind: 'identity-token', token: entry.identitytoken, ...(username === undefined || username === '' ? {} : { username }) };
  }
  if (username === undefined || username === '' || password === undefined || password === '') return undefined;
  return { kind: 'basic', username, password };
}

function decodeAuth(auth: string): { username: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(auth.trim())) return undefined;
  const decoded = Buffer.from(auth.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readOptional(file: string, description: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new RegistryError('credentials', `${description}: cannot read the file (${errorCode(error)})`);
  }
}

function formatJsonPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const part of path) {
    const key = String(part);
    if (typeof part === 'number') text += `[${part}]`;
    else if (/^[A-Za-z_]\w*$/.test(key)) text += text === '' ? key : `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'unknown error';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
