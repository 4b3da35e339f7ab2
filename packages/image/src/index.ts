export {
  computeDigest,
  createDigester,
  isDigest,
  parseDigest,
  verifyDigest,
} from './digest.ts';
export type { Digester, DigestAlgorithm, ParsedDigest } from './digest.ts';
export { ImageError, isImageError } from './errors.ts';
export type { ImageErrorCode, ImageErrorOptions } from './errors.ts';
export {
  descriptorPlatformSchema,
  descriptorSchema,
  digestSchema,
  imageConfigSchema,
  imageIndexSchema,
  imageManifestSchema,
  parseImageConfig,
  parseManifest,
} from './manifest.ts';
export type {
  Descriptor,
  DescriptorPlatform,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  ParsedManifest,
  ParseManifestOptions,
} from './manifest.ts';
export {
  MANIFEST_MEDIA_TYPES,
  MEDIA_TYPE_DOCKER_CONFIG,
  MEDIA_TYPE_DOCKER_FOREIGN_LAYER,
  MEDIA_TYPE_DOCKER_LAYER,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_DOCKER_LAYER_ZSTD,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST,
  MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST,
  MEDIA_TYPE_OCI_CONFIG,
  MEDIA_TYPE_OCI_EMPTY,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER,
  MEDIA_TYPE_OCI_LAYER_GZIP,
  MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE,
  MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE_GZIP,
  MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE_ZSTD,
  MEDIA_TYPE_OCI_LAYER_ZSTD,
  MEDIA_TYPE_OCI_MANIFEST,
  OCI_EMPTY_DESCRIPTOR,
  baseMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
} from './media-types.ts';
export type { IndexMediaType, ManifestMediaType, Schema1MediaType } from './media-types.ts';
export { formatPlatform, normalizePlatform, parsePlatform, platformMatches } from './platform.ts';
export type { Platform } from './platform.ts';
export {
  DOCKER_HUB_REGISTRY,
  MAX_REPOSITORY_LENGTH,
  createImageReference,
  familiarName,
  familiarString,
  formatImageReference,
  isImageReference,
  nameOnly,
  parseImageReference,
  withDigest,
  withRegistry,
  withTag,
  withoutTagOrDigest,
} from './reference.ts';
export type { ImageReference, ImageReferenceParts } from './reference.ts';
export { ScannerError, isScannerError } from './scanner-error.ts';
export type { ErrorFields, HintAudience, ScannerErrorOptions } from './scanner-error.ts';
