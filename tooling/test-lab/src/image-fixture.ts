import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { TestLabError } from './errors.ts';

/** Which family of media types a fixture uses. */
export type FixtureMediaTypes = 'oci' | 'docker';

/** One layer: blob bytes used verbatim, or a random gzip tar holding one file of `size` bytes. */
export type LayerSpec = Uint8Array | string | { bytes: Uint8Array | string; mediaType?: string } | { size: number };

/** What to put in a single-platform image. */
export interface ImageSpec {
  /** @default one random gzip tar layer of 1 KiB */
  layers?: readonly LayerSpec[];
  /** Config `created`. @default '2024-01-01T00:00:00Z' */
  created?: Date | string;
  /** Config `config.Labels`. */
  labels?: Readonly<Record<string, string>>;
  /** @default 'linux' */
  os?: string;
  /** @default 'amd64' */
  architecture?: string;
  variant?: string;
  /** Manifest `annotations`. */
  annotations?: Readonly<Record<string, string>>;
  /** @default 'oci' */
  mediaTypes?: FixtureMediaTypes;
}

/** A multi-platform index (OCI image index or Docker manifest list). */
export interface IndexSpec {
  /** One child per platform; each child's platform comes from its os/architecture/variant. */
  images: readonly ImageSpec[];
  annotations?: Readonly<Record<string, string>>;
  /** Applies to the index and every child unless the child says otherwise. @default 'oci' */
  mediaTypes?: FixtureMediaTypes;
}

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** A built image: exact bytes and digests, plus every blob it references. */
export interface BuiltImage {
  kind: 'image';
  mediaType: string;
  /** Parsed manifest. */
  manifest: Record<string, unknown>;
  /** The exact manifest bytes (what the registry will store and hash). */
  manifestBytes: Uint8Array;
  /** `sha256:…` of `manifestBytes`. */
  digest: string;
  config: Record<string, unknown>;
  configDigest: string;
  layers: readonly Descriptor[];
  platform: { os: string; architecture: string; variant?: string };
  /** Config and layer blobs by digest. */
  blobs: ReadonlyMap<string, Uint8Array>;
}

/** A built index with its children. */
export interface BuiltIndex {
  kind: 'index';
  mediaType: string;
  index: Record<string, unknown>;
  indexBytes: Uint8Array;
  digest: string;
  images: readonly BuiltImage[];
  /** Every blob of every child (configs and layers), by digest. */
  blobs: ReadonlyMap<string, Uint8Array>;
}

/** Either kind of built artifact. */
export type BuiltArtifact = BuiltImage | BuiltIndex;

const MEDIA = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    index: 'application/vnd.oci.image.index.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
    layerTar: 'application/vnd.oci.image.layer.v1.tar',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    // Docker schema 2 has no uncompressed layer type that every client accepts; the gzip one is used for verbatim bytes too.
    layerTar: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
} as const;

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** A minimal ustar archive holding one regular file. */
export function tarWithFile(name: string, content: Uint8Array): Uint8Array {
  if (Buffer.byteLength(name) > 99) throw new TestLabError('INVALID_OPTION', `test-lab: tar entry name ${JSON.stringify(name)} is longer than 99 bytes`);
  const header = Buffer.alloc(512);
  const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, '0') + '\0';
  header.write(name, 0, 'utf8');
  header.write(octal(0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(content.length, 12), 124);
  header.write(octal(0, 12), 136);
  header.write('        ', 148); // checksum field counts as spaces while summing
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148);
  const padding = (512 - (content.length % 512)) % 512;
  return Buffer.concat([header, content, Buffer.alloc(padding), Buffer.alloc(1024)]);
}

function buildLayer(spec: LayerSpec, media: (typeof MEDIA)[FixtureMediaTypes]): { descriptor: Descriptor; bytes: Uint8Array; diffId: string } {
  let bytes: Uint8Array;
  let mediaType: string;
  if (typeof spec === 'string' || spec instanceof Uint8Array) {
    bytes = toBytes(spec);
    mediaType = media.layerTar;
  } else if ('bytes' in spec) {
    bytes = toBytes(spec.bytes);
    mediaType = spec.mediaType ?? media.layerTar;
  } else {
    if (!Number.isInteger(spec.size) || spec.size < 0) throw new TestLabError('INVALID_OPTION', `test-lab: layer size must be a whole number of bytes, got ${String(spec.size)}`);
    const tar = tarWithFile(`file-${randomBytes(6).toString('hex')}.bin`, randomBytes(spec.size));
    bytes = gzipSync(tar);
    mediaType = media.layerGzip;
  }
  let diffId = sha256Digest(bytes);
  if (/gzip/.test(mediaType)) {
    try {
      diffId = sha256Digest(gunzipSync(bytes));
    } catch {
      // verbatim bytes that are not gzip: the diff id is only informative here
    }
  }
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length }, bytes, diffId };
}

/** Builds an image manifest, its config and layers in memory. */
export function buildImage(spec: ImageSpec = {}): BuiltImage {
  const media = MEDIA[spec.mediaTypes ?? 'oci'];
  const layers = (spec.layers ?? [{ size: 1024 }]).map((layer) => buildLayer(layer, media));
  const created = spec.created instanceof Date ? spec.created.toISOString() : spec.created ?? '2024-01-01T00:00:00Z';
  const platform = {
    os: spec.os ?? 'linux',
    architecture: spec.architecture ?? 'amd64',
    ...(spec.variant === undefined ? {} : { variant: spec.variant }),
  };
  const config: Record<string, unknown> = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: { Labels: { ...spec.labels } },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map(() => ({ created, created_by: 'test-lab' })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDescriptor: Descriptor = { mediaType: media.config, digest: sha256Digest(configBytes), size: configBytes.length };
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: media.manifest,
    config: configDescriptor,
    layers: layers.map((layer) => layer.descriptor),
    ...(spec.annotations === undefined ? {} : { annotations: { ...spec.annotations } }),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const blobs = new Map<string, Uint8Array>([[configDescriptor.digest, configBytes]]);
  for (const layer of layers) blobs.set(layer.descriptor.digest, layer.bytes);
  return {
    kind: 'image',
    mediaType: media.manifest,
    manifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    config,
    configDigest: configDescriptor.digest,
    layers: layers.map((layer) => layer.descriptor),
    platform,
    blobs,
  };
}

/** Builds a multi-platform index and its child images in memory. */
export function buildIndex(spec: IndexSpec): BuiltIndex {
  if (spec.images.length === 0) throw new TestLabError('INVALID_OPTION', 'test-lab: an index needs at least one image');
  const family = spec.mediaTypes ?? 'oci';
  const media = MEDIA[family];
  const images = spec.images.map((image) => buildImage({ mediaTypes: family, ...image }));
  const index: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: media.index,
    manifests: images.map((image) => ({ mediaType: image.mediaType, digest: image.digest, size: image.manifestBytes.length, platform: image.platform })),
    ...(spec.annotations === undefined ? {} : { annotations: { ...spec.annotations } }),
  };
  const indexBytes = Buffer.from(JSON.stringify(index));
  const blobs = new Map<string, Uint8Array>();
  for (const image of images) for (const [digest, bytes] of image.blobs) blobs.set(digest, bytes);
  return { kind: 'index', mediaType: media.index, index, indexBytes, digest: sha256Digest(indexBytes), images, blobs };
}

/** One entry of an OCI layout's index.json. */
export interface LayoutEntry {
  /** `org.opencontainers.image.ref.name`, used as `oci:DIR:REF`. */
  ref: string;
  artifact: BuiltArtifact;
}

/** Writes an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) into `dir`. */
export async function writeOciLayout(dir: string, entries: readonly LayoutEntry[]): Promise<void> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const blobs = new Map<string, Uint8Array>();
  for (const { artifact } of entries) {
    for (const [digest, bytes] of artifact.blobs) blobs.set(digest, bytes);
    if (artifact.kind === 'index') {
      blobs.set(artifact.digest, artifact.indexBytes);
      for (const image of artifact.images) blobs.set(image.digest, image.manifestBytes);
    } else {
      blobs.set(artifact.digest, artifact.manifestBytes);
    }
  }
  await Promise.all([...blobs].map(([digest, bytes]) => writeFile(join(blobDir, digest.slice('sha256:'.length)), bytes)));
  const index = {
    schemaVersion: 2,
    manifests: entries.map(({ ref, artifact }) => ({
      mediaType: artifact.mediaType,
      digest: artifact.digest,
      size: artifact.kind === 'index' ? artifact.indexBytes.length : artifact.manifestBytes.length,
      annotations: { 'org.opencontainers.image.ref.name': ref },
    })),
  };
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

/**
 * Writes one artifact in skopeo's `dir:` transport layout (`version`, `manifest.json`, children as
 * `<hex>.manifest.json`, blobs by hex). skopeo's `oci:` transport only reads OCI media types, so Docker
 * schema 2 fixtures are seeded from here.
 */
export async function writeDirLayout(dir: string, artifact: BuiltArtifact): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files = new Map<string, Uint8Array>([['version', Buffer.from('Directory Transport Version: 1.1\n')]]);
  if (artifact.kind === 'index') {
    files.set('manifest.json', artifact.indexBytes);
    for (const image of artifact.images) files.set(`${image.digest.slice('sha256:'.length)}.manifest.json`, image.manifestBytes);
  } else {
    files.set('manifest.json', artifact.manifestBytes);
  }
  for (const [digest, bytes] of artifact.blobs) files.set(digest.slice('sha256:'.length), bytes);
  await Promise.all([...files].map(([name, bytes]) => writeFile(join(dir, name), bytes)));
}
