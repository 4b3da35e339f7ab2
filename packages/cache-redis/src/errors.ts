import { ScannerError } from '@scanner/registry';
import type { ScannerErrorOptions } from '@scanner/registry';

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
 * - `auth_failed`: Redis refused the credentials (`WRONGPASS`, `NOAUTH`); the message quotes Redis, never the password.
 * - `tls`: the TLS handshake failed (a `rediss://` URL to a plain-text port, an untrusted certificate).
 * - `server_error`: Redis answered with an error (out of memory, wrong type...).
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
  | 'auth_failed'
  | 'tls'
  | 'server_error'
  | 'aborted'
  | 'closed';

/**
 * The one error type of `@scanner/cache-redis`, a `ScannerError` (catch any error of this project with
 * `isScannerError`). Messages never contain the password of a Redis URL.
 */
export class RedisCacheError extends ScannerError<RedisCacheErrorCode> {
  override readonly name = 'RedisCacheError';

  constructor(code: RedisCacheErrorCode, message: string, options: ScannerErrorOptions = {}) {
    super('@scanner/cache-redis', code, message, options);
  }
}

/** True for any `RedisCacheError`, including one thrown by another installed copy of this package. */
export function isRedisCacheError(error: unknown): error is RedisCacheError {
  return error instanceof Error && error.name === 'RedisCacheError' && typeof (error as { code?: unknown }).code === 'string';
}
