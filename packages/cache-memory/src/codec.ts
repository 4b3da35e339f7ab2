import { checkCacheTtlMs, encodeCacheValue } from '@scanner/registry/cache-backend';
import { MemoryCacheError } from './errors.ts';

export { quoteCacheInput as quote } from '@scanner/registry/cache-backend';

/** JSON of a cache value; refuses what would not come back equal (the contract's rule, shared by every backend). */
export function encodeValue(value: unknown): string {
  return encodeCacheValue(value, (message, cause) => new MemoryCacheError('invalid_value', message, cause === undefined ? {} : { cause }));
}

/** Reads back what `encodeValue` wrote. */
export function decodeValue(json: string): unknown {
  return JSON.parse(json);
}

/** Checks a TTL given to `set` or as a default; the caller names where it came from. */
export function checkTtlMs(ttlMs: unknown, where: string): number {
  return checkCacheTtlMs(ttlMs, where, (message) => new MemoryCacheError('invalid_ttl', message));
}
