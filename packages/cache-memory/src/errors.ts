/**
 * Every failure `@scanner/cache-memory` reports. Match on `code` rather than `instanceof`: two copies of the
 * package can be installed side by side.
 *
 * - `config`: an option of `createMemoryCache` is invalid.
 * - `invalid_ttl`: `ttlMs` is not a positive integer.
 * - `invalid_value`: the value would not survive a JSON round trip.
 * - `too_large`: the entry alone is bigger than `maxBytes`, so it can never be stored.
 * - `aborted`: the call's `signal` was aborted.
 * - `closed`: the cache was closed.
 */
export type MemoryCacheErrorCode = 'config' | 'invalid_ttl' | 'invalid_value' | 'too_large' | 'aborted' | 'closed';

/** The one error type of `@scanner/cache-memory`. */
export class MemoryCacheError extends Error {
  override readonly name = 'MemoryCacheError';
  readonly code: MemoryCacheErrorCode;

  constructor(code: MemoryCacheErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(`@scanner/cache-memory: ${message}`, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
  }
}

/** True for any `MemoryCacheError`, including one thrown by another installed copy of this package. */
export function isMemoryCacheError(error: unknown): error is MemoryCacheError {
  return error instanceof Error && error.name === 'MemoryCacheError' && typeof (error as { code?: unknown }).code === 'string';
}
