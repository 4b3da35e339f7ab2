import { gunzipSync, gzipSync } from 'node:zlib';
import {
  MEDIA_TYPE_DOCKER_CONFIG,
  MEDIA_TYPE_DOCKER_LAYER,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_CONFIG,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER,
  MEDIA_TYPE_OCI_LAYER_GZIP,
  MEDIA_TYPE_OCI_MANIFEST,
  computeDigest,
  isImageError,
  parsePlatform,
} from '@scanner/image';
import type { Platform } from '@scanner/image';
import { MemoryRegistryError } from './errors.ts';
import { tarOneFile } from './tar.ts';

/** Options of `buildImage` and `seedImage`. */
export interface BuildImageOptions {
  /**
   * Platforms as `os/arch[/variant]`. When given (even one), the result is an index (OCI) or manifest list
   * (Docker) with one image manifest per platform; otherwise a single `linux/amd64` image manifest.
   */
  platforms?: readonly string[];
  /** The config's `created` time, also the mtime of layer files. @default '2024-01-01T00:00:00.000Z' */
  created?: Date | string;
  /** Image config labels (`config.Labels`). */
  labels?: Readonly<Record<string, string>>;
  /** Annotations on the image manifests and the index. Docker schema2 has no annotations: ignored there. */
  annotations?: Readonly<Record<string, string>>;
  /**
   * How many generated layers (each a gzipped tar with one small text file), or the layer blobs themselves
   * (gzip-compressed tars are detected by their magic bytes; anything else is stored as an uncompressed tar).
   * @default 1
   */
  layers?: number | readonly Uint8Array[];
  /** `oci` media types, or Docker schema2 (`application/vnd.docker.distribution.manifest.v2+json`). @default 'oci' */
  format?: 'oci' | 'docker';
  /**
   * Mixed into generated layer contents so different images get different digests. `seedImage` defaults it to
   * the repository and tags. @default 'memory-registry'
   */
  seed?: string;
}

/** One image manifest of a built image. */
export interface BuiltPlatformImage {
  platform: string;
  digest: string;
  mediaType: string;
  bytes: Buffer;
  configDigest: string;
  layerDigests: string[];
}

/** The blobs and manifests of an image, with digests computed; the same inputs give the same bytes. */
export interface BuiltImage {
  /** Digest of the top-level manifest: the index when platforms were given, else the image manifest. */
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** Config and layer blobs by digest. */
  blobs: Map<string, Buffer>;
  /** The image manifests, one per platform, in the order the platforms were given. */
  images: BuiltPlatformImage[];
}

const DEFAULT_CREATED = '2024-01-01T00:00:00.000Z';

/** Builds a realistic OCI or Docker schema2 image (or multi-platform index) in memory, without storing it. */
export function buildImage(options: BuildImageOptions = {}): BuiltImage {
  const format = options.format ?? 'oci';
  const types = format === 'oci'
    ? { manifest: MEDIA_TYPE_OCI_MANIFEST, index: MEDIA_TYPE_OCI_INDEX, config: MEDIA_TYPE_OCI_CONFIG, gzip: MEDIA_TYPE_OCI_LAYER_GZIP, tar: MEDIA_TYPE_OCI_LAYER }
    : { manifest: MEDIA_TYPE_DOCKER_MANIFEST, index: MEDIA_TYPE_DOCKER_MANIFEST_LIST, config: MEDIA_TYPE_DOCKER_CONFIG, gzip: MEDIA_TYPE_DOCKER_LAYER_GZIP, tar: MEDIA_TYPE_DOCKER_LAYER };
  const created = toIsoDate(options.created ?? DEFAULT_CREATED);
  const seed = options.seed ?? 'memory-registry';
  const annotations = format === 'oci' && options.annotations !== undefined && Object.keys(options.annotations).length > 0
    ? { ...options.annotations }
    : undefined;
  const layerSpec = options.layers ?? 1;
  if (typeof layerSpec === 'number' && (!Number.isInteger(layerSpec) || layerSpec < 0)) {
    throw new MemoryRegistryError('OPTION_INVALID', `layers must be a non-negative integer or an array of layer blobs, got ${layerSpec}`);
  }
  const blobs = new Map<string, Buffer>();
  const platforms = options.platforms ?? ['linux/amd64'];
  if (platforms.length === 0) throw new MemoryRegistryError('OPTION_INVALID', 'platforms is empty; give at least one "os/arch[/variant]"');

  const images = platforms.map((platform): BuiltPlatformImage => {
    const parsed = platformOption(platform);
    const layers = typeof layerSpec === 'number'
      ? Array.from({ length: layerSpec }, (_, index) => generatedLayer(seed, platform, index, created))
      : layerSpec.map((bytes) => Buffer.from(bytes));
    const descriptors = layers.map((bytes) => {
      const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
      const digest = computeDigest(bytes);
      blobs.set(digest, bytes);
      return { mediaType: gzipped ? types.gzip : types.tar, digest, size: bytes.length, diffId: gzipped ? computeDigest(gunzipSync(bytes)) : digest };
    });
    const config = Buffer.from(JSON.stringify({
      created,
      architecture: parsed.architecture,
      os: parsed.os,
      ...(parsed.variant === undefined ? {} : { variant: parsed.variant }),
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ['/bin/sh'],
        ...(options.labels === undefined ? {} : { Labels: { ...options.labels } }),
      },
      rootfs: { type: 'layers', diff_ids: descriptors.map((layer) => layer.diffId) },
      history: descriptors.map((_, index) => ({ created, created_by: `memory-registry: layer ${index}` })),
    }));
    const configDigest = computeDigest(config);
    blobs.set(configDigest, config);
    const bytes = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configDigest, size: config.length },
      layers: descriptors.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
      ...(annotations === undefined ? {} : { annotations }),
    }));
    return { platform, digest: computeDigest(bytes), mediaType: types.manifest, bytes, configDigest, layerDigests: descriptors.map((layer) => layer.digest) };
  });

  const [single] = images;
  if (options.platforms === undefined && single !== undefined) {
    return { digest: single.digest, mediaType: single.mediaType, bytes: single.bytes, blobs, images };
  }
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: types.index,
    manifests: images.map((image) => {
      const { os, architecture, variant } = platformOption(image.platform);
      return {
        mediaType: image.mediaType,
        digest: image.digest,
        size: image.bytes.length,
        platform: { architecture, os, ...(variant === undefined ? {} : { variant }) },
      };
    }),
    ...(annotations === undefined ? {} : { annotations }),
  }));
  return { digest: computeDigest(index), mediaType: types.index, bytes: index, blobs, images };
}

function generatedLayer(seed: string, platform: string, index: number, created: string): Buffer {
  const content = Buffer.from(`seed=${seed}\nplatform=${platform}\nlayer=${index}\n`);
  const tar = tarOneFile(`memory-registry/layer-${index}.txt`, content, Math.floor(Date.parse(created) / 1000));
  // gzip output depends only on input and level (the header carries no timestamp from zlib), so digests are stable.
  return gzipSync(tar, { level: 6 });
}

function platformOption(platform: string): Platform {
  try {
    return parsePlatform(platform);
  } catch (error) {
    if (!isImageError(error)) throw error;
    throw new MemoryRegistryError('OPTION_INVALID', `platform "${platform}" is not "os/arch[/variant]", e.g. "linux/arm64/v8"`, { cause: error });
  }
}

function toIsoDate(value: Date | string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new MemoryRegistryError('OPTION_INVALID', `created "${String(value)}" is not a valid date`);
  return date.toISOString();
}
