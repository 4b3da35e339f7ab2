export type { Cache, CacheCallOptions, CacheSetOptions } from './cache.ts';
export { RegistryError, isRegistryError } from './errors.ts';
export type { RegistryErrorCode, RegistryErrorDetails } from './errors.ts';
export type { Credential, CredentialProvider, RegistrySettings } from './settings.ts';
