export { createMemoryCache } from './memory-cache.ts';
export type { MemoryCache, MemoryCacheOptions, MemoryCacheStats } from './memory-cache.ts';
export { MemoryCacheError, isMemoryCacheError } from './errors.ts';
export type { MemoryCacheErrorCode } from './errors.ts';
