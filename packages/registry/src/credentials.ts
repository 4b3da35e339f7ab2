import { isAbsolute } from 'node:path';
import { createDockerConfigJsonCredentials, createDockerConfigCredentials, credentialFromDockerConfigText } from './docker-config.ts';
import { RegistryError } from './errors.ts';
import { createCachedCredentialProvider, parseUserPass } from './credential-provider.ts';
import type { Credential, CredentialProvider } from './settings.ts';

/**
 * Where credentials come from. A string is one of:
 *
 * - `env:VAR` — the variable holds `username:password`;
 * - `ext:/abs/path` — an executable printing `username:password` on its first line;
 * - `docker-config` or `docker-config:/dir` — Docker's `config.json` (`$DOCKER_CONFIG` or `~/.docker`);
 * - `dockerconfigjson:/path` — a Kubernetes pull secret's `.dockerconfigjson` mounted as a file;
 * - `secret:ns/name#field`, `pullsecret:ns/name` — Argo CD Image Updater's Kubernetes secrets, read through
 *   `readKubernetesSecret`;
 * - `static:username:password` or plain `username:password`.
 *
 * An object gives static credentials directly.
 */
export type CredentialSpec =
  | string
  | { readonly username: string; readonly password: string }
  | { readonly identityToken: string; readonly username?: string };

/** Reads one field of a Kubernetes secret (already base64-decoded). Injected: this package has no Kubernetes client. */
export type KubernetesSecretReader = (
  ref: { readonly namespace: string; readonly name: string; readonly field: string },
  options: { signal?: AbortSignal },
) => Promise<string>;

export interface CredentialSourceOptions {
  /**
   * The registry host the credentials are for (`ghcr.io`, `docker.io`). Required by the sources that hold
   * credentials for many registries (`docker-config`, `dockerconfigjson:`, `pullsecret:`).
   */
  registry?: string;
  /**
   * Re-read the source once this long has passed since the last read (Argo CD Image Updater's `credsexpire`).
   * `undefined` or `0` reads once and keeps the result.
   */
  expireMs?: number;
  /** Time limit for `ext:` scripts and Docker credential helpers. @default 10000 */
  timeoutMs?: number;
  /** Environment for `env:` lookups, `$DOCKER_CONFIG`, `$HOME` and child processes. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home directory holding `.docker/config.json`. @default os.homedir() */
  homeDir?: string;
  /** Clock for expiry, in milliseconds. @default Date.now */
  now?: () => number;
  /** Needed only for `secret:` and `pullsecret:` sources. */
  readKubernetesSecret?: KubernetesSecretReader;
}

/**
 * Turns a credential spec into a provider. Throws a `config` error for a malformed spec; reading the source
 * (and so any `credentials` error) happens on `get()`.
 *
 * @example parseCredentialSource('env:GHCR_CREDS', { expireMs: 300_000 })
 * @example parseCredentialSource('docker-config', { registry: 'ghcr.io' })
 */
export function parseCredentialSource(spec: CredentialSpec, options: CredentialSourceOptions = {}): CredentialProvider {
  const cache = (description: string, read: () => Promise<Credential | undefined>): CredentialProvider =>
    createCachedCredentialProvider({
      description,
      read,
      ...(options.expireMs === undefined ? {} : { expireMs: options.expireMs }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });

  if (typeof spec !== 'string') return staticProvider(spec);

  const colon = spec.indexOf(':');
  const kind = colon === -1 ? spec : spec.slice(0, colon);
  const rest = colon === -1 ? '' : spec.slice(colon + 1);
  const env = options.env ?? process.env;

  switch (kind) {
    case 'env': {
      if (!/^[A-Za-z_]\w*$/.test(rest)) {
        throw new RegistryError('config', `credentials "${spec}": write env:VARIABLE_NAME (letters, digits, underscores)`);
      }
      return cache(spec, () => {
        const value = env[rest];
        if (value === undefined || value === '') {
          return Promise.reject(new RegistryError('credentials', `${spec}: the environment variable ${rest} is not set`));
        }
        return Promise.resolve(parseUserPass(value, spec));
      });
    }
    case 'ext': {
      if (!isAbsolute(rest)) {
        throw new RegistryError('config', `credentials "${spec}": write ext:/absolute/path/to/script`);
      }
      return cache(spec, async () => {
        // Loaded here: only `ext:` sources run a program (node:child_process).
        const { DEFAULT_CREDENTIAL_TIMEOUT_MS, runCredentialScript } = await import('./credential-helpers.ts');
        const timeoutMs = options.timeoutMs ?? DEFAULT_CREDENTIAL_TIMEOUT_MS;
        const stdout = await runCredentialScript(rest, spec, { env, timeoutMs });
        const firstLine = stdout.trimStart().split(/\r?\n/, 1)[0] ?? '';
        return parseUserPass(firstLine, spec);
      });
    }
    case 'docker-config': {
      const registry = requireRegistry(spec, options);
      const forRegistry = createDockerConfigCredentials({
        env,
        ...(rest === '' ? {} : { configDir: rest }),
        ...pick(options, ['homeDir', 'timeoutMs', 'expireMs', 'now']),
      });
      return forRegistry(registry);
    }
    case 'dockerconfigjson': {
      const registry = requireRegistry(spec, options);
      if (rest === '') throw new RegistryError('config', `credentials "${spec}": write dockerconfigjson:/path/to/.dockerconfigjson`);
      return createDockerConfigJsonCredentials(rest, registry, pick(options, ['expireMs', 'now']));
    }
    case 'secret': {
      const match = /^([^/#]+)\/([^/#]+)#(.+)$/.exec(rest);
      if (match === null) throw new RegistryError('config', `credentials "${spec}": write secret:<namespace>/<name>#<field>`);
      const [, namespace = '', name = '', field = ''] = match;
      const reader = options.readKubernetesSecret;
      return cache(spec, async () => {
        const value = await readSecret(reader, spec, { namespace, name, field });
        return parseUserPass(value, spec);
      });
    }
    case 'pullsecret': {
      const match = /^([^/#]+)\/([^/#]+)$/.exec(rest);
      if (match === null) throw new RegistryError('config', `credentials "${spec}": write pullsecret:<namespace>/<name>`);
      const [, namespace = '', name = ''] = match;
      const registry = requireRegistry(spec, options);
      const reader = options.readKubernetesSecret;
      return cache(`${spec} for ${registry}`, async () => {
        const text = await readSecret(reader, spec, { namespace, name, field: '.dockerconfigjson' });
        return credentialFromDockerConfigText(text, spec, registry);
      });
    }
    case 'static':
      return staticProvider(parseUserPass(rest, 'static credentials', 'config'));
    default:
      if (colon === -1) {
        // Not quoted: a bare word here is as likely a pasted token as a typo.
        throw new RegistryError(
          'config',
          'credentials must be env:VAR, ext:/path, docker-config[:dir], dockerconfigjson:/path, secret:ns/name#field, pullsecret:ns/name or username:password',
        );
      }
      return staticProvider(parseUserPass(spec, 'static credentials', 'config'));
  }
}

function staticProvider(spec: Exclude<CredentialSpec, string> | Credential): CredentialProvider {
  let credential: Credential;
  if ('kind' in spec) credential = spec;
  else if ('identityToken' in spec) {
    credential = { kind: 'identity-token', token: spec.identityToken, ...(spec.username === undefined ? {} : { username: spec.username }) };
  } else {
    if (spec.username === '' || spec.password === '') {
      throw new RegistryError('config', 'static credentials: username and password must both be non-empty');
    }
    credential = { kind: 'basic', username: spec.username, password: spec.password };
  }
  const description = credential.kind === 'basic' ? `static:${credential.username}` : 'static identity token';
  return { description, get: () => Promise.resolve(credential) };
}

async function readSecret(
  reader: KubernetesSecretReader | undefined,
  spec: string,
  ref: { namespace: string; name: string; field: string },
): Promise<string> {
  if (reader === undefined) {
    throw new RegistryError(
      'credentials',
      `${spec} needs a Kubernetes secret reader (option readKubernetesSecret); or mount the secret and use dockerconfigjson:/path or env:VAR`,
    );
  }
  try {
    return await reader(ref, {});
  } catch (error) {
    throw new RegistryError('credentials', `${spec}: could not read the secret`, { cause: error });
  }
}

function requireRegistry(spec: string, options: CredentialSourceOptions): string {
  if (options.registry === undefined) {
    throw new RegistryError('config', `credentials "${spec}" hold credentials for many registries; pass the registry host`);
  }
  return options.registry;
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) picked[key] = object[key];
  return picked;
}
