import { isManifestMediaType, MEDIA_TYPE_DOCKER_CONFIG, MEDIA_TYPE_OCI_CONFIG } from '@scanner/image/media-types';
import { formatPlatform } from '@scanner/image/platform';
import type { Descriptor, ImageConfig, ImageManifest, Platform } from '@scanner/image';

/**
 * What tells a container image apart from the other things registries hold under tags (Helm charts, cosign
 * signatures, in-toto attestations, SBOMs, and BuildKit's attestation entries inside an index), and the platform
 * values peers derive when the registry data leaves them out.
 */

/** The config media types of container images; any other config is an artifact's and is never read as one. */
export const IMAGE_CONFIG_MEDIA_TYPES: readonly string[] = [MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_DOCKER_CONFIG];

/** BuildKit marks the attestation manifests it adds to an index with this annotation (value `attestation-manifest`). */
export const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type';

// Layer media types of images are tar archives (OCI `…image.layer.v1.tar[+gzip|+zstd]`, Docker
// `…image.rootfs.diff.tar[.gzip]`, foreign layers); an artifact's layers are its own blobs.
const IMAGE_LAYER = /(^application\/vnd\.oci\.image\.layer\.)|(^application\/vnd\.docker\.image\.rootfs\.)|(\.tar($|[+.]))/;

const KNOWN_ARTIFACTS: readonly { readonly test: RegExp; readonly name: string }[] = [
  { test: /^application\/vnd\.cncf\.helm\./, name: 'a Helm chart' },
  { test: /^application\/vnd\.dev\.cosign\.|^application\/vnd\.dev\.sigstore\./, name: 'a sigstore/cosign signature or bundle' },
  { test: /^application\/vnd\.in-toto|intoto/, name: 'an in-toto attestation' },
  { test: /spdx|cyclonedx|syft/i, name: 'an SBOM' },
  { test: /^application\/vnd\.wasm\./, name: 'a WebAssembly module' },
];

function describeType(mediaType: string): string {
  const known = KNOWN_ARTIFACTS.find((entry) => entry.test.test(mediaType));
  return known === undefined ? `an artifact of type "${mediaType}"` : `${known.name} ("${mediaType}")`;
}

/**
 * Why a manifest is not a container image, or undefined when it is one: an `artifactType`, a config whose media
 * type is not an image config's, or a layer that is not a tar archive (cosign signatures carry an image config
 * media type over `simplesigning` layers). A config is read only once this says it is an image.
 */
export function notAnImageReason(manifest: Pick<ImageManifest, 'artifactType' | 'config' | 'layers'>): string | undefined {
  if (manifest.artifactType !== undefined && manifest.artifactType !== '') return `it is ${describeType(manifest.artifactType)}`;
  if (!IMAGE_CONFIG_MEDIA_TYPES.includes(manifest.config.mediaType)) return `it is ${describeType(manifest.config.mediaType)}`;
  const odd = manifest.layers.find((layer) => !IMAGE_LAYER.test(layer.mediaType));
  if (odd !== undefined) return `it is ${describeType(odd.mediaType)}`;
  return undefined;
}

/**
 * Fills in what registry data leaves out the way peers do: `arm64` without a variant is `arm64/v8` (the
 * baseline, as containers/image's platform matcher and BuildKit's index entries spell it) and `arm` without one
 * is `arm/v7` (containerd's `platforms.Normalize`). Everything else is kept as written.
 */
export function derivePlatform(platform: Platform): Platform {
  if (platform.variant !== undefined && platform.variant !== '') return platform;
  if (platform.architecture === 'arm64') return { os: platform.os, architecture: 'arm64', variant: 'v8' };
  if (platform.architecture === 'arm') return { os: platform.os, architecture: 'arm', variant: 'v7' };
  return { os: platform.os, architecture: platform.architecture };
}

/** Whether a platform can be formatted and matched: non-empty `os` and `architecture` of `[A-Za-z0-9_.-]`. */
export function isValidPlatform(platform: Platform): boolean {
  if (platform.os === '' || platform.architecture === '') return false;
  try {
    formatPlatform(platform);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why an index entry is not one platform's image, or undefined when it is: BuildKit attestation entries
 * (`vnd.docker.reference.type`, platform `unknown/unknown`), entries without a platform or with one that cannot
 * be read, artifacts (`artifactType`) and nested indexes.
 */
export function skipIndexEntryReason(entry: Descriptor): string | undefined {
  if (entry.annotations?.[REFERENCE_TYPE_ANNOTATION] !== undefined) return `an ${entry.annotations[REFERENCE_TYPE_ANNOTATION]} entry`;
  if (entry.artifactType !== undefined && entry.artifactType !== '') return describeType(entry.artifactType);
  if (!isManifestMediaType(entry.mediaType)) return `an entry of media type "${entry.mediaType}"`;
  const platform = entry.platform;
  if (platform === undefined) return 'an entry without a platform';
  if (platform.os === 'unknown' && platform.architecture === 'unknown') return 'an unknown/unknown entry';
  if (!isValidPlatform({ os: platform.os, architecture: platform.architecture, ...(platform.variant === undefined ? {} : { variant: platform.variant }) })) {
    return `an entry with an unreadable platform ${JSON.stringify(platform)}`;
  }
  return undefined;
}

/**
 * The creation time a config states: its `created`, else the latest `created` of its history (images built by
 * tools that leave the top-level field out), as `docker history` shows them.
 */
export function configCreated(config: ImageConfig): string | undefined {
  if (config.created !== undefined && config.created.trim() !== '') return config.created;
  let latest: { text: string; ms: number } | undefined;
  for (const step of config.history ?? []) {
    const ms = step.created === undefined ? Number.NaN : Date.parse(step.created);
    if (!Number.isNaN(ms) && (latest === undefined || ms > latest.ms) && step.created !== undefined) latest = { text: step.created, ms };
  }
  return latest?.text;
}
