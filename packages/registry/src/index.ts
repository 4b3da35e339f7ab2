export type { Cache, CacheCallOptions, CacheSetOptions } from './cache.ts';
export { RegistryError, isRegistryError } from './errors.ts';
// The base of every error this project throws, re-exported so one import catches them all (and so cache backends
// that depend only on this package can extend it).
export { ScannerError, isScannerError } from '@scanner/image/scanner-error';
export type { ErrorFields, HintAudience, ScannerErrorOptions } from '@scanner/image';
export type { RegistryErrorCode, RegistryErrorDetails } from './errors.ts';
export type { Credential, CredentialProvider, RegistrySettings, SettingSources } from './settings.ts';

export { createRegistryClient } from './client.ts';
export { createRegistryClientFromConfig } from './from-config.ts';
export type { RegistryClientFromConfigOptions } from './from-config.ts';
export { namesRegistry, parseReference } from './reference-resolution.ts';
export type { ParseReferenceOptions } from './reference-resolution.ts';
export { DEFAULT_OPERATION_TIMEOUT_MS } from './operation-timeout.ts';
export type { ReferenceInput, RegistryClient, RegistryClientOptions, RegistrySettingsInput, RegistrySettingsSource } from './client.ts';
export type { HttpEngineName } from './http-engine.ts';
export type { BlobResult, GetBlobOptions } from './blobs.ts';
export { MANIFEST_ACCEPT } from './manifests.ts';
export type { GetManifestOptions, ManifestResult } from './manifests.ts';
export { CREATED_ANNOTATION, imageCreated } from './metadata.ts';
export type { ImageMetadata, ImageMetadataOptions, PlatformImageMetadata } from './metadata.ts';
export type { TagListOptions, TagPage } from './pagination.ts';
export type { PutManifestOptions, UploadBlobOptions, UploadBlobResult, UploadSource } from './upload.ts';
export type { CopyImageResult, CopyOptions } from './copy.ts';
export { REGISTRY_CHANNELS } from './events.ts';
export type { RegistryEvent, RequestEvent, RequestKind, ResponseEvent, RetryEvent, WarningEvent } from './events.ts';
export type { RateLimitInfo } from './rate-limit.ts';

export { createScanner } from './scanner.ts';
export type { CacheStrategy, ScanCandidate, ScanOptions, Scanner, ScannerOptions, SelectResult, SkippedTag } from './scanner.ts';

export { DOCKER_HUB_HOSTS, DOCKER_HUB_ORIGIN, isDockerHub, isLoopbackHost, normalizeRegistryHost, resolveEndpoint } from './endpoint.ts';
export type { ResolveEndpointOptions } from './endpoint.ts';
export { parseDurationMs } from './duration.ts';
export { createCachedCredentialProvider } from './credential-provider.ts';
export type { CachedCredentialProviderOptions } from './credential-provider.ts';
export { DEFAULT_CREDENTIAL_TIMEOUT_MS } from './credential-helpers.ts';
export { parseCredentialSource } from './credentials.ts';
export type { CredentialSourceOptions, CredentialSpec, KubernetesSecretReader } from './credentials.ts';
export { createDockerConfigCredentials, createDockerConfigJsonCredentials } from './docker-config.ts';
export type { DockerConfigCredentials, DockerConfigCredentialsOptions } from './docker-config.ts';
export { loadRegistriesConfig, parseRegistriesConfig, resolveRegistrySettings } from './registries-config.ts';
export type { RegistriesConfig, RegistriesConfigOptions, RegistryConfigEntry, RegistryLookup, ResolveRegistrySettingsOptions, TagSortMode } from './registries-config.ts';
// Cache backends: `@scanner/registry/cache-backend` (value and TTL rules). Wire-format parsers (WWW-Authenticate,
// Link, RateLimit headers) and the token realm policy are internal.
export type { PutManifestResult } from './upload.ts';
export { formatMirrorLocation, mirrorReferences, parseMirrorLocation } from './mirrors.ts';
export type { MirrorBlobOptions, MirrorBlobResult, MirrorLocation, MirrorManifestResult, MirrorReadOptions, MirrorSource } from './mirrors.ts';
export { referrerDescriptor, referrersTag } from './referrers.ts';
export type { CopyReferrersOptions, CopyReferrersResult, ListReferrersOptions, PushReferrerOptions, PushReferrerResult, ReferrersList, ReferrersVia, UpdateReferrersTagResult } from './referrers.ts';
export type { MirrorMethods, ReferrerMethods } from './sync-methods.ts';
export { isCountedRequest, quotaResetAtMs } from './rate-limit-floor.ts';
