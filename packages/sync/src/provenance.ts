// Provenance: an OCI artifact attached (through `subject`) to each mirrored manifest, saying where the copy
// came from and who owns it, so that anyone with pull access to the target can tell a verbatim upstream copy
// from an in-house image: `scanner inspect` prints "copy of docker.io/bitnami/postgresql@sha256:…, owned by team-storage".
import { MEDIA_TYPE_OCI_MANIFEST, OCI_EMPTY_DESCRIPTOR, nameOnly, parseImageReference, withDigest } from '@scanner/image';
import type { Descriptor, ImageReference } from '@scanner/image';
import type { ManifestResult, ReferenceInput, RegistryClient } from '@scanner/registry';
import type { CopyContext } from './copy.ts';
import type { RunContext } from './sync.ts';
import type { PlanItem } from './types.ts';

/** The `artifactType` of provenance artifacts. */
export const PROVENANCE_ARTIFACT_TYPE = 'application/vnd.registry-scanner.provenance.v1+json';

/** Annotation keys of a provenance artifact (its manifest's `annotations`, repeated in referrers listings). */
export const PROVENANCE_ANNOTATIONS = {
  /** The owning team (`owner` of the team file or image). */
  owner: 'io.registry-scanner.provenance.owner',
  /** The source reference as planned, with tag (`docker.io/bitnami/postgresql:16.4.0`) or digest. */
  source: 'io.registry-scanner.provenance.source',
  /** The digest copied (identical at source and target). */
  sourceDigest: 'io.registry-scanner.provenance.source.digest',
  /** The team file, relative to the config directory (`team-storage.yaml`). */
  config: 'io.registry-scanner.provenance.config',
  /** The config directory as given to the sync, when given. */
  configDir: 'io.registry-scanner.provenance.config.dir',
  /** The target's name in `targets.yaml`. */
  target: 'io.registry-scanner.provenance.target',
  /** When the copy was made (RFC 3339), the OCI pre-defined annotation. */
  created: 'org.opencontainers.image.created',
} as const;

/** What a provenance artifact says about a mirrored manifest. */
export interface Provenance {
  readonly owner: string;
  /** As planned: `docker.io/bitnami/postgresql:16.4.0`. */
  readonly source: string;
  readonly sourceDigest: string;
  /** The team file, relative to the config directory. */
  readonly config: string | undefined;
  readonly configDir: string | undefined;
  readonly targetName: string | undefined;
  /** RFC 3339. */
  readonly created: string | undefined;
  /** The provenance artifact's own digest. */
  readonly digest: string;
}

/** The exact bytes of a provenance artifact: an OCI image manifest with an empty config and `subject`. */
export function provenanceManifest(subject: Descriptor, annotations: Readonly<Record<string, string>>): Uint8Array {
  const empty = { mediaType: OCI_EMPTY_DESCRIPTOR.mediaType, digest: OCI_EMPTY_DESCRIPTOR.digest, size: OCI_EMPTY_DESCRIPTOR.size };
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_OCI_MANIFEST,
      artifactType: PROVENANCE_ARTIFACT_TYPE,
      config: empty,
      // The image spec asks artifacts without content for one empty layer.
      layers: [empty],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
}

function readAnnotations(digest: string, annotations: Readonly<Record<string, string>> | undefined): Provenance | undefined {
  const owner = annotations?.[PROVENANCE_ANNOTATIONS.owner];
  const source = annotations?.[PROVENANCE_ANNOTATIONS.source];
  const sourceDigest = annotations?.[PROVENANCE_ANNOTATIONS.sourceDigest];
  if (owner === undefined || source === undefined || sourceDigest === undefined) return undefined;
  return {
    owner,
    source,
    sourceDigest,
    config: annotations?.[PROVENANCE_ANNOTATIONS.config],
    configDir: annotations?.[PROVENANCE_ANNOTATIONS.configDir],
    targetName: annotations?.[PROVENANCE_ANNOTATIONS.target],
    created: annotations?.[PROVENANCE_ANNOTATIONS.created],
    digest,
  };
}

/**
 * Attaches a provenance artifact to `manifest` (already at `target` by digest), unless one with the same owner,
 * source and digest is listed there. The empty blob goes first, then the artifact through `pushReferrer` (the
 * referrers API where the target has it, else the artifact by digest and then the referrers tag-schema index).
 * Returns true when one was written.
 */
export async function writeProvenance(run: RunContext, context: CopyContext, target: ImageReference, manifest: ManifestResult, item: PlanItem): Promise<boolean> {
  const { signal } = context;
  const existing = await run.client.listReferrers(withDigest(target, manifest.digest), { artifactType: PROVENANCE_ARTIFACT_TYPE, signal });
  const same = existing.descriptors.some((entry) => {
    const found = readAnnotations(entry.digest, entry.annotations);
    return found !== undefined && found.owner === item.owner && found.source === item.source && found.sourceDigest === manifest.digest;
  });
  if (same) return false;
  const annotations: Record<string, string> = {
    [PROVENANCE_ANNOTATIONS.created]: new Date(run.now()).toISOString(),
    [PROVENANCE_ANNOTATIONS.owner]: item.owner,
    [PROVENANCE_ANNOTATIONS.source]: item.source,
    [PROVENANCE_ANNOTATIONS.sourceDigest]: manifest.digest,
    [PROVENANCE_ANNOTATIONS.config]: item.file,
    [PROVENANCE_ANNOTATIONS.target]: item.targetName,
    ...(run.configDir === undefined ? {} : { [PROVENANCE_ANNOTATIONS.configDir]: run.configDir }),
  };
  const bytes = provenanceManifest({ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.byteLength }, annotations);
  // The empty blob comes from our bytes, not from the source.
  const outcome = await run.ledger.blob(target.registry, target.repository, OCI_EMPTY_DESCRIPTOR.digest, async (mountFrom) => {
    const result = await run.client.uploadBlob(target, Buffer.from('{}'), { digest: OCI_EMPTY_DESCRIPTOR.digest, size: 2, signal, ...(mountFrom === undefined ? {} : { mountFrom }) });
    return result.outcome;
  });
  context.onBlob(OCI_EMPTY_DESCRIPTOR.digest, outcome, outcome === 'uploaded' ? 2 : 0);
  await run.client.pushReferrer(target, bytes, { mediaType: MEDIA_TYPE_OCI_MANIFEST, signal });
  run.stats.manifestsPut++;
  return true;
}

/**
 * Reads the provenance of an image: lists the referrers of `reference` of the provenance artifact type (the
 * referrers API, else the tag schema; a tag is resolved with one HEAD first) and returns the newest one's
 * content (by `org.opencontainers.image.created`), or `undefined` when it has none (not a mirrored copy, or
 * mirrored without `provenance: true`).
 *
 * What it trusts: the registry's listing of the referrers of the resolved digest and, under the tag schema,
 * whoever can push to the repository (the index is an ordinary tag). A provenance artifact is believed only
 * when its recorded source digest (`io.registry-scanner.provenance.source.digest`) equals that digest: a copy is
 * byte-identical, so the provenance of anything else (an artifact of another image listed here, or copied from
 * elsewhere) does not describe this manifest. A sync never copies provenance artifacts from a source, so the
 * ones left were written by syncs into this repository; the owner they name is what those team files said.
 *
 * @example
 * const provenance = await readProvenance(client, 'mirror.example.io/bitnami/postgresql:16.4.0');
 * if (provenance) console.log(formatProvenance(provenance)); // copy of docker.io/bitnami/postgresql@sha256:…, owned by team-storage
 */
export async function readProvenance(client: RegistryClient, reference: ReferenceInput, options: { signal?: AbortSignal } = {}): Promise<Provenance | undefined> {
  const parsed = typeof reference === 'string' ? parseImageReference(reference) : reference;
  const listed = await client.listReferrers(parsed, { artifactType: PROVENANCE_ARTIFACT_TYPE, ...options });
  const found: Provenance[] = [];
  for (const entry of listed.descriptors) {
    let provenance = readAnnotations(entry.digest, entry.annotations);
    if (provenance === undefined) {
      // A listing without annotations (another tool wrote the index): read the artifact itself.
      const artifact = await client.getManifest(withDigest(nameOnly(parsed), entry.digest), options);
      if (artifact.kind === 'manifest' && artifact.manifest.subject?.digest === listed.subject) provenance = readAnnotations(entry.digest, artifact.manifest.annotations);
    }
    if (provenance !== undefined && provenance.sourceDigest === listed.subject) found.push(provenance);
  }
  return found.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''))[0];
}

/** One line: `copy of docker.io/bitnami/postgresql@sha256:…, owned by team-storage`. */
export function formatProvenance(provenance: Provenance): string {
  let repository: string;
  try {
    repository = String(nameOnly(parseImageReference(provenance.source)));
  } catch {
    repository = provenance.source;
  }
  return `copy of ${repository}@${provenance.sourceDigest}, owned by ${provenance.owner}`;
}
