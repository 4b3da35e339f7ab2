import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  MEDIA_TYPE_DOCKER_CONFIG,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_CONFIG,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER,
  MEDIA_TYPE_OCI_LAYER_GZIP,
  MEDIA_TYPE_OCI_MANIFEST,
  computeDigest,
  formatPlatform,
  isImageError,
  parseDigest,
  parsePlatform,
} from '@scanner/image';
import type { Platform } from '@scanner/image';
import { TestLabError } from './errors.ts';

/** Which family of media types a fixture uses. */
export type FixtureMediaTypes = 'oci' | 'docker';

/**
 * One layer: blob bytes used verbatim (gzip recognised by its magic bytes), or a generated gzip tar holding
 * one file of `size` bytes (random, or derived from the image's `seed`).
 */
export type LayerSpec = Uint8Array | string | { bytes: Uint8Array | string; mediaType?: string } | { size: number };

/** What to put in a single-platform image. */
export interface ImageSpec {
  /**
   * The layers, or how many generated layers of 1 KiB.
   * @default 1
   */
  layers?: number | readonly LayerSpec[];
  /** Config `created`, also the mtime of generated layer files. @default '2024-01-01T00:00:00.000Z' */
  created?: Date | string;
  /** Config `config.Labels`. */
  labels?: Readonly<Record<string, string>>;
  /** The platform as `os/arch[/variant]`, instead of `os`, `architecture` and `variant`. */
  platform?: string;
  /** @default 'linux' */
  os?: string;
  /** @default 'amd64' */
  architecture?: string;
  variant?: string;
  /** Manifest `annotations`. */
  annotations?: Readonly<Record<string, string>>;
  /** @default 'oci' */
  mediaTypes?: FixtureMediaTypes;
  /**
   * Makes generated layers reproducible: their bytes derive from the seed, the platform and the layer's
   * position, so the same spec gives the same digests. Without it they are random. @default undefined
   */
  seed?: string;
}

/** A multi-platform index (OCI image index or Docker manifest list). */
export interface IndexSpec {
  /** One child per platform; each child's platform comes from its `platform` or os/architecture/variant. */
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
  manifestBytes: Buffer;
  /** `sha256:…` of `manifestBytes`. */
  digest: string;
  config: Record<string, unknown>;
  configDigest: string;
  layers: readonly Descriptor[];
  platform: Platform;
  /** Config and layer blobs by digest. */
  blobs: ReadonlyMap<string, Buffer>;
}

/** A built index with its children. */
export interface BuiltIndex {
  kind: 'index';
  mediaType: string;
  index: Record<string, unknown>;
  indexBytes: Buffer;
  digest: string;
  images: readonly BuiltImage[];
  /** Every blob of every child (configs and layers), by digest. */
  blobs: ReadonlyMap<string, Buffer>;
}

/** Either kind of built artifact. */
export type BuiltArtifact = BuiltImage | BuiltIndex;

const MEDIA = {
  oci: {
    manifest: MEDIA_TYPE_OCI_MANIFEST,
    index: MEDIA_TYPE_OCI_INDEX,
    config: MEDIA_TYPE_OCI_CONFIG,
    layerGzip: MEDIA_TYPE_OCI_LAYER_GZIP,
    layerTar: MEDIA_TYPE_OCI_LAYER,
  },
  docker: {
    manifest: MEDIA_TYPE_DOCKER_MANIFEST,
    index: MEDIA_TYPE_DOCKER_MANIFEST_LIST,
    config: MEDIA_TYPE_DOCKER_CONFIG,
    layerGzip: MEDIA_TYPE_DOCKER_LAYER_GZIP,
    // Docker schema 2 has no uncompressed layer type that every client accepts; the gzip one is used for verbatim bytes too.
    layerTar: MEDIA_TYPE_DOCKER_LAYER_GZIP,
  },
} as const;

const DEFAULT_CREATED = '2024-01-01T00:00:00.000Z';
const GENERATED_LAYER_BYTES = 1024;

/** `sha256:<hex>` of some bytes (`computeDigest` of `@scanner/image`). */
export function sha256Digest(bytes: Uint8Array | string): string {
  return computeDigest(bytes);
}

function toBuffer(data: Uint8Array | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

/**
 * A minimal ustar archive holding one regular file, byte-for-byte reproducible (fixed owner and mode).
 * @param options.mtimeSeconds the file's mtime. @default 0
 */
export function tarWithFile(name: string, content: Uint8Array, options: { mtimeSeconds?: number } = {}): Buffer {
  if (Buffer.byteLength(name) > 99) throw new TestLabError('INVALID_OPTION', `test-lab: tar entry name ${JSON.stringify(name)} is longer than 99 bytes`);
  const header = Buffer.alloc(512);
  const octal = (value: number, length: number): string => Math.floor(value).toString(8).padStart(length - 1, '0') + '\0';
  header.write(name, 0, 'utf8');
  header.write(octal(0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(content.length, 12), 124);
  header.write(octal(options.mtimeSeconds ?? 0, 12), 136);
  header.write('        ', 148); // checksum field counts as spaces while summing
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  header.write('root', 265);
  header.write('root', 297);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148);
  const padding = (512 - (content.length % 512)) % 512;
  return Buffer.concat([header, content, Buffer.alloc(padding), Buffer.alloc(1024)]);
}

/** `size` bytes: random, or a sha256 counter stream of `seed` so that the same seed gives the same bytes. */
function generatedBytes(size: number, seed: string | undefined): Buffer {
  if (seed === undefined) return randomBytes(size);
  const bytes = Buffer.alloc(size);
  for (let offset = 0, block = 0; offset < size; block += 1) {
    offset += createHash('sha256').update(`${seed}\n${block}`).digest().copy(bytes, offset);
  }
  return bytes;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

interface LayerContext {
  media: (typeof MEDIA)[FixtureMediaTypes];
  index: number;
  /** Seed of this layer's generated bytes (image seed, platform and position), if the image has a seed. */
  seed: string | undefined;
  mtimeSeconds: number;
}

function buildLayer(spec: LayerSpec, context: LayerContext): { descriptor: Descriptor; bytes: Buffer; diffId: string } {
  const { media } = context;
  let bytes: Buffer;
  let mediaType: string | undefined;
  if (typeof spec === 'string' || spec instanceof Uint8Array) {
    bytes = toBuffer(spec);
  } else if ('bytes' in spec) {
    bytes = toBuffer(spec.bytes);
    mediaType = spec.mediaType;
  } else {
    if (!Number.isInteger(spec.size) || spec.size < 0) throw new TestLabError('INVALID_OPTION', `test-lab: layer size must be a whole number of bytes, got ${String(spec.size)}`);
    const tar = tarWithFile(`layer-${context.index}.bin`, generatedBytes(spec.size, context.seed), { mtimeSeconds: context.mtimeSeconds });
    // zlib writes no timestamp into the gzip header, so the same tar always compresses to the same bytes.
    bytes = gzipSync(tar, { level: 6 });
  }
  const gzipped = isGzip(bytes);
  let diffId = computeDigest(bytes);
  if (gzipped) {
    try {
      diffId = computeDigest(gunzipSync(bytes));
    } catch {
      // verbatim bytes that only look like gzip: the diff id is only informative here
    }
  }
  mediaType ??= gzipped ? media.layerGzip : media.layerTar;
  return { descriptor: { mediaType, digest: computeDigest(bytes), size: bytes.length }, bytes, diffId };
}

function resolvePlatform(spec: ImageSpec): Platform {
  if (spec.platform === undefined) {
    return { os: spec.os ?? 'linux', architecture: spec.architecture ?? 'amd64', ...(spec.variant === undefined ? {} : { variant: spec.variant }) };
  }
  if (spec.os !== undefined || spec.architecture !== undefined || spec.variant !== undefined) {
    throw new TestLabError('INVALID_OPTION', `test-lab: give either platform ${JSON.stringify(spec.platform)} or os/architecture/variant, not both`);
  }
  try {
    return parsePlatform(spec.platform);
  } catch (error) {
    if (!isImageError(error)) throw error;
    throw new TestLabError('INVALID_OPTION', `test-lab: platform ${JSON.stringify(spec.platform)} is not "os/arch[/variant]", e.g. "linux/arm64/v8"`, { cause: error });
  }
}

function resolveCreated(value: Date | string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new TestLabError('INVALID_OPTION', `test-lab: created ${JSON.stringify(String(value))} is not a valid date`);
  return date.toISOString();
}

function resolveLayers(layers: number | readonly LayerSpec[]): readonly LayerSpec[] {
  if (typeof layers !== 'number') return layers;
  if (!Number.isInteger(layers) || layers < 0) throw new TestLabError('INVALID_OPTION', `test-lab: layers must be a whole number or a list of layers, got ${String(layers)}`);
  return Array.from({ length: layers }, () => ({ size: GENERATED_LAYER_BYTES }));
}

/** Builds an image manifest, its config and layers in memory. */
export function buildImage(spec: ImageSpec = {}): BuiltImage {
  const media = MEDIA[spec.mediaTypes ?? 'oci'];
  const platform = resolvePlatform(spec);
  const created = resolveCreated(spec.created ?? DEFAULT_CREATED);
  const layerSeed = spec.seed === undefined ? undefined : `${spec.seed}\n${formatPlatform(platform)}`;
  const layers = resolveLayers(spec.layers ?? 1).map((layer, index) =>
    buildLayer(layer, { media, index, seed: layerSeed === undefined ? undefined : `${layerSeed}\n${index}`, mtimeSeconds: Date.parse(created) / 1000 }),
  );
  const config: Record<string, unknown> = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['/bin/sh'],
      ...(spec.labels === undefined ? {} : { Labels: { ...spec.labels } }),
    },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map((_, index) => ({ created, created_by: `test-lab: layer ${index}` })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDescriptor: Descriptor = { mediaType: media.config, digest: computeDigest(configBytes), size: configBytes.length };
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: media.manifest,
    config: configDescriptor,
    layers: layers.map((layer) => layer.descriptor),
    ...(spec.annotations === undefined ? {} : { annotations: { ...spec.annotations } }),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const blobs = new Map<string, Buffer>([[configDescriptor.digest, configBytes]]);
  for (const layer of layers) blobs.set(layer.descriptor.digest, layer.bytes);
  return {
    kind: 'image',
    mediaType: media.manifest,
    manifest,
    manifestBytes,
    digest: computeDigest(manifestBytes),
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
  const blobs = new Map<string, Buffer>();
  for (const image of images) for (const [digest, bytes] of image.blobs) blobs.set(digest, bytes);
  return { kind: 'index', mediaType: media.index, index, indexBytes, digest: computeDigest(indexBytes), images, blobs };
}

/** One entry of an OCI layout's index.json. */
export interface LayoutEntry {
  /** `org.opencontainers.image.ref.name`, used as `oci:DIR:REF`. */
  ref: string;
  artifact: BuiltArtifact;
}

/** Writes an OCI image layout (`oci-layout`, `index.json`, `blobs/<algorithm>/<hex>`) into `dir`. */
export async function writeOciLayout(dir: string, entries: readonly LayoutEntry[]): Promise<void> {
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
  await Promise.all([...blobs].map(async ([digest, bytes]) => {
    const { algorithm, hex } = parseDigest(digest);
    await mkdir(join(dir, 'blobs', algorithm), { recursive: true });
    await writeFile(join(dir, 'blobs', algorithm, hex), bytes);
  }));
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_INDEX,
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
