import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type { Credential } from './settings.ts';

const require = createRequire(import.meta.url);
let crypto: typeof Crypto | undefined;

/** A bearer token and when the client stops using it. */
export interface CachedToken {
  readonly token: string;
  readonly expiresAtMs: number;
}

/** What a token server answered, reduced to what the cache needs. */
export interface TokenGrant {
  readonly token: string;
  /** @default 60 (Docker token spec) */
  readonly expiresInSeconds: number | undefined;
  /** `issued_at`, when the server sent a parseable one. */
  readonly issuedAtMs: number | undefined;
}

export interface TokenCacheOptions {
  readonly now: () => number;
  /** Tokens are dropped this long before they expire (at most half their lifetime). @default 10000 */
  readonly marginMs: number;
  /**
   * Called with a token no entry holds any more (replaced after expiry, or invalidated), so the client can
   * stop redacting it: a long-running scanner would otherwise keep every token it ever fetched.
   * @default none
   */
  readonly onDrop?: (token: string) => void;
}

/**
 * Bearer tokens keyed by realm, service, scopes and a hash of the credential; one fetch in flight per key.
 */
export interface TokenCache {
  get(key: string, fetch: () => Promise<TokenGrant>): Promise<string>;
  /** Forgets `token` under `key` (after the registry refused it); a newer token stays. */
  invalidate(key: string, token: string): void;
  readonly size: number;
}

/** A stable, non-reversible name for a credential, so cache keys never hold the secret. */
export function credentialId(credential: Credential | undefined): string {
  if (credential === undefined) return 'anonymous';
  const material =
    credential.kind === 'basic'
      ? `basic\0${credential.username}\0${credential.password}`
      : `identity\0${credential.username ?? ''}\0${credential.token}`;
  // Required here, not imported with the module: a run that never gets a token never loads node:crypto.
  crypto ??= require('node:crypto') as typeof Crypto;
  return crypto.createHash('sha256').update(material).digest('hex').slice(0, 32);
}

/** `audience` is the registry origin the token will be sent to, so two registries sharing a realm never share a token. */
export function tokenCacheKey(realm: string, service: string | undefined, scopes: readonly string[], credential: string, audience = ''): string {
  return JSON.stringify([realm, service ?? '', [...scopes].sort(), credential, audience]);
}

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const entries = new Map<string, CachedToken>();
  const inflight = new Map<string, Promise<CachedToken>>();
  const drop = (token: string): void => {
    for (const entry of entries.values()) if (entry.token === token) return;
    options.onDrop?.(token);
  };
  const expiry = (grant: TokenGrant): number => {
    const now = options.now();
    const lifetimeMs = (grant.expiresInSeconds ?? 60) * 1000;
    // A server clock ahead of ours would make the token look fresher than it is; never start after now.
    const start = grant.issuedAtMs !== undefined && grant.issuedAtMs <= now ? grant.issuedAtMs : now;
    return start + lifetimeMs - Math.min(options.marginMs, lifetimeMs / 2);
  };
  return {
    get size() {
      return entries.size;
    },
    async get(key, fetch) {
      const cached = entries.get(key);
      if (cached !== undefined && cached.expiresAtMs > options.now()) return cached.token;
      let pending = inflight.get(key);
      if (pending === undefined) {
        pending = fetch().then((grant) => {
          const entry = { token: grant.token, expiresAtMs: expiry(grant) };
          const previous = entries.get(key);
          entries.set(key, entry);
          if (previous !== undefined && previous.token !== entry.token) drop(previous.token);
          return entry;
        });
        inflight.set(key, pending);
        const clear = (): void => {
          inflight.delete(key);
        };
        pending.then(clear, clear);
      }
      return (await pending).token;
    },
    invalidate(key, token) {
      if (entries.get(key)?.token !== token) return;
      entries.delete(key);
      drop(token);
    },
  };
}
