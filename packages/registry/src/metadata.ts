import type { ImageReference, Platform } from '@scanner/image';
import { getBlobBytes } from './blobs.ts';
import { RegistryError, contentFailure } from './errors.ts';
import { platformMatches } from '@scanner/image/platform';
import { withDigest } from '@scanner/image/reference';
import { isScannerError } from '@scanner/image/scanner-error';
import type { Descriptor, ImageConfig } from '@scanner/image';
import { configCreated, derivePlatform, isValidPlatform, notAnImageReason, skipIndexEntryReason } from './artifact.ts';
import { descriptorPlatform, getManifest } from './manifests.ts';
import type { ManifestResult } from './manifests.ts';
import type { Session } from './session.ts';

/** The creation-time annotation of the OCI image spec. */
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
const CREATED_LABELS = ['org.opencontainers.image.created', 'org.label-schema.build-date'];

/** What one platform's image says about itself. */
export interface PlatformImageMetadata {
  /** The image manifest's digest. */
  readonly digest: string;
  readonly mediaType: string;
  readonly platform: Platform;
  /** ISO-8601 creation time (see {@link ImageMetadata.created}), when any source gives one. */
  readonly created: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  /** Manifest annotations merged over the index entry's annotations. */
  readonly annotations: Readonly<Record<string, string>>;
  /** The image config's digest; undefined when the image was not fetched (`children: false`). */
  readonly configDigest: string | undefined;
}

/** Metadata of a tag or digest: a single image, or every (matching) image of an index. */
export interface ImageMetadata {
  /** Digest of what the reference points to (the index for a multi-platform image). */
  readonly digest: string;
  readonly mediaType: string;
  readonly kind: 'index' | 'manifest';
  /**
   * ISO-8601 creation time: the `org.opencontainers.image.created` annotation when present, else the later
   * of the config's `created` and the `org.opencontainers.image.created` / `org.label-schema.build-date`
   * labels; for an index, its own annotation, else the newest matching image.
   */
  readonly created: string | undefined;
  /** Labels of the single image, or of the newest matching image of an index. */
  readonly labels: Readonly<Record<string, string>>;
  /** The manifest's or the index's own annotations. */
  readonly annotations: Readonly<Record<string, string>>;
  /** One entry per image: one for a single manifest, the matching ones for an index. */
  readonly images: readonly PlatformImageMetadata[];
}

export interface ImageMetadataOptions {
  /**
   * Only these platforms of an index. Entries that are not a platform's image are always left out: BuildKit
   * attestations (`vnd.docker.reference.type`, `unknown/unknown`), artifacts, nested indexes, and entries
   * without a readable platform.
   */
  readonly platforms?: readonly Platform[];
  /**
   * For an index, whether to fetch each platform's manifest and config. Without them, the index alone says
   * which platforms there are (one request instead of two per platform), but not when each was created: the
   * images then carry only digest, media type, platform and the entry's annotations.
   * @default true
   */
  readonly children?: boolean;
  readonly signal?: AbortSignal;
}

function isoTime(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function latest(values: readonly (string | undefined)[]): string | undefined {
  let best: string | undefined;
  for (const value of values) if (value !== undefined && (best === undefined || value > best)) best = value;
  return best;
}

/**
 * The creation time rule of {@link ImageMetadata.created} for one image. A config without `created` is dated by
 * the latest step of its history.
 */
export function imageCreated(annotations: Readonly<Record<string, string>>, config: ImageConfig): string | undefined {
  const annotated = isoTime(annotations[CREATED_ANNOTATION]);
  if (annotated !== undefined) return annotated;
  const labels = config.config?.Labels ?? {};
  return latest([isoTime(configCreated(config)), ...CREATED_LABELS.map((label) => isoTime(labels[label]))]);
}

// With the registry: `lab/app` alone reads as Docker Hub's, wherever it lives (break-scan L1).
function named(reference: ImageReference, digest: string): string {
  return `${reference.registry}/${reference.repository}${reference.tag === undefined ? '' : `:${reference.tag}`}@${digest}`;
}

function notAnImage(session: Session, reference: ImageReference, digest: string, reason: string): RegistryError {
  return new RegistryError('not_an_image', `${named(reference, digest)} is not a container image: ${reason}`, {
    registry: session.context.registry,
    repository: reference.repository,
    tag: reference.tag,
    hints: {
      library: 'pick a tag that holds an image; a scan skips such tags with a tag_skipped warning',
      cli: 'pick a tag that holds an image; `scanner tags` lists them all, `scanner select` skips tags that are not images',
      config: 'narrow the tags the policy allows to the image tags (e.g. allowTags) so the artifact tags are not candidates',
    },
  });
}

async function imageMetadata(session: Session, reference: ImageReference, manifest: ManifestResult, entry: Descriptor | undefined, signal: AbortSignal | undefined): Promise<PlatformImageMetadata> {
  if (manifest.kind !== 'manifest') {
    throw new RegistryError('unsupported_media_type', `${reference.repository}@${manifest.digest} is an index nested in an index, which image metadata does not follow`, {
      registry: session.context.registry,
      repository: reference.repository,
    });
  }
  // Read a config only when it is an image config: a Helm chart's or a signature's is not one.
  const reason = notAnImageReason(manifest.manifest);
  if (reason !== undefined) throw notAnImage(session, reference, manifest.digest, reason);
  const configDigest = manifest.manifest.config.digest;
  const bytes = await getBlobBytes(session, reference.repository, configDigest, session.limits.maxConfigBytes, signal === undefined ? {} : { signal });
  const { parseImageConfig } = await import('@scanner/image/manifest');
  let config: ImageConfig;
  try {
    config = parseImageConfig(bytes);
  } catch (error) {
    const what = `the image config ${configDigest} of ${named(reference, manifest.digest)} could not be read`;
    throw contentFailure(new RegistryError('invalid_response', `${what}: ${isScannerError(error) ? error.detail : String(error)}`, {
      registry: session.context.registry,
      repository: reference.repository,
      tag: reference.tag,
      reason: `${what}: ${isScannerError(error) ? (error.fields.reason ?? error.detail) : String(error)}`,
      hints: isScannerError(error) ? error.fields.hints : undefined,
      cause: error,
    }));
  }
  const annotations = { ...entry?.annotations, ...manifest.manifest.annotations };
  const platform: Platform = derivePlatform(entry?.platform !== undefined ? descriptorPlatform(entry.platform) : {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant === undefined ? {} : { variant: config.variant }),
  });
  // BuildKit's attestation manifests say unknown/unknown; inside an index they are skipped, and a tag pointing
  // at one alone is no more an image than they are.
  if (entry === undefined && platform.os === 'unknown' && platform.architecture === 'unknown') {
    throw notAnImage(session, reference, manifest.digest, 'its config names the platform unknown/unknown (an attestation, as BuildKit writes them)');
  }
  if (!isValidPlatform(platform)) {
    throw contentFailure(new RegistryError('invalid_response', `the image config ${configDigest} of ${named(reference, manifest.digest)} names no readable platform (os ${JSON.stringify(config.os)}, architecture ${JSON.stringify(config.architecture)})`, {
      registry: session.context.registry,
      repository: reference.repository,
      tag: reference.tag,
    }));
  }
  return {
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    platform,
    created: imageCreated(annotations, config),
    labels: { ...config.config?.Labels },
    annotations,
    configDigest,
  };
}

/** Fetches the manifest (or index and its matching children) and their configs; see {@link ImageMetadata}. */
export async function getImageMetadata(session: Session, reference: ImageReference, options: ImageMetadataOptions = {}): Promise<ImageMetadata> {
  const signalOption = options.signal === undefined ? {} : { signal: options.signal };
  const top = await getManifest(session, reference, signalOption);
  if (top.kind === 'manifest') {
    const image = await imageMetadata(session, reference, top, undefined, options.signal);
    if (options.platforms !== undefined && !options.platforms.some((p) => platformMatches(p, image.platform))) {
      throw new RegistryError('not_found', `${reference.repository}@${top.digest} is a single ${image.platform.os}/${image.platform.architecture} image, not one of the platforms asked for`, {
        registry: session.context.registry,
        repository: reference.repository,
      });
    }
    return { digest: top.digest, mediaType: top.mediaType, kind: 'manifest', created: image.created, labels: image.labels, annotations: image.annotations, images: [image] };
  }
  const wanted: { entry: Descriptor; platform: Platform }[] = [];
  // Image entries that name no platform: kept, as containerd's FilterPlatforms keeps them, and placed by their
  // config (read even for an index-only scan, since nothing else says which platform they are).
  const unplaced: Descriptor[] = [];
  let usable = 0;
  for (const entry of top.index.manifests) {
    // The missing platform is then the only reason to leave the entry out.
    if (entry.platform === undefined && skipIndexEntryReason({ ...entry, platform: { os: 'linux', architecture: 'amd64' } }) === undefined) {
      unplaced.push(entry);
      continue;
    }
    if (entry.platform === undefined || skipIndexEntryReason(entry) !== undefined) continue;
    usable += 1;
    const platform = derivePlatform(descriptorPlatform(entry.platform));
    if (options.platforms === undefined || options.platforms.some((p) => platformMatches(p, platform))) wanted.push({ entry, platform });
  }
  if (usable === 0 && unplaced.length === 0) {
    const reasons = [...new Set(top.index.manifests.map((entry) => skipIndexEntryReason(entry) ?? ''))].filter((reason) => reason !== '');
    throw notAnImage(session, reference, top.digest, top.index.manifests.length === 0 ? 'it is an empty index' : `it is an index with no platform image (${reasons.join(', ')})`);
  }
  const images =
    options.children === false
      ? wanted.map(({ entry, platform }): PlatformImageMetadata => ({
          digest: entry.digest,
          mediaType: entry.mediaType,
          platform,
          created: isoTime(entry.annotations?.[CREATED_ANNOTATION]),
          labels: {},
          annotations: { ...entry.annotations },
          configDigest: undefined,
        }))
      : await Promise.all(
          wanted.map(async ({ entry }) => {
            const child = await getManifest(session, withDigest(reference, entry.digest), signalOption);
            return imageMetadata(session, reference, child, entry, options.signal);
          }),
        );
  for (const entry of unplaced) {
    const child = await getManifest(session, withDigest(reference, entry.digest), signalOption);
    const image = await imageMetadata(session, reference, child, entry, options.signal);
    if (options.platforms === undefined || options.platforms.some((p) => platformMatches(p, image.platform))) images.push(image);
  }
  const indexAnnotations = { ...top.index.annotations };
  let newest: PlatformImageMetadata | undefined;
  for (const image of images) if (newest === undefined || (image.created ?? '') > (newest.created ?? '')) newest = image;
  return {
    digest: top.digest,
    mediaType: top.mediaType,
    kind: 'index',
    created: isoTime(indexAnnotations[CREATED_ANNOTATION]) ?? newest?.created,
    labels: newest?.labels ?? {},
    annotations: indexAnnotations,
    images,
  };
}
