// `scanner inspect` of a mirrored copy: the provenance artifact `scanner sync` attached (with `provenance:
// true`), read through `@scanner/sync`, loaded only when inspect runs.
import { parseImageReference, withDigest } from '@scanner/image';
import type { RegistryClient } from '@scanner/registry';

/** `provenance` of `scanner inspect -o json`: where a mirrored copy came from; `null` when the image has none. */
export interface ProvenanceJson {
  /** One line: `copy of docker.io/bitnami/postgresql@sha256:…, owned by team-storage`. */
  readonly summary: string;
  readonly owner: string;
  /** The source reference as planned (`docker.io/bitnami/postgresql:16.4.0`). */
  readonly source: string;
  readonly sourceDigest: string;
  /** The team file it was mirrored under, relative to the config directory. */
  readonly config: string | null;
  readonly targetName: string | null;
  /** When the copy was made (RFC 3339). */
  readonly created: string | null;
  /** The provenance artifact's digest. */
  readonly artifactDigest: string;
}

/**
 * The provenance of the manifest `digest` in `image`'s repository, or `null` when it has none. One request
 * when it has none (the referrers tag schema), a few more when it has. A failure to read it is reported to
 * `onError` and treated as none: inspect shows what it found either way.
 */
export async function readInspectProvenance(
  client: RegistryClient,
  image: string,
  digest: string,
  options: { readonly signal?: AbortSignal | undefined; readonly onError: (error: unknown) => void },
): Promise<ProvenanceJson | null> {
  const { formatProvenance, readProvenance } = await import('@scanner/sync');
  try {
    const provenance = await readProvenance(client, withDigest(parseImageReference(image), digest), options.signal === undefined ? {} : { signal: options.signal });
    if (provenance === undefined) return null;
    return {
      summary: formatProvenance(provenance),
      owner: provenance.owner,
      source: provenance.source,
      sourceDigest: provenance.sourceDigest,
      config: provenance.config ?? null,
      targetName: provenance.targetName ?? null,
      created: provenance.created ?? null,
      artifactDigest: provenance.digest,
    };
  } catch (error) {
    if (options.signal?.aborted === true) throw error;
    options.onError(error);
    return null;
  }
}

/** The table line of `scanner inspect`, aligned with its head (`media type` is as wide as `provenance`). */
export function provenanceRow(provenance: ProvenanceJson | null): string {
  return provenance === null ? '' : `provenance  ${provenance.summary}\n`;
}
