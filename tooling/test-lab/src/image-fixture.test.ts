import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { hasBinary } from './binary.ts';
import { buildImage, buildIndex, sha256Digest, tarWithFile, writeDirLayout, writeOciLayout } from './image-fixture.ts';
import type { ImageSpec } from './image-fixture.ts';
import { seedImage, skopeoInspectRaw } from './skopeo.ts';
import { tempDir } from './temp-dir.ts';

const hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('buildImage', () => {
  test('digests are the sha256 of the exact bytes, and every referenced blob is present', () => {
    const image = buildImage({ layers: [{ size: 10 }, 'plain bytes'], labels: { a: 'b' }, created: new Date('2025-02-03T04:05:06Z'), os: 'linux', architecture: 'arm', variant: 'v7', annotations: { 'org.opencontainers.image.source': 'x' } });
    expect(image.digest).toBe(`sha256:${hex(image.manifestBytes)}`);
    expect(JSON.parse(Buffer.from(image.manifestBytes).toString('utf8'))).toEqual(image.manifest);
    expect(image.manifest).toMatchObject({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { 'org.opencontainers.image.source': 'x' } });
    expect(image.config).toMatchObject({ created: '2025-02-03T04:05:06.000Z', os: 'linux', architecture: 'arm', variant: 'v7', config: { Labels: { a: 'b' } } });
    expect(image.platform).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(image.blobs.size).toBe(3);
    for (const [digest, bytes] of image.blobs) expect(digest).toBe(sha256Digest(bytes));
    expect(Buffer.from(image.blobs.get(image.layers[1]!.digest)!).toString()).toBe('plain bytes');
    expect(image.layers.map((layer) => layer.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar']);
    const diffIds = (image.config['rootfs'] as { diff_ids: string[] }).diff_ids;
    expect(diffIds[0]).toBe(sha256Digest(gunzipSync(image.blobs.get(image.layers[0]!.digest)!)));
    expect(diffIds[1]).toBe(image.layers[1]!.digest);
  });

  test('random layers differ between builds, given layers do not', () => {
    expect(buildImage().digest).not.toBe(buildImage().digest);
    expect(buildImage({ layers: ['same'] }).digest).toBe(buildImage({ layers: ['same'] }).digest);
  });

  test('Docker schema 2 media types on request', () => {
    const image = buildImage({ mediaTypes: 'docker' });
    expect(image.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(image.manifest).toMatchObject({ config: { mediaType: 'application/vnd.docker.container.image.v1+json' }, layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }] });
  });

  test('refuses a layer size that is not a whole number of bytes', () => {
    expect(() => buildImage({ layers: [{ size: -1 }] })).toThrow(/layer size must be a whole number of bytes, got -1/);
  });

  test('a seed makes generated layers reproducible, per seed, platform and position', () => {
    const layerDigests = (spec: ImageSpec) => buildImage(spec).layers.map((layer) => layer.digest);
    const seeded = layerDigests({ seed: 'x', layers: 2 });
    expect(layerDigests({ seed: 'x', layers: 2 })).toEqual(seeded);
    expect(new Set(seeded).size).toBe(2);
    expect(layerDigests({ seed: 'y', layers: 2 })).not.toEqual(seeded);
    expect(layerDigests({ seed: 'x', layers: 2, platform: 'linux/arm64' })).not.toEqual(seeded);
    expect(buildImage({ seed: 'x', created: '2025-01-01T00:00:00Z' }).digest).toBe(buildImage({ seed: 'x', created: new Date('2025-01-01T00:00:00Z') }).digest);
    expect(layerDigests({ layers: 2 })).not.toEqual(layerDigests({ layers: 2 }));
  });

  test('a platform string stands for os, architecture and variant', () => {
    const image = buildImage({ platform: 'linux/arm64/v8' });
    expect(image.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(image.config).toMatchObject({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(buildIndex({ images: [{ platform: 'linux/amd64' }, { platform: 'windows/amd64' }] }).images.map((child) => child.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'windows', architecture: 'amd64' },
    ]);
  });

  test('a layer count gives that many generated 1 KiB layers', () => {
    expect(buildImage({ layers: 0 }).layers).toEqual([]);
    const image = buildImage({ layers: 3 });
    expect(image.layers.map((layer) => layer.mediaType)).toEqual(Array(3).fill('application/vnd.oci.image.layer.v1.tar+gzip'));
    const tar = gunzipSync(image.blobs.get(image.layers[0]!.digest)!);
    expect(parseInt(tar.subarray(124, 135).toString(), 8)).toBe(1024);
  });

  test('verbatim gzip bytes get the gzip media type and the diff id of what they hold', () => {
    const inner = tarWithFile('a.txt', Buffer.from('a'));
    const gzipped = gzipSync(inner);
    const image = buildImage({ layers: [gzipped, { bytes: gzipped, mediaType: 'application/x-custom' }] });
    expect(image.layers.map((layer) => layer.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/x-custom']);
    expect((image.config['rootfs'] as { diff_ids: string[] }).diff_ids).toEqual([sha256Digest(inner), sha256Digest(inner)]);
  });

  test.each([
    [{ platform: 'linux' }, /platform "linux" is not "os\/arch\[\/variant\]"/],
    [{ platform: 'linux/amd64', architecture: 'arm64' }, /either platform "linux\/amd64" or os\/architecture\/variant/],
    [{ created: 'yesterday' }, /created "yesterday" is not a valid date/],
    [{ layers: -1 }, /layers must be a whole number or a list of layers, got -1/],
    [{ layers: 1.5 }, /got 1.5/],
  ] satisfies [ImageSpec, RegExp][])('refuses %j', (spec, message) => {
    expect(() => buildImage(spec)).toThrow(message);
    expect(() => buildImage(spec)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('tarWithFile', () => {
  test('writes a ustar header with a valid checksum, the content, and the end-of-archive blocks', () => {
    const archive = Buffer.from(tarWithFile('hello.txt', Buffer.from('hello world')));
    expect(archive.length).toBe(512 + 512 + 1024);
    expect(archive.subarray(0, 9).toString()).toBe('hello.txt');
    expect(archive.subarray(257, 262).toString()).toBe('ustar');
    expect(parseInt(archive.subarray(124, 135).toString(), 8)).toBe(11);
    const stored = parseInt(archive.subarray(148, 154).toString(), 8);
    let sum = 0;
    for (let index = 0; index < 512; index += 1) sum += index >= 148 && index < 156 ? 32 : archive[index]!;
    expect(stored).toBe(sum);
    expect(archive.subarray(512, 523).toString()).toBe('hello world');
    expect(archive.subarray(1024).every((byte) => byte === 0)).toBe(true);
    expect(() => tarWithFile('x'.repeat(100), Buffer.alloc(0))).toThrow(/longer than 99 bytes/);
  });

  test('is reproducible, with the mtime given', () => {
    const archive = tarWithFile('a.txt', Buffer.from('a'), { mtimeSeconds: 1_700_000_000 });
    expect(parseInt(archive.subarray(136, 147).toString(), 8)).toBe(1_700_000_000);
    expect(archive.equals(tarWithFile('a.txt', Buffer.from('a'), { mtimeSeconds: 1_700_000_000 }))).toBe(true);
    expect(parseInt(tarWithFile('a.txt', Buffer.from('a')).subarray(136, 147).toString(), 8)).toBe(0);
  });
});

describe('buildIndex', () => {
  test('lists each child with its platform, digest and size', () => {
    const index = buildIndex({ images: [{ architecture: 'amd64' }, { architecture: 'arm64', variant: 'v8' }], annotations: { k: 'v' } });
    expect(index.digest).toBe(`sha256:${hex(index.indexBytes)}`);
    expect(index.index).toMatchObject({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      annotations: { k: 'v' },
      manifests: [
        { digest: index.images[0]!.digest, size: index.images[0]!.manifestBytes.length, platform: { os: 'linux', architecture: 'amd64' } },
        { digest: index.images[1]!.digest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    });
    expect(index.blobs.size).toBe(4);
    expect(buildIndex({ images: [{}], mediaTypes: 'docker' }).mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(() => buildIndex({ images: [] })).toThrow(/at least one image/);
  });
});

describe('layouts', () => {
  test('writeOciLayout writes oci-layout, index.json and every blob by digest', async () => {
    await using dir = await tempDir();
    const index = buildIndex({ images: [{}, { architecture: 'arm64' }] });
    const image = buildImage();
    await writeOciLayout(dir.path, [{ ref: 'multi', artifact: index }, { ref: 'single', artifact: image }]);
    expect(JSON.parse(await readFile(join(dir.path, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const layoutIndex = JSON.parse(await readFile(join(dir.path, 'index.json'), 'utf8')) as { mediaType: string; manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(layoutIndex.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(layoutIndex.manifests.map((entry) => [entry.digest, entry.annotations['org.opencontainers.image.ref.name']])).toEqual([[index.digest, 'multi'], [image.digest, 'single']]);
    const names = await readdir(join(dir.path, 'blobs', 'sha256'));
    for (const name of names) expect(hex(await readFile(join(dir.path, 'blobs', 'sha256', name)))).toBe(name);
    expect(names).toHaveLength(1 + 2 + 4 + 1 + 2);
  });

  test('writeDirLayout writes the skopeo dir: transport files', async () => {
    await using dir = await tempDir();
    const index = buildIndex({ images: [{}], mediaTypes: 'docker' });
    await writeDirLayout(dir.path, index);
    expect(await readFile(join(dir.path, 'version'), 'utf8')).toBe('Directory Transport Version: 1.1\n');
    expect(hex(await readFile(join(dir.path, 'manifest.json')))).toBe(index.digest.slice(7));
    expect(hex(await readFile(join(dir.path, `${index.images[0]!.digest.slice(7)}.manifest.json`)))).toBe(index.images[0]!.digest.slice(7));
  });

  test.skipIf(!hasBinary('skopeo'))('skopeo reads the OCI layout back byte for byte', async () => {
    await using dir = await tempDir();
    const index = buildIndex({ images: [{}, { architecture: 'arm64' }] });
    await writeOciLayout(dir.path, [{ ref: 'multi', artifact: index }]);
    const raw = await skopeoInspectRaw(`oci:${dir.path}:multi`);
    expect(sha256Digest(raw)).toBe(index.digest);
  });

  test('seedImage refuses a reference that is not repository:tag', async () => {
    await expect(seedImage({ host: '127.0.0.1:1', credentials: undefined }, '127.0.0.1:5000/x:y')).rejects.toThrow(/"repository:tag" without a registry host or digest, got "127.0.0.1:5000\/x:y"/);
    await expect(seedImage({ host: '127.0.0.1:1', credentials: undefined }, 'x')).rejects.toThrow(/got "x"/);
  });
});
