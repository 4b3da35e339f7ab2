export type { Cache, CacheCallOptions, CacheSetOptions } from './cache.ts';
export { RegistryError, isRegistryError } from './errors.ts';
export type { RegistryErrorCode, RegistryErrorDetails } from './errors.ts';
