// What comes along with a copied digest: cosign-style tags (`sha256-<hex>.sig`, `.att`, `.sbom`) and OCI
// referrers (manifests whose `subject` is the digest). At a target without the referrers API (distribution
// 2.8) a referrer is only findable through the referrers tag schema: an index at tag `sha256-<hex>` listing
// the referrers, pushed after them (OCI distribution spec 1.1, "Referrers Tag Schema").
import { MEDIA_TYPE_OCI_INDEX, withTag } from '@scanner/image';
import type { Descriptor, ImageReference } from '@scanner/image';
import { isRegistryError } from '@scanner/registry';
import type { ManifestResult, RegistryClient } from '@scanner/registry';
import { copyManifest, copyTree } from './copy.ts';
import type { CopyContext } from './copy.ts';
import type { RunContext } from './sync.ts';

/** Suffixes of cosign's tag scheme: signatures, attestations, SBOMs. */
export const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;

/** The referrers tag schema tag of a digest: `sha256:abc…` → `sha256-abc…`. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

/** The cosign-style tags of `digest` present in `tags`, e.g. `sha256-<hex>.sig`. */
export function cosignTags(digest: string, tags: readonly string[]): string[] {
  const base = referrersTag(digest);
  const present = new Set(tags);
  return COSIGN_SUFFIXES.map((suffix) => `${base}.${suffix}`).filter((tag) => present.has(tag));
}

function isNotFound(error: unknown): boolean {
  return isRegistryError(error) && (error.status === 404 || ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'not_found'].includes(error.code));
}

/**
 * The referrers of `digest` listed in the tag-schema index of `repository`, or `[]` when there is none.
 * `tags`, when given, spares the GET when the index tag is absent.
 */
export async function tagSchemaReferrers(client: RegistryClient, repository: ImageReference, digest: string, options: { tags?: readonly string[] | undefined; signal?: AbortSignal | undefined } = {}): Promise<Descriptor[]> {
  const tag = referrersTag(digest);
  if (options.tags !== undefined && !options.tags.includes(tag)) return [];
  let index: ManifestResult;
  try {
    index = await client.getManifest(withTag(repository, tag), options.signal === undefined ? {} : { signal: options.signal });
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  if (index.kind !== 'index') return [];
  return index.index.manifests.filter((entry) => entry.digest !== digest);
}

// Updates of one tag-schema index are read-modify-write: serialised per (repository, subject) within a run.
const indexLocks = new WeakMap<RunContext, Map<string, Promise<unknown>>>();

/**
 * Adds `descriptor` (a referrer already pushed by digest) to the tag-schema index of `subject` in `repository`,
 * creating the index when absent. No-op when it is listed already. The referrer must be pushed first:
 * distribution rejects an index whose manifests are missing (`MANIFEST_BLOB_UNKNOWN`).
 */
export async function addToTagSchemaIndex(run: RunContext, repository: ImageReference, subject: string, descriptor: Descriptor, signal: AbortSignal): Promise<void> {
  let locks = indexLocks.get(run);
  if (locks === undefined) {
    locks = new Map();
    indexLocks.set(run, locks);
  }
  const key = `${repository.registry}/${repository.repository}@${subject}`;
  const previous = locks.get(key) ?? Promise.resolve();
  const update = previous.catch(() => undefined).then(async () => {
    const existing = await tagSchemaReferrers(run.client, repository, subject, { signal });
    if (existing.some((entry) => entry.digest === descriptor.digest)) return;
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests: [...existing, descriptor] }));
    await run.client.putManifest(withTag(repository, referrersTag(subject)), bytes, { mediaType: MEDIA_TYPE_OCI_INDEX, signal });
    run.stats.manifestsPut++;
  });
  locks.set(key, update);
  await update;
}

/** The descriptor a referrers list gives for a manifest: media type, digest, size, artifactType, annotations. */
export function referrerDescriptor(manifest: ManifestResult): Descriptor {
  const body = manifest.kind === 'index' ? manifest.index : manifest.manifest;
  const artifactType = body.artifactType ?? (manifest.kind === 'manifest' ? manifest.manifest.config.mediaType : undefined);
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.bytes.byteLength,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(body.annotations === undefined ? {} : { annotations: body.annotations }),
  };
}

/**
 * Copies the cosign-style tags and OCI referrers of `manifest` from `source` to `target` (the subject itself
 * must be at the target by digest already). Returns how many were copied. Referrers of referrers are not
 * followed.
 */
export async function copyReferrers(run: RunContext, context: CopyContext, source: ImageReference, target: ImageReference, manifest: ManifestResult): Promise<number> {
  const { signal } = context;
  const tags = await run.source.tags(source);
  let copied = 0;
  for (const tag of cosignTags(manifest.digest, tags)) {
    const digest = await run.source.resolve(withTag(source, tag), signal);
    const tree = await copyTree(context, source, target, digest);
    await run.client.putManifest(withTag(target, tag), tree.bytes, { mediaType: tree.mediaType, signal });
    run.stats.manifestsPut++;
    copied++;
  }
  const referrers = await tagSchemaReferrers(run.client, source, manifest.digest, { tags, signal });
  for (const referrer of referrers) {
    const pushed = await copyManifest(context, source, target, referrer.digest);
    await addToTagSchemaIndex(run, target, manifest.digest, { ...referrerDescriptor(pushed), ...referrer }, signal);
    copied++;
  }
  return copied;
}
