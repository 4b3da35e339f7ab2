import { formatPlatform } from '@scanner/image';
import { buildImage as buildFixtureImage, buildIndex as buildFixtureIndex } from '@scanner/test-lab';
import type { BuiltArtifact, ImageSpec } from '@scanner/test-lab';
import { MemoryRegistryError } from './errors.ts';

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
   * How many generated layers (each a gzipped tar with one file of 1 KiB), or the layer blobs themselves
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
  /** The same image as `@scanner/test-lab` built it (for its `writeOciLayout`, `seedImage`, …). */
  artifact: BuiltArtifact;
}

/**
 * Builds a realistic OCI or Docker schema2 image (or multi-platform index) in memory, without storing it.
 * The bytes come from `@scanner/test-lab`'s image fixtures; this keeps the registry's options and result shape.
 */
export function buildImage(options: BuildImageOptions = {}): BuiltImage {
  const { platforms, format = 'oci', annotations } = options;
  if (platforms?.length === 0) throw new MemoryRegistryError('OPTION_INVALID', 'platforms is empty; give at least one "os/arch[/variant]"');
  const image: ImageSpec = {
    seed: options.seed ?? 'memory-registry',
    mediaTypes: format,
    ...(options.created === undefined ? {} : { created: options.created }),
    ...(options.labels === undefined ? {} : { labels: options.labels }),
    ...(options.layers === undefined ? {} : { layers: options.layers }),
    // Docker schema2 manifests have no annotations field.
    ...(format === 'oci' && annotations !== undefined && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  let artifact: BuiltArtifact;
  try {
    artifact = platforms === undefined
      ? buildFixtureImage({ ...image, platform: 'linux/amd64' })
      : buildFixtureIndex({ images: platforms.map((platform) => ({ ...image, platform })), mediaTypes: format, ...(image.annotations === undefined ? {} : { annotations: image.annotations }) });
  } catch (error) {
    if (!isTestLabOptionError(error)) throw error;
    throw new MemoryRegistryError('OPTION_INVALID', error.message.replace(/^test-lab: /, ''), { cause: error });
  }
  const children = artifact.kind === 'index' ? artifact.images : [artifact];
  return {
    digest: artifact.digest,
    mediaType: artifact.mediaType,
    bytes: artifact.kind === 'index' ? artifact.indexBytes : artifact.manifestBytes,
    blobs: new Map(artifact.blobs),
    images: children.map((child) => ({
      platform: formatPlatform(child.platform),
      digest: child.digest,
      mediaType: child.mediaType,
      bytes: child.manifestBytes,
      configDigest: child.configDigest,
      layerDigests: child.layers.map((layer) => layer.digest),
    })),
    artifact,
  };
}

// Matched on name and `code` rather than `instanceof`, as the house rules ask: two copies of test-lab may be loaded.
function isTestLabOptionError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'TestLabError' && (error as { code?: unknown }).code === 'INVALID_OPTION';
}
