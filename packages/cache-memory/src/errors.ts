import { ScannerError } from '@scanner/registry';
import type { ScannerErrorOptions } from '@scanner/registry';

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

/** The one error type of `@scanner/cache-memory`, a `ScannerError` (catch any error of this project with `isScannerError`). */
export class MemoryCacheError extends ScannerError<MemoryCacheErrorCode> {
  override readonly name = 'MemoryCacheError';

  constructor(code: MemoryCacheErrorCode, message: string, options: ScannerErrorOptions = {}) {
    super('@scanner/cache-memory', code, message, options);
  }
}

/** True for any `MemoryCacheError`, including one thrown by another installed copy of this package. */
export function isMemoryCacheError(error: unknown): error is MemoryCacheError {
  return error instanceof Error && error.name === 'MemoryCacheError' && typeof (error as { code?: unknown }).code === 'string';
}
