/**
 * The cache contract every backend implements (`@scanner/cache-memory`, `@scanner/cache-redis`).
 *
 * Values are JSON-serialisable. Keys are plain strings; a backend keeps each cache's keys apart with its
 * `namespace`. A backend may evict any entry at any time, so a miss is always a valid answer; `get` resolves
 * `undefined` for a miss or an expired entry. Backends reject on transport failure; callers (the scanner)
 * treat a rejection as a miss.
 */
export interface Cache {
  /** Names the keyspace this cache writes to, e.g. `scanner:v1`. */
  readonly namespace: string;
  get<T = unknown>(key: string, options?: CacheCallOptions): Promise<T | undefined>;
  /** Stores `value`; without `ttlMs` the entry lives until evicted. */
  set(key: string, value: unknown, options?: CacheSetOptions): Promise<void>;
  delete(key: string, options?: CacheCallOptions): Promise<void>;
  /** Releases connections or timers the backend holds. Idempotent. */
  close?(): Promise<void>;
}

export interface CacheCallOptions {
  signal?: AbortSignal;
}

export interface CacheSetOptions extends CacheCallOptions {
  /** Time to live in milliseconds; omitted means no expiry. Must be a positive integer. */
  ttlMs?: number;
}
