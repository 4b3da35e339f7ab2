import { Buffer } from 'node:buffer';
import type { Cache, CacheCallOptions, CacheSetOptions } from '@scanner/registry';
import { LRUCache } from 'lru-cache';
import { checkTtlMs, decodeValue, encodeValue, quote } from './codec.ts';
import { MemoryCacheError } from './errors.ts';

/** Options of {@link createMemoryCache}. */
export interface MemoryCacheOptions {
  /**
   * Names this cache's keyspace. Each memory cache has its own store, so this only labels it.
   * @default 'default'
   */
  namespace?: string;
  /**
   * Most entries kept; the least recently used is evicted beyond it.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * Most bytes kept, counting the UTF-8 length of each key plus its JSON value; the least recently used entries
   * are evicted beyond it. A single entry larger than this is rejected with code `too_large`.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Time to live for a `set` that gives no `ttlMs`; omitted means such entries never expire (but may be
   * evicted).
   * @default undefined
   */
  ttlMs?: number;
}

/** Entry and byte counts of a memory cache, for metrics. Expired entries still count until touched or evicted. */
export interface MemoryCacheStats {
  entries: number;
  bytes: number;
}

/** A {@link Cache} held in this process. Also `await using cache = createMemoryCache()`. */
export interface MemoryCache extends Cache, AsyncDisposable {
  stats(): MemoryCacheStats;
  /** Drops every entry; later calls reject with code `closed`. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * An in-process LRU cache bounded by entries and by bytes, with per-entry TTLs.
 *
 * Values are stored as JSON strings, so a caller never shares a mutable object with the cache: what `get`
 * returns is a fresh copy. Expired entries are dropped lazily when read or evicted; no timer runs, so the cache
 * never keeps the process alive.
 *
 * @example
 * const cache = createMemoryCache({ namespace: 'scanner', maxBytes: 16 * 1024 * 1024 });
 * await cache.set('tags:docker.io/library/nginx', ['1.27', '1.28'], { ttlMs: 60_000 });
 * const tags = await cache.get<string[]>('tags:docker.io/library/nginx');
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): MemoryCache {
  const namespace = options.namespace ?? 'default';
  if (typeof namespace !== 'string' || namespace === '') {
    throw new MemoryCacheError('config', `namespace must be a non-empty string, got ${quote(namespace)}`);
  }
  const maxEntries = checkLimit(options.maxEntries ?? DEFAULT_MAX_ENTRIES, 'maxEntries');
  const maxBytes = checkLimit(options.maxBytes ?? DEFAULT_MAX_BYTES, 'maxBytes');
  let defaultTtlMs: number | undefined;
  if (options.ttlMs !== undefined) {
    try {
      defaultTtlMs = checkTtlMs(options.ttlMs, 'the ttlMs option');
    } catch (error) {
      throw new MemoryCacheError('config', (error as MemoryCacheError).detail, { cause: error });
    }
  }

  const store = new LRUCache<string, string>({
    max: maxEntries,
    maxSize: maxBytes,
    // Expiry is checked on read; an autopurge timer per entry would keep the event loop busy for nothing.
    ttlAutopurge: false,
    allowStale: false,
    updateAgeOnGet: false,
  });
  let closed = false;

  function enter(operation: string, signal: AbortSignal | undefined): void {
    if (closed) throw new MemoryCacheError('closed', `${operation}() was called after close(); create a new cache`);
    if (signal?.aborted) {
      throw new MemoryCacheError('aborted', `${operation}() was aborted`, { cause: signal.reason });
    }
  }

  return {
    namespace,

    get<T = unknown>(key: string, { signal }: CacheCallOptions = {}): Promise<T | undefined> {
      return Promise.resolve().then(() => {
        enter('get', signal);
        const json = store.get(key);
        return json === undefined ? undefined : (decodeValue(json) as T);
      });
    },

    set(key: string, value: unknown, { ttlMs, signal }: CacheSetOptions = {}): Promise<void> {
      return Promise.resolve().then(() => {
        enter('set', signal);
        const ttl = ttlMs === undefined ? defaultTtlMs : checkTtlMs(ttlMs, 'ttlMs');
        const json = encodeValue(value);
        const size = Buffer.byteLength(key, 'utf8') + Buffer.byteLength(json, 'utf8');
        if (size > maxBytes) {
          // The caller meant to replace the entry; keeping the old value would answer with stale data.
          store.delete(key);
          throw new MemoryCacheError('too_large', `the entry for key ${quote(key)} takes ${size} bytes, more than maxBytes (${maxBytes}); raise maxBytes or store less`);
        }
        // Without a TTL an overwrite must also drop the TTL of the value it replaces, hence ttl: 0.
        store.set(key, json, { size, ttl: ttl ?? 0 });
      });
    },

    delete(key: string, { signal }: CacheCallOptions = {}): Promise<void> {
      return Promise.resolve().then(() => {
        enter('delete', signal);
        store.delete(key);
      });
    },

    stats(): MemoryCacheStats {
      return { entries: store.size, bytes: store.calculatedSize };
    },

    close(): Promise<void> {
      closed = true;
      store.clear();
      return Promise.resolve();
    },
    [Symbol.asyncDispose](): Promise<void> {
      closed = true;
      store.clear();
      return Promise.resolve();
    },
  };
}

function checkLimit(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new MemoryCacheError('config', `${name} must be a positive integer, got ${quote(value)}`);
  }
  return value;
}
