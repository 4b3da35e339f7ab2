import { describe, expect, test } from 'vitest';
import * as image from './index.ts';
import { computeDigest } from './index.ts';

describe('media types', () => {
  test('constants have the registered values', () => {
    expect({
      ociManifest: image.MEDIA_TYPE_OCI_MANIFEST,
      ociIndex: image.MEDIA_TYPE_OCI_INDEX,
      dockerManifest: image.MEDIA_TYPE_DOCKER_MANIFEST,
      dockerList: image.MEDIA_TYPE_DOCKER_MANIFEST_LIST,
      schema1: image.MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST,
      schema1Signed: image.MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST,
      ociConfig: image.MEDIA_TYPE_OCI_CONFIG,
      dockerConfig: image.MEDIA_TYPE_DOCKER_CONFIG,
      ociLayer: image.MEDIA_TYPE_OCI_LAYER,
      ociLayerGzip: image.MEDIA_TYPE_OCI_LAYER_GZIP,
      ociLayerZstd: image.MEDIA_TYPE_OCI_LAYER_ZSTD,
      ociNondist: image.MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE,
      ociNondistGzip: image.MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE_GZIP,
      ociNondistZstd: image.MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE_ZSTD,
      dockerLayer: image.MEDIA_TYPE_DOCKER_LAYER,
      dockerLayerGzip: image.MEDIA_TYPE_DOCKER_LAYER_GZIP,
      dockerLayerZstd: image.MEDIA_TYPE_DOCKER_LAYER_ZSTD,
      dockerForeign: image.MEDIA_TYPE_DOCKER_FOREIGN_LAYER,
      ociEmpty: image.MEDIA_TYPE_OCI_EMPTY,
    }).toEqual({
      ociManifest: 'application/vnd.oci.image.manifest.v1+json',
      ociIndex: 'application/vnd.oci.image.index.v1+json',
      dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
      dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
      schema1: 'application/vnd.docker.distribution.manifest.v1+json',
      schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
      ociConfig: 'application/vnd.oci.image.config.v1+json',
      dockerConfig: 'application/vnd.docker.container.image.v1+json',
      ociLayer: 'application/vnd.oci.image.layer.v1.tar',
      ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
      ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
      ociNondist: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
      ociNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
      ociNondistZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
      dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
      dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
      dockerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      ociEmpty: 'application/vnd.oci.empty.v1+json',
    });
  });

  test('MANIFEST_MEDIA_TYPES is the full Accept list, without schema1', () => {
    expect(image.MANIFEST_MEDIA_TYPES).toEqual([
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
    ]);
    expect(Object.isFrozen(image.MANIFEST_MEDIA_TYPES)).toBe(true);
  });

  test('OCI empty descriptor is the digest of "{}"', () => {
    expect(image.OCI_EMPTY_DESCRIPTOR.digest).toBe(computeDigest('{}'));
    expect(Buffer.from(image.OCI_EMPTY_DESCRIPTOR.data, 'base64').toString()).toBe('{}');
    expect(image.OCI_EMPTY_DESCRIPTOR.size).toBe(2);
  });

  test.each([
    [image.MEDIA_TYPE_OCI_INDEX, true, false, false],
    [image.MEDIA_TYPE_DOCKER_MANIFEST_LIST, true, false, false],
    [`${image.MEDIA_TYPE_OCI_INDEX}; charset=utf-8`, true, false, false],
    [image.MEDIA_TYPE_OCI_MANIFEST, false, true, false],
    [image.MEDIA_TYPE_DOCKER_MANIFEST.toUpperCase(), false, true, false],
    [image.MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST, false, false, true],
    [image.MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST, false, false, true],
    ['application/json', false, false, false],
    [image.MEDIA_TYPE_OCI_CONFIG, false, false, false],
  ])('%s: index=%s manifest=%s schema1=%s', (type, index, manifest, schema1) => {
    expect(image.isIndexMediaType(type)).toBe(index);
    expect(image.isManifestMediaType(type)).toBe(manifest);
    expect(image.isSchema1MediaType(type)).toBe(schema1);
  });
});
