import { gunzipSync, gzipSync } from 'node:zlib';
import { computeDigest } from '@scanner/image';
import { describe, expect, test } from 'vitest';
import { buildImage } from './image-builder.ts';
import { MEDIA_TYPES } from './media-types.ts';

const sha256 = (bytes: Uint8Array) => computeDigest(bytes);
const json = (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;

describe('buildImage', () => {
  test('gives the same bytes for the same inputs and different digests for different seeds', () => {
    const a = buildImage({ seed: 'x', layers: 2 });
    const b = buildImage({ seed: 'x', layers: 2 });
    const c = buildImage({ seed: 'y', layers: 2 });
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect(a.digest).toBe(b.digest);
    expect(c.digest).not.toBe(a.digest);
  });

  test('a single image is an OCI manifest whose descriptors match its blobs', () => {
    const image = buildImage({ layers: 2, labels: { 'org.opencontainers.image.version': '1.2.3' }, annotations: { team: 'a' }, created: '2025-05-06T07:08:09Z' });
    expect(image.mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(image.digest).toBe(sha256(image.bytes));
    const manifest = json(image.bytes) as { config: { digest: string; size: number; mediaType: string }; layers: { digest: string; size: number; mediaType: string }[]; annotations: unknown };
    expect(manifest.annotations).toEqual({ team: 'a' });
    expect(manifest.config.mediaType).toBe(MEDIA_TYPES.ociConfig);
    expect(manifest.layers).toHaveLength(2);
    for (const descriptor of [manifest.config, ...manifest.layers]) {
      const blob = image.blobs.get(descriptor.digest);
      expect(blob).toBeDefined();
      expect(sha256(blob!)).toBe(descriptor.digest);
      expect(blob!.length).toBe(descriptor.size);
    }
    const config = json(image.blobs.get(manifest.config.digest)!) as { created: string; os: string; architecture: string; config: { Labels: unknown }; rootfs: { diff_ids: string[] } };
    expect(config).toMatchObject({ created: '2025-05-06T07:08:09.000Z', os: 'linux', architecture: 'amd64', config: { Labels: { 'org.opencontainers.image.version': '1.2.3' } } });
    // diff_ids are the digests of the uncompressed layers.
    expect(config.rootfs.diff_ids).toEqual(manifest.layers.map((layer) => sha256(gunzipSync(image.blobs.get(layer.digest)!))));
  });

  test('generated layers are one-file ustar archives dated at created, and the seed decides their bytes', () => {
    const image = buildImage({ seed: 's', created: '2025-01-02T03:04:05Z' });
    const tar = gunzipSync(image.blobs.get(image.images[0]!.layerDigests[0]!)!);
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(0, 100).toString('utf8').replace(/\0+$/, '')).toBe('layer-0.bin');
    expect(tar.subarray(257, 262).toString('latin1')).toBe('ustar');
    expect(parseInt(tar.subarray(124, 135).toString('latin1'), 8)).toBe(1024);
    expect(parseInt(tar.subarray(136, 147).toString('latin1'), 8)).toBe(Date.parse('2025-01-02T03:04:05Z') / 1000);
    expect(buildImage({ seed: 's', created: '2025-01-02T03:04:05Z' }).images[0]!.layerDigests).toEqual(image.images[0]!.layerDigests);
    expect(buildImage({ seed: 't', created: '2025-01-02T03:04:05Z' }).images[0]!.layerDigests).not.toEqual(image.images[0]!.layerDigests);
  });

  test('keeps the test-lab artifact it was built from', () => {
    const image = buildImage({ platforms: ['linux/amd64', 'linux/arm/v7'] });
    expect(image.artifact.kind).toBe('index');
    expect(image.artifact.digest).toBe(image.digest);
    expect(image.images.map((child) => child.platform)).toEqual(['linux/amd64', 'linux/arm/v7']);
    expect(image.blobs).toEqual(new Map(image.artifact.blobs));
  });

  test('platforms give an index with one manifest per platform, variants kept', () => {
    const image = buildImage({ platforms: ['linux/amd64', 'linux/arm64/v8'], annotations: { a: 'b' } });
    expect(image.mediaType).toBe(MEDIA_TYPES.ociIndex);
    const index = json(image.bytes) as { manifests: { digest: string; platform: unknown }[]; annotations: unknown };
    expect(index.annotations).toEqual({ a: 'b' });
    expect(index.manifests.map((entry) => entry.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
    expect(index.manifests.map((entry) => entry.digest)).toEqual(image.images.map((child) => child.digest));
    expect(new Set(image.images.map((child) => child.configDigest)).size).toBe(2);
  });

  test('a single platform still gives an index', () => {
    expect(buildImage({ platforms: ['linux/arm64'] }).mediaType).toBe(MEDIA_TYPES.ociIndex);
  });

  test('docker format uses schema2 media types and leaves annotations out', () => {
    const image = buildImage({ format: 'docker', platforms: ['linux/amd64'], annotations: { a: 'b' } });
    expect(image.mediaType).toBe(MEDIA_TYPES.dockerManifestList);
    expect(json(image.bytes)).not.toHaveProperty('annotations');
    const child = json(image.images[0]!.bytes) as { mediaType: string; config: { mediaType: string }; layers: { mediaType: string }[] };
    expect(child.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(child.config.mediaType).toBe(MEDIA_TYPES.dockerConfig);
    expect(child.layers[0]!.mediaType).toBe(MEDIA_TYPES.dockerLayerGzip);
  });

  test('given layers are stored as they are, gzip detected by magic bytes', () => {
    const plain = Buffer.from('not really a tar');
    const gzipped = gzipSync(Buffer.from('inner'));
    const image = buildImage({ layers: [plain, gzipped] });
    const manifest = json(image.bytes) as { layers: { mediaType: string; digest: string }[]; config: { digest: string } };
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual([MEDIA_TYPES.ociLayer, MEDIA_TYPES.ociLayerGzip]);
    expect(manifest.layers.map((layer) => layer.digest)).toEqual([sha256(plain), sha256(gzipped)]);
    const config = json(image.blobs.get(manifest.config.digest)!) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual([sha256(plain), sha256(Buffer.from('inner'))]);
  });

  test('zero layers is allowed', () => {
    expect(json(buildImage({ layers: 0 }).bytes)).toMatchObject({ layers: [] });
  });

  test.each([
    [{ platforms: ['linux'] }, /platform "linux"/],
    [{ platforms: [] }, /platforms is empty/],
    [{ created: 'yesterday' }, /created "yesterday"/],
    [{ layers: -1 }, /layers must be/],
  ])('refuses bad options %j', (options, message) => {
    expect(() => buildImage(options)).toThrow(message);
    try {
      buildImage(options);
    } catch (error) {
      expect(error).toMatchObject({ code: 'OPTION_INVALID' });
    }
  });
});
