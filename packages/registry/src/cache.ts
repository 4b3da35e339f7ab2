/**
 * The cache contract every backend implements (`@scanner/cache-memory`, `@scanner/cache-redis`); the shared
 * suite in `tooling/cache-conformance` checks each backend against it.
 *
 * Values are JSON-serialisable. Keys are plain strings; a backend keeps each cache's keys apart with its
 * `namespace`. A backend may evict any entry at any time, so a miss is always a valid answer; `get` resolves
 * `undefined` for a miss or an expired entry. Backends reject on transport failure; callers (the scanner)
 * treat a rejection as a miss.
 *
 * Rejections carry a string `code`; every backend uses these for the shared cases (a backend adds its own,
 * e.g. `unavailable` or `timeout` for a network store):
 * - `invalid_ttl`: `ttlMs` is not a positive integer;
 * - `invalid_value`: the value would not come back equal from JSON (functions, symbols, BigInt, cycles,
 *   non-finite numbers, `undefined` at the top level or in an array, instances other than plain objects and
 *   arrays unless they have `toJSON`). `undefined` object properties are dropped, as JSON does;
 * - `aborted`: the call's `signal` was aborted before the call finished;
 * - `closed`: the call came after `close()`.
 */
export interface Cache {
  /**
   * Names the keyspace this cache writes to, and is the one prefix of its keys in a shared store: the scanner's
   * keys (`v1:tags:…`, `v1:tag:…`, `v1:image:…`) are stored as `<namespace>:<key>`, e.g.
   * `scanner:v1:tags:ghcr.io/org/app` under `@scanner/cache-redis`'s default namespace `scanner`.
   */
  readonly namespace: string;
  /** Resolves a fresh copy of the stored value, or `undefined` for a miss or an expired entry. */
  get<T = unknown>(key: string, options?: CacheCallOptions): Promise<T | undefined>;
  /**
   * Stores a copy of `value`, replacing any entry and its TTL; without `ttlMs` the entry lives until evicted. The
   * scanner always gives a TTL (a Redis with `noeviction`, as BullMQ needs, never evicts).
   */
  set(key: string, value: unknown, options?: CacheSetOptions): Promise<void>;
  /** Removes the entry; resolves whether or not it existed. */
  delete(key: string, options?: CacheCallOptions): Promise<void>;
  /** Releases connections or timers the backend holds; later calls reject with code `closed`. Idempotent. */
  close?(): Promise<void>;
}

/** Options every cache call takes. */
export interface CacheCallOptions {
  /** Aborts the call; it then rejects with code `aborted`. */
  signal?: AbortSignal;
}

/** Options of {@link Cache.set}. */
export interface CacheSetOptions extends CacheCallOptions {
  /** Time to live in milliseconds; omitted means no expiry. Must be a positive integer. */
  ttlMs?: number;
}
