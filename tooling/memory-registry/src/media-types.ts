import {
  MEDIA_TYPE_DOCKER_CONFIG,
  MEDIA_TYPE_DOCKER_LAYER,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST,
  MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST,
  MEDIA_TYPE_OCI_CONFIG,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER,
  MEDIA_TYPE_OCI_LAYER_GZIP,
  MEDIA_TYPE_OCI_MANIFEST,
} from '@scanner/image';

/**
 * Manifest and blob media types the registry and the image builder use, by short name. The values are the
 * `MEDIA_TYPE_*` constants of `@scanner/image`; this map is kept for tests and helpers that already use it.
 */
export const MEDIA_TYPES = {
  ociManifest: MEDIA_TYPE_OCI_MANIFEST,
  ociIndex: MEDIA_TYPE_OCI_INDEX,
  ociConfig: MEDIA_TYPE_OCI_CONFIG,
  ociLayerGzip: MEDIA_TYPE_OCI_LAYER_GZIP,
  ociLayer: MEDIA_TYPE_OCI_LAYER,
  dockerManifest: MEDIA_TYPE_DOCKER_MANIFEST,
  dockerManifestList: MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  dockerConfig: MEDIA_TYPE_DOCKER_CONFIG,
  dockerLayerGzip: MEDIA_TYPE_DOCKER_LAYER_GZIP,
  dockerLayer: MEDIA_TYPE_DOCKER_LAYER,
  dockerSchema1: MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST,
  dockerSchema1Signed: MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST,
} as const;
