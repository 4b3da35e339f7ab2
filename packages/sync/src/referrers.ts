// What comes along with a copied digest: cosign-style tags (`sha256-<hex>.sig`, `.att`, `.sbom`) and OCI
// referrers (manifests whose `subject` is the digest). Referrers are listed with the registry client's
// `listReferrers` (the referrers API, else the referrers tag schema) and pushed with `pushReferrer`, which
// updates the target's tag-schema index where the target has no referrers API (distribution 2.8), after the
// referrer itself as distribution requires.
import { withDigest, withTag } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import type { ManifestResult } from '@scanner/registry';
import { copyTree } from './copy.ts';
import type { CopyContext } from './copy.ts';
import { PROVENANCE_ARTIFACT_TYPE } from './provenance.ts';
import type { RunContext } from './sync.ts';

/** Suffixes of cosign's tag scheme: signatures, attestations, SBOMs. */
export const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;

/**
 * Tag names that belong to the referrers step, not to tag rules: the referrers tag schema (OCI distribution-spec
 * 1.1, `<alg>-<hex>`, here sha256/sha384/sha512) and cosign's `sha256-<hex>.sig|.att|.sbom`. Tag rules never
 * select them at the source (they come along as referrers of the digest they name, with `referrers` on), and no
 * plan writes one at a target (it would overwrite that digest's referrers index there).
 */
export const REFERRERS_TAG_PATTERN = /^sha(?:256|384|512)-[0-9a-f]{64}(?:\.(?:sig|att|sbom))?$/;

/** True for a tag of {@link REFERRERS_TAG_PATTERN}. */
export function isReferrersTag(tag: string): boolean {
  return REFERRERS_TAG_PATTERN.test(tag);
}

/** The cosign-style tags of `digest` present in `tags`: `sha256:<hex>` → `sha256-<hex>.sig`, `.att`, `.sbom`. */
export function cosignTags(digest: string, tags: readonly string[]): string[] {
  const base = digest.replace(':', '-');
  const present = new Set(tags);
  return COSIGN_SUFFIXES.map((suffix) => `${base}.${suffix}`).filter((tag) => present.has(tag));
}

// The artifact type of a manifest as the referrers API derives it: its `artifactType`, else its config's media type.
function artifactTypeOf(manifest: ManifestResult): string | undefined {
  return manifest.kind === 'index' ? manifest.index.artifactType : (manifest.manifest.artifactType ?? manifest.manifest.config.mediaType);
}

/**
 * Copies the cosign-style tags and OCI referrers of `manifest` from `source` to `target` (the subject itself
 * must be at the target by digest already). Referrers the target lists already are left alone; referrers of
 * referrers are not followed. Provenance artifacts ({@link PROVENANCE_ARTIFACT_TYPE}) of the source are never
 * copied, whatever their listing says: the ownership record of a copy is written by the run that made it, and
 * one found upstream (forged, or another mirror's) would claim our copy for someone else. Returns how many
 * were copied.
 */
export async function copyReferrers(run: RunContext, context: CopyContext, source: ImageReference, target: ImageReference, manifest: ManifestResult): Promise<number> {
  const { signal } = context;
  const tags = await run.source.tags(source);
  let copied = 0;
  for (const tag of cosignTags(manifest.digest, tags)) {
    const digest = await run.source.pin(withTag(source, tag));
    const tree = await copyTree(context, source, target, digest);
    await run.client.putManifest(withTag(target, tag), tree.bytes, { mediaType: tree.mediaType, signal });
    run.stats.manifestsPut++;
    copied++;
  }
  // A registry seen without the referrers API keeps referrers only under the tag-schema tag: when the tag list
  // lacks it there are none, and no request is needed.
  const schemaTag = manifest.digest.replace(':', '-');
  if (run.withoutReferrersApi.has(source.registry) && !tags.includes(schemaTag)) return copied;
  const listed = await run.client.listReferrers(withDigest(source, manifest.digest), { signal });
  if (listed.via === 'tag-schema') run.withoutReferrersApi.add(source.registry);
  if (listed.descriptors.length === 0) return copied;
  const present = await run.client.listReferrers(withDigest(target, manifest.digest), { signal });
  const have = new Set(present.descriptors.map((descriptor) => descriptor.digest));
  for (const referrer of listed.descriptors) {
    if (have.has(referrer.digest) || referrer.artifactType === PROVENANCE_ARTIFACT_TYPE) continue;
    // A listing (a tag-schema index anyone could have written) may leave the type out: the manifest decides.
    if (artifactTypeOf(await context.source.manifest(source, referrer.digest)) === PROVENANCE_ARTIFACT_TYPE) continue;
    const tree = await copyTree(context, source, target, referrer.digest);
    await run.client.pushReferrer(target, tree.bytes, { mediaType: tree.mediaType, signal });
    run.stats.manifestsPut++;
    copied++;
  }
  return copied;
}
