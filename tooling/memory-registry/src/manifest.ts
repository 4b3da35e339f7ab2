import { isImageError, parseManifest } from '@scanner/image';
import type { Descriptor, ParsedManifest } from '@scanner/image';

/** What the registry keeps from a manifest besides its bytes: enough to check references and answer referrers. */
export interface ManifestFacts {
  mediaType: string;
  /** Blobs (config, layers) that must exist in the repository. Foreign layers (with `urls`) are left out. */
  blobs: string[];
  /** Child manifests (of an index) that must exist in the repository. */
  children: string[];
  subject?: string;
  /** `artifactType`, or for an image manifest the config media type, as the referrers API reports it. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

export type ManifestCheck = { ok: true; facts: ManifestFacts } | { ok: false; message: string; cause: unknown };

/**
 * Parses a pushed manifest with `@scanner/image`'s `parseManifest` (OCI and Docker schema2 manifests and
 * indexes; schema1 and other manifest kinds are refused) and keeps what the server needs from it. The media
 * type is the body's `mediaType`, else the Content-Type, else inferred from the shape as distribution does.
 */
export function inspectManifest(bytes: Uint8Array, contentType: string | undefined): ManifestCheck {
  let parsed: ParsedManifest;
  try {
    parsed = parseManifest(bytes, { contentType });
  } catch (error) {
    if (!isImageError(error)) throw error;
    // The registry's own prefix goes in front when the message is shown, so @scanner/image's is dropped.
    return { ok: false, message: error.message.replace(/^@scanner\/image: /, ''), cause: error };
  }
  const body = parsed.kind === 'index' ? parsed.index : parsed.manifest;
  const referenced: Descriptor[] = parsed.kind === 'index' ? [] : [parsed.manifest.config, ...parsed.manifest.layers];
  const facts: ManifestFacts = {
    mediaType: parsed.mediaType,
    blobs: unique(referenced.filter((descriptor) => descriptor.urls === undefined)),
    children: parsed.kind === 'index' ? unique(parsed.index.manifests) : [],
  };
  if (body.subject !== undefined) facts.subject = body.subject.digest;
  const artifactType = body.artifactType ?? (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
  if (artifactType !== undefined) facts.artifactType = artifactType;
  if (body.annotations !== undefined) facts.annotations = body.annotations;
  return { ok: true, facts };
}

function unique(descriptors: readonly Descriptor[]): string[] {
  return [...new Set(descriptors.map((descriptor) => descriptor.digest))];
}
