/**
 * Every failure `@scanner/cache-redis` reports. Match on `code` rather than `instanceof`: two copies of the
 * package can be installed side by side.
 *
 * - `config`: an option of `createRedisCache` is invalid.
 * - `invalid_ttl`: `ttlMs` is not a positive integer.
 * - `invalid_value`: the value would not survive a JSON round trip.
 * - `invalid_response`: the stored value is not JSON this cache wrote (another writer used the key).
 * - `unavailable`: Redis cannot be reached right now; the cache keeps reconnecting by itself.
 * - `timeout`: Redis did not answer within `commandTimeoutMs` (or `connectTimeoutMs` while connecting).
 * - `server_error`: Redis answered with an error (out of memory, wrong type, authentication...).
 * - `aborted`: the call's `signal` was aborted.
 * - `closed`: the cache was closed.
 */
export type RedisCacheErrorCode =
  | 'config'
  | 'invalid_ttl'
  | 'invalid_value'
  | 'invalid_response'
  | 'unavailable'
  | 'timeout'
  | 'server_error'
  | 'aborted'
  | 'closed';

/** The one error type of `@scanner/cache-redis`. Messages never contain the password of a Redis URL. */
export class RedisCacheError extends Error {
  override readonly name = 'RedisCacheError';
  readonly code: RedisCacheErrorCode;

  constructor(code: RedisCacheErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(`@scanner/cache-redis: ${message}`, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
  }
}

/** True for any `RedisCacheError`, including one thrown by another installed copy of this package. */
export function isRedisCacheError(error: unknown): error is RedisCacheError {
  return error instanceof Error && error.name === 'RedisCacheError' && typeof (error as { code?: unknown }).code === 'string';
}
