/**
 * `@scanner/registry/cache-backend`: what a `Cache` backend needs beside the contract, so that every backend
 * refuses the same inputs with the same words (`@scanner/cache-memory` and `@scanner/cache-redis` use it).
 * Scanner users never need it; it is kept out of the main entry point.
 */
export type { Cache, CacheCallOptions, CacheSetOptions } from './cache.ts';
export { checkCacheTtlMs, encodeCacheValue, quoteCacheInput } from './cache-codec.ts';
export type { CacheInputFailure } from './cache-codec.ts';
