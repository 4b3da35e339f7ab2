import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import type { ImageReference } from '@scanner/image';
import type { z } from 'zod';
import { parseCredentialSource } from './credentials.ts';
import type { CredentialSourceOptions, CredentialSpec } from './credentials.ts';
import { createDockerConfigCredentials } from './docker-config.ts';
import type { DockerConfigCredentials } from './docker-config.ts';
import { parseDurationMs } from './duration.ts';
import { isDockerHub, normalizeRegistryHost, resolveEndpoint, withoutUserInfo } from './endpoint.ts';
import { RegistryError, isRegistryError } from './errors.ts';
import { formatMirrorLocation, parseMirrorLocation } from './mirrors.ts';
import type { credentialsSchema } from './registries-config-file.ts';
import type { CredentialProvider, RegistrySettings } from './settings.ts';

/** Argo CD Image Updater's `tagsortmode`: accepted for compatibility, exposed on the entry. */
export type TagSortMode = 'none' | 'latest-first' | 'latest-last';

/** One `registries[]` entry after validation. */
export interface RegistryConfigEntry {
  /** Position in the file, for messages: `registries[2]`. */
  readonly index: number;
  readonly name: string;
  /** Normalised `host[/path]` this entry applies to (a prefix-less default entry gets its api_url's host). */
  readonly prefix: string;
  /** `default: true`: the entry for references that name no registry. */
  readonly isDefault: boolean;
  readonly tagSortMode: TagSortMode | undefined;
  /** The settings requests under this prefix use. */
  readonly settings: RegistrySettings;
}

/** Something to look up: an `ImageReference`, or a string such as `ghcr.io/org/app:1.2`, `nginx` or `ghcr.io`. */
export type RegistryLookup = string | Pick<ImageReference, 'registry' | 'repository'>;

/** A validated registries config. */
export interface RegistriesConfig {
  /** The file it came from, when known. */
  readonly source: string | undefined;
  readonly entries: readonly RegistryConfigEntry[];
  readonly defaultEntry: RegistryConfigEntry | undefined;
  /**
   * The entry whose `prefix` is the longest match for the reference on path boundaries (`ghcr.io/org`
   * matches `ghcr.io/org/app`, not `ghcr.io/organization/app`; a host-only prefix matches every repository on
   * that host). A string naming no registry (`nginx`, `org/app`) goes to the `default: true` entry when there
   * is one. `undefined` when nothing matches.
   */
  matchEntry(reference: RegistryLookup): RegistryConfigEntry | undefined;
  /**
   * The settings for the reference: the matching entry's, else defaults for its registry host (endpoint from
   * `resolveEndpoint`, Docker config credentials). Never applies another host's entry, so credentials only
   * go where they were configured to go.
   */
  match(reference: RegistryLookup): RegistrySettings;
}

export interface RegistriesConfigOptions extends Pick<
  CredentialSourceOptions,
  'env' | 'homeDir' | 'now' | 'timeoutMs' | 'readKubernetesSecret'
> {
  /** Names the file in error messages. */
  source?: string;
  /** Where relative `ca_file` paths start. @default the directory of `source`, else the working directory */
  baseDir?: string;
  /**
   * Credentials for entries that name none and for registries no entry matches; `false` for none.
   * @default createDockerConfigCredentials({ env, homeDir, timeoutMs, now })
   */
  dockerConfig?: DockerConfigCredentials | false;
  /** Reads a `ca_file`; swap it to fetch certificates from elsewhere. @default fs.readFile as UTF-8 */
  readCaFile?: (path: string, options: { signal?: AbortSignal }) => Promise<string>;
  signal?: AbortSignal;
}

export interface ResolveRegistrySettingsOptions {
  /** A parsed registries config to look the host up in. */
  config?: RegistriesConfig;
  /** Applied last, over config and defaults. */
  overrides?: Partial<Omit<RegistrySettings, 'registry'>>;
  /** Used when there is no `config`. @default createDockerConfigCredentials() */
  dockerConfig?: DockerConfigCredentials | false;
}

/**
 * The settings for one registry host: built-in defaults (endpoint, Docker Hub's `library` namespace, Docker
 * config credentials), then the config's entry for the host, then `overrides`.
 *
 * @example resolveRegistrySettings('localhost:5000').origin // 'http://localhost:5000'
 */
export function resolveRegistrySettings(registryHost: string, options: ResolveRegistrySettingsOptions = {}): RegistrySettings {
  const base =
    options.config?.match(registryHost) ??
    defaultRegistrySettings(registryHost, options.dockerConfig === undefined ? createDockerConfigCredentials() : options.dockerConfig);
  const overrides = options.overrides ?? {};
  const merged: RegistrySettings = { ...base, ...overrides };
  // A time-out an override replaced no longer comes from the file.
  if (merged.sources === undefined || (overrides.timeoutMs === undefined && overrides.operationTimeoutMs === undefined)) return merged;
  const sources = {
    ...merged.sources,
    ...(overrides.timeoutMs === undefined ? {} : { timeoutMs: undefined }),
    ...(overrides.operationTimeoutMs === undefined ? {} : { operationTimeoutMs: undefined }),
  };
  return { ...merged, sources };
}

/**
 * Parses and validates a registries config (YAML): Argo CD Image Updater's `registries.conf` format plus our
 * keys. Reads `ca_file`s. Throws a `config` error naming the file and every offending path, e.g.
 * `registries[2].prefix: required`.
 */
export async function parseRegistriesConfig(text: string, options: RegistriesConfigOptions = {}): Promise<RegistriesConfig> {
  const source = options.source;
  const where = source === undefined ? 'registries config' : `registries config "${source}"`;
  const fail = (problems: readonly string[]): RegistryError =>
    new RegistryError('config', `invalid ${where}: ${problems.join('; ')}`);

  const { fileSchema, formatIssue, parseYaml, zodMessage } = await import('./registries-config-file.ts');
  const raw = parseYaml(text, where);
  const parsed = fileSchema.safeParse(raw ?? {}, { error: zodMessage });
  if (!parsed.success) throw fail(parsed.error.issues.flatMap(formatIssue));

  const env = options.env ?? process.env;
  const dockerConfig =
    options.dockerConfig ??
    createDockerConfigCredentials({ env, ...pickDefined(options, ['homeDir', 'timeoutMs', 'now']) });
  const readCaFile = options.readCaFile ?? ((path, readOptions) => readFile(path, { encoding: 'utf8', ...readOptions }));
  const baseDir = options.baseDir ?? (source === undefined ? process.cwd() : dirname(source));
  const problems: string[] = [];
  const entries: RegistryConfigEntry[] = [];
  const seenPrefixes = new Map<string, number>();
  let defaultEntry: RegistryConfigEntry | undefined;

  for (const [index, item] of (parsed.data.registries ?? []).entries()) {
    const at = `registries[${index}]`;
    const before = problems.length;
    const report = (key: string, message: string): void => {
      problems.push(`${at}.${key}: ${message}`);
    };

    let prefix: string | undefined;
    let host: string | undefined;
    if (item.prefix !== undefined) {
      try {
        ({ prefix, host } = normalizePrefix(item.prefix));
      } catch (error) {
        report('prefix', messageOf(error));
      }
      const earlier = prefix === undefined ? undefined : seenPrefixes.get(prefix);
      if (earlier !== undefined) report('prefix', `"${item.prefix}" is already the prefix of registries[${earlier}]; prefixes must be unique`);
      if (prefix !== undefined) seenPrefixes.set(prefix, index);
    } else if (item.default !== true) {
      report('prefix', 'required (a host like "ghcr.io" or a host and path like "ghcr.io/org")');
    } else if (item.api_url === undefined) {
      report('prefix', 'required (or give the default entry an api_url)');
    }

    let origin: string | undefined;
    try {
      const endpointOptions = { insecure: item.insecure ?? false, ...(item.api_url === undefined ? {} : { apiUrl: item.api_url }) };
      // With an api_url the host only needs to be valid; a prefix-less default entry takes its host from the URL.
      if (item.api_url !== undefined) origin = resolveEndpoint(host ?? 'localhost', endpointOptions);
      else if (host !== undefined) origin = resolveEndpoint(host, endpointOptions);
    } catch (error) {
      report('api_url', messageOf(error));
    }
    if (host === undefined && origin !== undefined) {
      // A prefix-less default entry (Argo CD Image Updater allows one) covers its api_url's host.
      host = normalizeRegistryHost(new URL(origin).host);
      prefix = host;
      const earlier = seenPrefixes.get(prefix);
      if (earlier !== undefined) report('api_url', `its host "${host}" is already the prefix of registries[${earlier}]; give this entry a prefix`);
      seenPrefixes.set(prefix, index);
    }

    if (item.timeout !== undefined && item.timeout_ms !== undefined) report('timeout', 'give timeout or timeout_ms, not both');
    if (item.default === true && defaultEntry !== undefined) {
      report('default', `only one entry may be the default; registries[${defaultEntry.index}] already is`);
    }

    const expireMs = item.credsexpire === undefined ? undefined : parseDurationMs(item.credsexpire);
    let credentials: CredentialProvider | undefined;
    if (item.credentials !== undefined && host !== undefined) {
      try {
        credentials = parseCredentialSource(toCredentialSpec(item.credentials), {
          registry: host,
          env,
          ...(expireMs === undefined ? {} : { expireMs }),
          ...pickDefined(options, ['homeDir', 'timeoutMs', 'now', 'readKubernetesSecret']),
        });
      } catch (error) {
        report('credentials', messageOf(error));
      }
    }

    let ca: string | undefined;
    if (item.insecure !== true) {
      const pems: string[] = [];
      if (item.ca_data !== undefined) {
        if (isPem(item.ca_data)) pems.push(item.ca_data.trim());
        else report('ca_data', 'not a PEM certificate (expected -----BEGIN CERTIFICATE-----)');
      }
      if (item.ca_file !== undefined) {
        const file = resolvePath(baseDir, item.ca_file);
        try {
          const pem = await readCaFile(file, options.signal === undefined ? {} : { signal: options.signal });
          if (isPem(pem)) pems.push(pem.trim());
          else report('ca_file', `"${file}" holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`);
        } catch (error) {
          if (options.signal?.aborted === true) throw new RegistryError('aborted', `loading ${where} was aborted`);
          report('ca_file', `cannot read "${file}" (${errorCode(error)})`);
        }
      }
      if (pems.length > 0) ca = `${pems.join('\n')}\n`;
    }

    const mirrors: string[] = [];
    for (const [mirrorIndex, mirror] of (item.mirrors ?? []).entries()) {
      // The schema has checked the syntax; these checks need the entry's normalised prefix.
      const location = formatMirrorLocation(parseMirrorLocation(mirror));
      if (location === prefix) report(`mirrors[${mirrorIndex}]`, `"${location}" is this entry's own prefix; a mirror must be another registry or path`);
      else if (mirrors.includes(location)) report(`mirrors[${mirrorIndex}]`, `"${location}" is listed twice`);
      else mirrors.push(location);
    }

    if (problems.length > before || host === undefined || origin === undefined || prefix === undefined) continue;

    const timeoutMs = item.timeout_ms ?? (item.timeout === undefined ? undefined : parseDurationMs(item.timeout));
    const fallbackCredentials = dockerConfig === false ? undefined : dockerConfig(host);
    const defaultNamespace = item.defaultns ?? (isDockerHub(host) ? 'library' : undefined);
    const settings: RegistrySettings = {
      registry: host,
      origin,
      ...definedOnly({
        credentials: credentials ?? fallbackCredentials,
        insecure: item.insecure,
        ca,
        defaultNamespace,
        pageSize: item.page_size,
        requestsPerSecond: item.limit === 0 ? undefined : item.limit,
        concurrency: item.concurrency,
        timeoutMs,
        operationTimeoutMs: item.operation_timeout === undefined ? undefined : parseDurationMs(item.operation_timeout),
        tokenRealmAllowList: item.token_realm_allow_list,
        mirrors: mirrors.length === 0 ? undefined : mirrors,
        rateLimitFloor: item.ratelimit_floor,
        sources:
          timeoutMs === undefined && item.operation_timeout === undefined
            ? undefined
            : definedOnly({
                file: source,
                timeoutMs: timeoutMs === undefined ? undefined : `registries[${index}].${item.timeout_ms === undefined ? 'timeout' : 'timeout_ms'}`,
                operationTimeoutMs: item.operation_timeout === undefined ? undefined : `registries[${index}].operation_timeout`,
              }),
      }),
    };
    const entry: RegistryConfigEntry = {
      index,
      name: item.name,
      prefix,
      isDefault: item.default === true,
      tagSortMode: item.tagsortmode,
      settings,
    };
    entries.push(entry);
    if (entry.isDefault) defaultEntry = entry;
  }
  if (problems.length > 0) throw fail(problems);

  return createRegistriesConfig(source, entries, defaultEntry, dockerConfig);
}

/**
 * Reads and parses a registries config file; relative `ca_file` paths start at the file's directory.
 *
 * @example const config = await loadRegistriesConfig('/etc/scanner/registries.conf');
 */
export async function loadRegistriesConfig(
  path: string,
  options: Omit<RegistriesConfigOptions, 'source'> = {},
): Promise<RegistriesConfig> {
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', ...(options.signal === undefined ? {} : { signal: options.signal }) });
  } catch (error) {
    if (options.signal?.aborted === true) throw new RegistryError('aborted', `loading registries config "${path}" was aborted`);
    throw new RegistryError('config', `cannot read registries config "${path}" (${errorCode(error)}); check the path`, { cause: error });
  }
  return parseRegistriesConfig(text, { ...options, source: path });
}

function createRegistriesConfig(
  source: string | undefined,
  entries: readonly RegistryConfigEntry[],
  defaultEntry: RegistryConfigEntry | undefined,
  dockerConfig: DockerConfigCredentials | false,
): RegistriesConfig {
  // Longest first, so the first hit is the longest match.
  const byLength = [...entries].sort((a, b) => b.prefix.length - a.prefix.length);
  const fallbacks = new Map<string, RegistrySettings>();

  const matchEntry = (reference: RegistryLookup): RegistryConfigEntry | undefined => {
    const target = lookupTarget(reference, defaultEntry);
    if (target.implicitRegistry && defaultEntry !== undefined) return defaultEntry;
    return byLength.find(({ prefix }) => target.path === prefix || target.path.startsWith(`${prefix}/`));
  };

  return {
    source,
    entries,
    defaultEntry,
    matchEntry,
    match(reference) {
      const entry = matchEntry(reference);
      if (entry !== undefined) return entry.settings;
      const host = lookupTarget(reference, defaultEntry).host;
      let settings = fallbacks.get(host);
      if (settings === undefined) {
        settings = defaultRegistrySettings(host, dockerConfig);
        fallbacks.set(host, settings);
      }
      return settings;
    },
  };
}

function defaultRegistrySettings(registryHost: string, dockerConfig: DockerConfigCredentials | false): RegistrySettings {
  const host = normalizeRegistryHost(registryHost);
  return {
    registry: host,
    origin: resolveEndpoint(host),
    ...(dockerConfig === false ? {} : { credentials: dockerConfig(host) }),
    ...(isDockerHub(host) ? { defaultNamespace: 'library' } : {}),
  };
}

interface LookupTarget {
  host: string;
  /** `host/repository`, or just `host` for a bare host. */
  path: string;
  implicitRegistry: boolean;
}

/**
 * Splits a lookup into host and path with Docker's rule: the first component is a registry when it
 * contains `.` or `:` or is `localhost`. A single component that looks like a host is taken as a bare host.
 */
function lookupTarget(reference: RegistryLookup, defaultEntry: RegistryConfigEntry | undefined): LookupTarget {
  let registry: string | undefined;
  let repository: string;
  if (typeof reference === 'string') {
    const name = stripTagAndDigest(reference.trim());
    const slash = name.indexOf('/');
    const first = slash === -1 ? name : name.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      repository = slash === -1 ? '' : name.slice(slash + 1);
    } else {
      repository = name;
    }
  } else {
    ({ registry, repository } = reference);
  }
  const implicitRegistry = registry === undefined;
  const host = normalizeRegistryHost(registry ?? defaultEntry?.settings.registry ?? 'docker.io');
  if (isDockerHub(host) && repository !== '' && !repository.includes('/')) repository = `library/${repository}`;
  return { host, path: repository === '' ? host : `${host}/${repository}`, implicitRegistry };
}

function stripTagAndDigest(reference: string): string {
  const at = reference.indexOf('@');
  const name = at === -1 ? reference : reference.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon <= lastSlash) return name;
  if (lastSlash === -1) {
    // One component: `nginx:1.25` carries a tag, `localhost:5000`, `ghcr.io:443` and `[::1]:5000` are hosts.
    const before = name.slice(0, colon);
    const isHost = name.startsWith('[') || before.includes('.') || before === 'localhost';
    if (isHost && /^\d+$/.test(name.slice(colon + 1))) return name;
    if (name.startsWith('[') && name.endsWith(']')) return name;
  }
  return name.slice(0, colon);
}

function normalizePrefix(raw: string): { prefix: string; host: string } {
  const value = raw.trim().replace(/\/+$/, '');
  if (value.includes('://')) {
    throw new RegistryError('config', `"${withoutUserInfo(raw)}" has a scheme; a prefix is host[/path] like "ghcr.io/org" (put the scheme in api_url)`);
  }
  const slash = value.indexOf('/');
  const host = normalizeRegistryHost(slash === -1 ? value : value.slice(0, slash));
  const path = slash === -1 ? '' : value.slice(slash);
  if (path !== '' && !/^(\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/.test(path)) {
    throw new RegistryError('config', `"${withoutUserInfo(raw)}" has a repository path that is not lower-case path components`);
  }
  return { prefix: `${host}${path}`, host };
}

function toCredentialSpec(value: z.infer<typeof credentialsSchema>): CredentialSpec {
  if (typeof value === 'string') return value;
  if ('identity_token' in value) return { identityToken: value.identity_token, ...(value.username === undefined ? {} : { username: value.username }) };
  return value;
}

function isPem(text: string): boolean {
  return text.includes('-----BEGIN CERTIFICATE-----') && text.includes('-----END CERTIFICATE-----');
}

function messageOf(error: unknown): string {
  if (isRegistryError(error)) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'unknown error';
}

function pickDefined<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) picked[key] = object[key];
  return picked;
}

/** Drops `undefined` values, which `exactOptionalPropertyTypes` will not let an optional property hold. */
function definedOnly<T extends Record<string, unknown>>(object: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
