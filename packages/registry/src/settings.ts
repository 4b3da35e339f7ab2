/**
 * How the client reaches one registry. `registries-config.ts` builds these from a config file; callers may
 * also pass them directly. The client never reads files or the environment except through these.
 */

/** What a registry accepts as proof of identity. */
export type Credential =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /** An OAuth2 refresh token (Docker `config.json` `identitytoken`), exchanged at the token realm. */
  | { readonly kind: 'identity-token'; readonly username?: string; readonly token: string };

/** Supplies credentials for a registry host, re-reading its source when it has expired. */
export interface CredentialProvider {
  /** A short description for logs that never includes the secret, e.g. `env:GHCR_CREDS`. */
  readonly description: string;
  get(options?: { signal?: AbortSignal }): Promise<Credential | undefined>;
}

/** Settings for one registry, after config resolution. */
/** See {@link RegistrySettings.sources}. */
export interface SettingSources {
  readonly file?: string | undefined;
  /** Key path of the per-request time-out, e.g. `registries[2].timeout`. */
  readonly timeoutMs?: string | undefined;
  /** Key path of the operation time-out, e.g. `registries[2].operation_timeout`. */
  readonly operationTimeoutMs?: string | undefined;
}

export interface RegistrySettings {
  /** The registry host as it appears in references, e.g. `docker.io`, `localhost:5000`. */
  readonly registry: string;
  /** Where requests go: scheme, host and port, e.g. `https://registry-1.docker.io`. */
  readonly origin: string;
  readonly credentials?: CredentialProvider;
  /** Skip TLS verification (and allow plain HTTP when the origin says so). @default false */
  readonly insecure?: boolean;
  /** PEM bundle trusted in addition to the system roots. */
  readonly ca?: string;
  /** Namespace prepended to single-component repositories, e.g. `library`. */
  readonly defaultNamespace?: string;
  /** Page size sent as `n` on tags/list. @default 1000 */
  readonly pageSize?: number;
  /** Requests per second to this registry; 0 or undefined means unlimited. */
  readonly requestsPerSecond?: number;
  /** Concurrent requests to this registry. @default 8 */
  readonly concurrency?: number;
  /** Per-request timeout: connecting, then each wait for headers or body data. @default 30000 */
  readonly timeoutMs?: number;
  /**
   * Longest time one client call to this registry may take, every retry included; overrides the client's
   * `operationTimeoutMs`. Registries config key: `operation_timeout`. @default the client's (60000)
   */
  readonly operationTimeoutMs?: number;
  /**
   * Where time-outs were set, for messages that must name the place to change: the registries config file and
   * key paths (`registries[2].timeout`). Set by the registries config; a setting an override replaced has none.
   */
  readonly sources?: SettingSources;
  /** Extra hosts (besides the registry's own registrable domain) that may receive credentials as token realms. */
  readonly tokenRealmAllowList?: readonly string[];
  /**
   * Pull-through mirrors of this registry, read in order before it: each `host[/path-prefix]`, e.g.
   * `mirror.gcr.io` or `127.0.0.1:5001/dockerhub`. See `mirrorReferences`.
   */
  readonly mirrors?: readonly string[];
  /**
   * When the registry's `RateLimit-Remaining` falls below this, manifest GETs to it wait until its window
   * resets instead of spending the rest of the quota. See `rate-limit-floor.ts`. @default no floor
   */
  readonly rateLimitFloor?: number;
}
