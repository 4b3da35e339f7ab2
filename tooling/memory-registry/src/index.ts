export { createMemoryRegistry } from './memory-registry.ts';
export type { ListenOptions, ManifestRecord, MemoryRegistry, MemoryRegistryOptions, RegistryAddress } from './memory-registry.ts';
export { buildImage } from './image-builder.ts';
export type { BuildImageOptions, BuiltImage, BuiltPlatformImage } from './image-builder.ts';
export { writeOciLayout } from './oci-layout.ts';
export { MemoryRegistryError, OCI_ERROR_STATUS } from './errors.ts';
export type { MemoryRegistryErrorCode, OciErrorBody, OciErrorCode } from './errors.ts';
export { MEDIA_TYPES } from './media-types.ts';
export type { RecordedRequest, RouteKind } from './request-log.ts';
