import type { ImageReference, Platform } from '@scanner/image';
import { authorizedSend, repositoryScope } from './auth.ts';
import { readBody, retryBrokenBody } from './body.ts';
import { RegistryError, contentFailure } from './errors.ts';
import { isScannerError } from '@scanner/image/scanner-error';
import { computeDigest, isDigest, parseDigest } from '@scanner/image/digest';
import { MANIFEST_MEDIA_TYPES } from '@scanner/image/media-types';
import { formatPlatform, platformMatches } from '@scanner/image/platform';
import { withDigest } from '@scanner/image/reference';
import type { Descriptor, DescriptorPlatform, ParsedManifest } from '@scanner/image';
import { errorFromResponse } from './response-error.ts';
import { v2Url } from './session.ts';
import type { Session } from './session.ts';
import { discard, displayUrl, headerValue } from './transport.ts';

/** The one Accept list for manifest GET and HEAD: OCI manifest and index, Docker schema2 and list. */
export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

/** A fetched manifest or index with the exact bytes the registry served. */
export type ManifestResult = ParsedManifest & {
  /** Digest of `bytes` (the algorithm of the requested digest, else sha256). */
  readonly digest: string;
  /** The raw bytes; push these (not a re-serialisation) so the digest survives a copy. */
  readonly bytes: Uint8Array;
  /** The `Content-Type` the registry sent, when any. */
  readonly contentType: string | undefined;
  /** When the manifest was picked from an index for a platform: the index's digest and the entry. */
  readonly from: { readonly indexDigest: string; readonly descriptor: Descriptor } | undefined;
};

export interface GetManifestOptions {
  /** Resolve an index to the manifest of this platform (`not_found` when it has none). */
  readonly platform?: Platform;
  readonly signal?: AbortSignal;
}

/** Tag or digest to put in the URL: the digest when known, else the tag, else `latest`. */
export function manifestReference(reference: ImageReference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}

// With the registry: `lab/app` alone reads as Docker Hub's, wherever it lives (break-scan L1).
function describe(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}:${reference.tag ?? ''}${reference.digest === undefined ? '' : `@${reference.digest}`}`.replace(/:(@|$)/, '$1');
}

/** Throws `digest_mismatch` unless `bytes` hash to `expected` (a digest in an algorithm we do not know is skipped). */
export function checkDigest(session: Session, bytes: Uint8Array, expected: string, repository: string, source: string): void {
  let algorithm: ReturnType<typeof parseDigest>['algorithm'];
  try {
    algorithm = parseDigest(expected).algorithm;
  } catch {
    return;
  }
  const actual = computeDigest(bytes, algorithm);
  if (actual !== expected) {
    throw new RegistryError('digest_mismatch', `content from ${session.context.registry}/${repository} hashes to ${actual}, not ${expected} (${source}); the registry or a proxy altered it`, {
      registry: session.context.registry,
      repository,
    });
  }
}

/**
 * Parses manifest bytes, mapping `@scanner/image` failures to registry codes. The parser (and zod under it)
 * loads with the first manifest read: resolving a digest with HEAD never needs it.
 */
export async function parseManifestBytes(session: Session, bytes: Uint8Array, contentType: string | undefined, repository: string): Promise<ParsedManifest> {
  const { parseManifest } = await import('@scanner/image/manifest');
  try {
    return parseManifest(bytes, contentType === undefined ? {} : { contentType });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const unsupported = code === 'unsupported_media_type' || code === 'unsupported_schema';
    // The image package's reason and hints, not its message: that one carries its prefix and library advice.
    const said = isScannerError(error) ? (error.fields.reason ?? error.detail) : error instanceof Error ? error.message : String(error);
    const detail = isScannerError(error) ? error.detail : said;
    const what = `the manifest of ${repository} on ${session.context.registry} could not be read`;
    throw contentFailure(new RegistryError(unsupported ? 'unsupported_media_type' : 'invalid_response', `${what}: ${detail}`, {
      registry: session.context.registry,
      repository,
      reason: `${what}: ${said}`,
      hints: isScannerError(error) ? error.fields.hints : undefined,
      cause: error,
    }));
  }
}

/** A descriptor's platform as a `Platform` (drops `os.version`, features and unknown fields). */
export function descriptorPlatform(platform: DescriptorPlatform): Platform {
  const { os, architecture, variant } = platform;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** Picks the index entry for `platform` (attestation entries `unknown/unknown` never match). */
export function selectPlatform(manifests: readonly Descriptor[], platform: Platform): Descriptor | undefined {
  return manifests.find((entry) => entry.platform !== undefined && platformMatches(platform, descriptorPlatform(entry.platform)));
}

// GET and HEAD of a manifest send the same Accept list, so that both see the same manifest and digest.
function manifestRequest(session: Session, reference: ImageReference, method: 'GET' | 'HEAD', signal: AbortSignal | undefined) {
  const repository = reference.repository;
  return {
    method,
    url: v2Url(session, repository, `manifests/${manifestReference(reference)}`),
    kind: 'manifest' as const,
    repository,
    headers: { accept: MANIFEST_ACCEPT },
    retry: true,
    signal,
    scopes: [repositoryScope(repository, 'pull')],
  };
}

/**
 * GETs a manifest or index with the full Accept list, buffering at most `maxManifestBytes`; checks the
 * digest of the bytes against the digest asked for and `Docker-Content-Digest`.
 */
export async function getManifest(session: Session, reference: ImageReference, options: GetManifestOptions = {}): Promise<ManifestResult> {
  const { context, runtime, limits } = session;
  const repository = reference.repository;
  const request = manifestRequest(session, reference, 'GET', options.signal);
  const url = request.url;
  const { response, bytes } = await retryBrokenBody(context, runtime, request, async () => {
    const answer = await authorizedSend(context, runtime, request);
    if (answer.status !== 200) throw await errorFromResponse(context, runtime, request, answer, `fetching the manifest ${describe(reference)}`);
    const body = await readBody(context, runtime, request, answer, limits.maxManifestBytes, `the manifest ${describe(reference)}`);
    return { response: answer, bytes: new Uint8Array(body) };
  });
  if (reference.digest !== undefined) checkDigest(session, bytes, reference.digest, repository, 'the digest asked for');
  const header = headerValue(response.headers, 'docker-content-digest');
  if (header !== undefined) checkDigest(session, bytes, header, repository, `Docker-Content-Digest from ${displayUrl(url)}`);
  const contentType = headerValue(response.headers, 'content-type');
  const parsed = await parseManifestBytes(session, bytes, contentType, repository);
  const digest = reference.digest ?? computeDigest(bytes);
  const result: ManifestResult = { ...parsed, digest, bytes, contentType, from: undefined };
  if (options.platform === undefined || parsed.kind !== 'index') return result;
  const entry = selectPlatform(parsed.index.manifests, options.platform);
  if (entry === undefined) {
    const available = parsed.index.manifests.flatMap((m) => (m.platform === undefined ? [] : [formatPlatform(descriptorPlatform(m.platform))])).join(', ');
    throw new RegistryError('not_found', `${describe(reference)} has no image for ${formatPlatform(options.platform)} (available: ${available || 'none'})`, {
      registry: context.registry,
      repository,
    });
  }
  const child = await getManifest(session, withDigest(reference, entry.digest), options.signal === undefined ? {} : { signal: options.signal });
  return { ...child, from: { indexDigest: digest, descriptor: entry } };
}

// HEAD answers that mean "ask with GET instead": registries that refuse HEAD (405, 501), or that answer
// HEAD with 404/403/400 while GET works.
const HEAD_REFUSED = new Set([400, 403, 404, 405, 501]);

/**
 * The digest a tag points to: HEAD with the full Accept list, falling back to GET when HEAD is refused or
 * lacks a valid `Docker-Content-Digest` (sha256 or sha512 with its full hex length). A reference with a digest resolves without a request. With `platform`, the
 * digest of that platform's manifest.
 */
export async function resolveDigest(session: Session, reference: ImageReference, options: GetManifestOptions = {}): Promise<string> {
  if (options.platform !== undefined) return (await getManifest(session, reference, options)).digest;
  if (reference.digest !== undefined) return reference.digest;
  const { context, runtime } = session;
  const request = manifestRequest(session, reference, 'HEAD', options.signal);
  const response = await authorizedSend(context, runtime, request);
  await discard(response.body);
  if (response.status === 200) {
    const header = headerValue(response.headers, 'docker-content-digest');
    // A header that is not a digest we can check (sha256:zzz, a truncated hex) is treated as missing: the
    // GET below computes the digest from the bytes, so a malformed header is never the answer.
    if (header !== undefined && isDigest(header)) return header;
  } else if (!HEAD_REFUSED.has(response.status)) {
    throw await errorFromResponse(context, runtime, request, response, `resolving ${describe(reference)}`);
  }
  return (await getManifest(session, reference, options.signal === undefined ? {} : { signal: options.signal })).digest;
}
