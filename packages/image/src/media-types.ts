/** OCI image manifest. */
export const MEDIA_TYPE_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** OCI image index (multi-platform). */
export const MEDIA_TYPE_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** Docker image manifest, schema 2. */
export const MEDIA_TYPE_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker manifest list (multi-platform), schema 2. */
export const MEDIA_TYPE_DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker schema 1, unsigned. Deprecated upstream; detected only to be rejected. */
export const MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+json';
/** Docker schema 1, signed (JWS). Deprecated upstream; detected only to be rejected. */
export const MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

/** OCI image config. */
export const MEDIA_TYPE_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** Docker image config. */
export const MEDIA_TYPE_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';

/** OCI layer, uncompressed tar. */
export const MEDIA_TYPE_OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
/** OCI layer, gzip. */
export const MEDIA_TYPE_OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** OCI layer, zstd. */
export const MEDIA_TYPE_OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
/** OCI non-distributable layer, uncompressed (deprecated by the image spec, still found in Windows images). */
export const MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
/** OCI non-distributable layer, gzip. */
export const MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
/** OCI non-distributable layer, zstd. */
export const MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';
/** Docker layer, uncompressed tar (rare; accepted by containerd and go-containerregistry). */
export const MEDIA_TYPE_DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
/** Docker layer, gzip (the usual Docker layer). */
export const MEDIA_TYPE_DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Docker layer, zstd (as written by containerd). */
export const MEDIA_TYPE_DOCKER_LAYER_ZSTD = 'application/vnd.docker.image.rootfs.diff.tar.zstd';
/** Docker foreign layer (Windows base layers served from `urls`). */
export const MEDIA_TYPE_DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

/** The OCI empty descriptor's media type (the `{}` config of artifacts). */
export const MEDIA_TYPE_OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

/** The OCI empty descriptor: the two bytes `{}`, as defined by the image spec. */
export const OCI_EMPTY_DESCRIPTOR: {
  readonly mediaType: typeof MEDIA_TYPE_OCI_EMPTY;
  readonly digest: string;
  readonly size: number;
  readonly data: string;
} = Object.freeze({
  mediaType: MEDIA_TYPE_OCI_EMPTY,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
});

/** Media types of a single-platform image manifest. */
export type ManifestMediaType = typeof MEDIA_TYPE_OCI_MANIFEST | typeof MEDIA_TYPE_DOCKER_MANIFEST;
/** Media types of a multi-platform index. */
export type IndexMediaType = typeof MEDIA_TYPE_OCI_INDEX | typeof MEDIA_TYPE_DOCKER_MANIFEST_LIST;
/** Docker schema1 media types (rejected). */
export type Schema1MediaType = typeof MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST | typeof MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST;

/**
 * The media types a client should list in `Accept` when fetching a manifest: OCI manifest and index, Docker
 * schema2 manifest and manifest list. Schema1 is left out on purpose, so registries that can convert do.
 */
export const MANIFEST_MEDIA_TYPES: readonly (ManifestMediaType | IndexMediaType)[] = Object.freeze([
  MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
]);

/** Strips parameters and case from a Content-Type value: `Application/JSON; charset=utf-8` → `application/json`. */
export function baseMediaType(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** True for an OCI index or Docker manifest list media type (parameters are ignored). */
export function isIndexMediaType(mediaType: string): boolean {
  const base = baseMediaType(mediaType);
  return base === MEDIA_TYPE_OCI_INDEX || base === MEDIA_TYPE_DOCKER_MANIFEST_LIST;
}

/** True for an OCI image manifest or Docker schema2 manifest media type (parameters are ignored). */
export function isManifestMediaType(mediaType: string): boolean {
  const base = baseMediaType(mediaType);
  return base === MEDIA_TYPE_OCI_MANIFEST || base === MEDIA_TYPE_DOCKER_MANIFEST;
}

/** True for either Docker schema1 media type (parameters are ignored). */
export function isSchema1MediaType(mediaType: string): boolean {
  const base = baseMediaType(mediaType);
  return base === MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST || base === MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST;
}
