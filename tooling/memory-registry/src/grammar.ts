import { createImageReference, isImageError, parseDigest } from '@scanner/image';
import type { DigestAlgorithm } from '@scanner/image';

// @scanner/image owns the distribution/reference grammar but exports no bare repository-path or tag validator,
// so names and tags are checked by building a reference on a placeholder registry. A dotted IPv4 host is a
// valid registry that is not Docker Hub, so `library/` is never added and only the path and tag rules apply.
// `createImageReference` (not `parseImageReference` on a string) keeps `:` and `@` from being read as a tag
// or digest separator.
const PLACEHOLDER_REGISTRY = '127.0.0.1';
const PLACEHOLDER_REPOSITORY = 'placeholder';

function acceptedByImage(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch (error) {
    if (isImageError(error)) return false;
    throw error;
  }
}

/** Whether `name` is a valid repository path (distribution/reference grammar, at most 255 characters). */
export function isRepositoryName(name: string): boolean {
  return acceptedByImage(() => createImageReference({ registry: PLACEHOLDER_REGISTRY, repository: name }));
}

/** Whether `tag` is a valid tag: `[\w][\w.-]{0,127}`. */
export function isTag(tag: string): boolean {
  return acceptedByImage(() => createImageReference({ registry: PLACEHOLDER_REGISTRY, repository: PLACEHOLDER_REPOSITORY, tag }));
}

/** The algorithm of a digest this registry can verify (`sha256` or `sha512` with lower-case hex), or undefined. */
export function digestAlgorithm(digest: string): DigestAlgorithm | undefined {
  try {
    return parseDigest(digest).algorithm;
  } catch (error) {
    if (isImageError(error)) return undefined;
    throw error;
  }
}

/**
 * Whether a manifest reference is meant as a digest: one this registry can verify, or a well-formed one with
 * another algorithm. The second kind is refused later with `DIGEST_INVALID` (on push) or is simply unknown (on
 * pull), rather than being called "neither a tag nor a digest".
 */
export function isDigestReference(reference: string): boolean {
  try {
    parseDigest(reference);
    return true;
  } catch (error) {
    if (!isImageError(error)) throw error;
    return error.code === 'unsupported_algorithm';
  }
}
