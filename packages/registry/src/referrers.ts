// OCI distribution-spec 1.1 referrers: the artifacts (signatures, SBOMs, attestations, provenance) whose
// manifest names another manifest as its `subject`. Registries with the referrers API index them; for the
// others (Debian's distribution 2.8 among them) the pusher maintains an index under the referrers tag.
import { computeDigest } from '@scanner/image/digest';
import { MEDIA_TYPE_OCI_INDEX } from '@scanner/image/media-types';
import { createImageReference } from '@scanner/image/reference';
import type { Descriptor, ImageReference, ParsedManifest } from '@scanner/image';
import { authorizedSend, repositoryScope } from './auth.ts';
import { readBody, retryBrokenBody } from './body.ts';
import { copyBlob, copyImage } from './copy.ts';
import type { CopyEndpoint } from './copy.ts';
import { RegistryError, isRegistryError } from './errors.ts';
import { nextLink } from './link-header.ts';
import { getManifest, parseManifestBytes, resolveDigest } from './manifests.ts';
import type { ManifestResult } from './manifests.ts';
import { errorFromResponse } from './response-error.ts';
import { v2Url } from './session.ts';
import type { Session } from './session.ts';
import { discard, displayUrl, headerValue } from './transport.ts';
import type { RegistryContext } from './transport.ts';
import { putManifest } from './upload.ts';

/** How a referrers list was read, or how a referrer was made discoverable. */
export type ReferrersVia = 'referrers-api' | 'tag-schema';

/** Options of `listReferrers`. */
export interface ListReferrersOptions {
  /** Only referrers of this `artifactType` (filtered by the registry when it supports it, else by the client). */
  readonly artifactType?: string;
  readonly signal?: AbortSignal;
}

/** The referrers of one manifest. */
export interface ReferrersList {
  /** The subject's digest. */
  readonly subject: string;
  /**
   * One descriptor per referrer, as the spec defines them: `mediaType`, `digest`, `size`, `artifactType` (the
   * manifest's, else its config's media type) and the manifest's `annotations`.
   */
  readonly descriptors: readonly Descriptor[];
  readonly via: ReferrersVia;
}

/** Options of `pushReferrer`. */
export interface PushReferrerOptions {
  /** The manifest's media type, sent as `Content-Type`. */
  readonly mediaType: string;
  readonly signal?: AbortSignal;
}

/** What `pushReferrer` did. */
export interface PushReferrerResult {
  readonly digest: string;
  /** The subject's digest. */
  readonly subject: string;
  /** `referrers-api`: the registry answered `OCI-Subject`; `tag-schema`: the referrers tag index was updated. */
  readonly via: ReferrersVia;
}

/** What `updateReferrersTag` did. */
export interface UpdateReferrersTagResult {
  /** The referrers tag, `<alg>-<hex>`. */
  readonly tag: string;
  /** The digest of the index now at the tag (unchanged when nothing was added). */
  readonly digest: string;
  /** Descriptors added (those already listed are not added twice). */
  readonly added: number;
}

/** Options of `copyReferrers`. */
export interface CopyReferrersOptions {
  /** Only referrers of this `artifactType`. */
  readonly artifactType?: string;
  readonly signal?: AbortSignal;
}

/** What `copyReferrers` did. */
export interface CopyReferrersResult {
  /** The referrers at the source, as listed there. */
  readonly source: ReferrersList;
  /** Digests of the referrers copied (manifest, its blobs and children), in the source's order. */
  readonly copied: readonly string[];
  /** Digests the target already listed as referrers of the subject, left alone. */
  readonly existing: readonly string[];
  /** How the copied referrers became discoverable at the target; `undefined` when nothing was copied. */
  readonly via: ReferrersVia | undefined;
}

/**
 * The referrers tag of a digest (OCI distribution-spec 1.1, "Referrers Tag Schema"): the algorithm truncated
 * to 32 characters, `-`, the encoded part truncated to 64 characters, with characters a tag cannot hold
 * replaced by `-`.
 *
 * @example referrersTag('sha256:9f86…0a08') // 'sha256-9f86…0a08'
 */
export function referrersTag(digest: string): string {
  const colon = digest.indexOf(':');
  if (colon <= 0) throw new RegistryError('invalid_reference', `${JSON.stringify(digest)} is not a digest (algorithm:encoded)`);
  const clean = (text: string) => text.replace(/[^a-zA-Z0-9_.-]/g, '-');
  return `${clean(digest.slice(0, colon).slice(0, 32))}-${clean(digest.slice(colon + 1).slice(0, 64))}`;
}

/**
 * The descriptor the referrers API lists for a manifest: `artifactType` from the manifest, else (for an image
 * manifest) its config's media type; the manifest's annotations; digest and size of the exact bytes.
 */
export function referrerDescriptor(parsed: ParsedManifest, bytes: Uint8Array, mediaType: string = parsed.mediaType): Descriptor {
  const body = parsed.kind === 'index' ? parsed.index : parsed.manifest;
  const artifactType = body.artifactType ?? (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
  return {
    mediaType,
    digest: computeDigest(bytes),
    size: bytes.byteLength,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(body.annotations === undefined ? {} : { annotations: body.annotations }),
  };
}

// Repositories where the referrers API answered 404: read the tag schema directly there. Cleared when the
// registry answers `OCI-Subject`, which only a registry with the API does.
const withoutApi = new WeakMap<RegistryContext, Set<string>>();

function markApi(context: RegistryContext, repository: string, available: boolean): void {
  let set = withoutApi.get(context);
  if (available) {
    set?.delete(repository);
    return;
  }
  if (set === undefined) {
    set = new Set();
    withoutApi.set(context, set);
  }
  set.add(repository);
}

function filterByType(descriptors: readonly Descriptor[], artifactType: string | undefined): Descriptor[] {
  return artifactType === undefined ? [...descriptors] : descriptors.filter((descriptor) => descriptor.artifactType === artifactType);
}

async function subjectDigest(session: Session, reference: ImageReference, signal: AbortSignal | undefined): Promise<string> {
  return reference.digest ?? resolveDigest(session, reference, signal === undefined ? {} : { signal });
}

function tagReference(reference: ImageReference, tag: string): ImageReference {
  return createImageReference({ registry: reference.registry, repository: reference.repository, tag });
}

// By digest only: a tag on the reference would make putManifest write under the tag.
function digestReference(reference: ImageReference, digest: string): ImageReference {
  return createImageReference({ registry: reference.registry, repository: reference.repository, digest });
}

/** The index at the referrers tag, or undefined when there is none (or the tag holds something else and `strict` is off). */
async function readTagIndex(
  session: Session,
  reference: ImageReference,
  subject: string,
  options: { signal: AbortSignal | undefined; strict: boolean },
): Promise<ManifestResult | undefined> {
  const tag = referrersTag(subject);
  let result: ManifestResult;
  try {
    result = await getManifest(session, tagReference(reference, tag), options.signal === undefined ? {} : { signal: options.signal });
  } catch (error) {
    if (isRegistryError(error) && (error.status === 404 || error.code === 'MANIFEST_UNKNOWN' || error.code === 'NAME_UNKNOWN')) return undefined;
    if (!options.strict && isRegistryError(error) && (error.code === 'unsupported_media_type' || error.code === 'invalid_response')) return undefined;
    throw error;
  }
  if (result.kind === 'index' && result.mediaType === MEDIA_TYPE_OCI_INDEX) return result;
  if (!options.strict) return undefined;
  throw new RegistryError('invalid_response', `the referrers tag ${reference.repository}:${tag} on ${session.context.registry} holds a ${result.mediaType}, not an OCI image index; it is not a referrers list, so it was left alone (remove or rename that tag)`, {
    registry: session.context.registry,
    repository: reference.repository,
  });
}

/**
 * Lists the referrers of a manifest: `GET /v2/<name>/referrers/<digest>` (following `Link: rel="next"` pages
 * on the same origin), and when the registry answers 404 (no referrers API), the index at the referrers tag
 * (`referrersTag`); no such tag means no referrers. A reference without a digest is resolved first (1 HEAD).
 * `artifactType` is sent to the registry and applied by the client when the registry did not
 * (`OCI-Filters-Applied`). After one 404 in a repository, later calls there read the tag schema directly.
 *
 * Requests: 1 (API), or 2 the first time in a repository without the API and 1 after.
 */
export async function listReferrers(session: Session, reference: ImageReference, options: ListReferrersOptions = {}): Promise<ReferrersList> {
  const { context, runtime, limits } = session;
  const { signal, artifactType } = options;
  const repository = reference.repository;
  const subject = await subjectDigest(session, reference, signal);
  const viaTag = async (): Promise<ReferrersList> => {
    const index = await readTagIndex(session, reference, subject, { signal, strict: false });
    return { subject, descriptors: filterByType(index?.kind === 'index' ? index.index.manifests : [], artifactType), via: 'tag-schema' };
  };
  if (withoutApi.get(context)?.has(repository) === true) return viaTag();

  let url = v2Url(session, repository, `referrers/${subject}`);
  if (artifactType !== undefined) url.searchParams.set('artifactType', artifactType);
  const descriptors: Descriptor[] = [];
  const seen = new Set<string>();
  for (let page = 0; page < limits.maxPages; page++) {
    const request = {
      method: 'GET' as const,
      url,
      kind: 'referrers' as const,
      repository,
      headers: { accept: MEDIA_TYPE_OCI_INDEX },
      retry: true,
      signal,
      scopes: [repositoryScope(repository, 'pull')],
    };
    const { response, bytes } = await retryBrokenBody(context, runtime, request, async () => {
      const answer = await authorizedSend(context, runtime, request);
      if (answer.status !== 200) return { response: answer, bytes: undefined };
      return { response: answer, bytes: await readBody(context, runtime, request, answer, limits.maxManifestBytes, `the referrers of ${repository}@${subject}`) };
    });
    if (bytes === undefined) {
      if (response.status === 404 && page === 0) {
        await discard(response.body);
        markApi(context, repository, false);
        return viaTag();
      }
      throw await errorFromResponse(context, runtime, request, response, `listing the referrers of ${repository}@${subject}`);
    }
    markApi(context, repository, true);
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      body = undefined;
    }
    const { imageIndexSchema } = await import('@scanner/image/manifest');
    const parsed = imageIndexSchema.safeParse(body);
    if (!parsed.success) {
      throw new RegistryError('invalid_response', `the referrers of ${repository}@${subject} from ${displayUrl(url)} are not an OCI image index`, {
        status: response.status,
        registry: context.registry,
        repository,
      });
    }
    const applied = (headerValue(response.headers, 'oci-filters-applied') ?? '').split(',').map((part) => part.trim().toLowerCase());
    const kept = applied.includes('artifacttype') ? parsed.data.manifests : filterByType(parsed.data.manifests, artifactType);
    for (const descriptor of kept) {
      if (seen.has(descriptor.digest)) continue;
      seen.add(descriptor.digest);
      descriptors.push(descriptor);
    }
    const link = nextLink(response.headers['link']);
    if (link === undefined) break;
    const next = new URL(link, url);
    if (next.origin !== url.origin) {
      throw new RegistryError('cross_origin', `the referrers of ${repository}@${subject} linked to another origin (${next.origin}); refusing to follow it with this registry's credentials`, {
        registry: context.registry,
        repository,
      });
    }
    url = next;
  }
  return { subject, descriptors, via: 'referrers-api' };
}

// One writer at a time per referrers tag within this client: concurrent pushes for one subject would
// otherwise read the same index and the last PUT would drop the other's descriptor.
const tagLocks = new WeakMap<RegistryContext, Map<string, Promise<unknown>>>();

async function withTagLock<T>(context: RegistryContext, key: string, run: () => Promise<T>): Promise<T> {
  let locks = tagLocks.get(context);
  if (locks === undefined) {
    locks = new Map();
    tagLocks.set(context, locks);
  }
  const previous = locks.get(key) ?? Promise.resolve();
  const current = previous.catch(() => undefined).then(run);
  const settled = current.catch(() => undefined);
  locks.set(key, settled);
  try {
    return await current;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}

/**
 * Adds descriptors to the referrers tag index of `subject` in the reference's repository (OCI distribution-spec
 * 1.1, "Pushing Manifests with Subject", for registries without the referrers API): reads the index at
 * `referrersTag(subject)` (none: an empty OCI index), adds each descriptor not listed yet, and PUTs it back
 * under the tag. The referrers must already be pushed (distribution 2.8 rejects an index whose children are
 * missing). Pushes within one client are serialised per tag; another writer could still race (the spec's
 * conditional requests are not used: distribution 2.8 ignores them).
 *
 * @throws {RegistryError} `invalid_response` when the tag holds something other than an OCI index.
 */
export async function updateReferrersTag(
  session: Session,
  reference: ImageReference,
  subject: string,
  descriptors: readonly Descriptor[],
  options: { signal?: AbortSignal } = {},
): Promise<UpdateReferrersTagResult> {
  const tag = referrersTag(subject);
  return withTagLock(session.context, `${reference.repository}:${tag}`, async () => {
    const current = await readTagIndex(session, reference, subject, { signal: options.signal, strict: true });
    const body: Record<string, unknown> = current === undefined ? { schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests: [] } : (JSON.parse(Buffer.from(current.bytes).toString('utf8')) as Record<string, unknown>);
    const listed = (body['manifests'] as Descriptor[] | undefined) ?? [];
    const known = new Set(listed.map((descriptor) => descriptor.digest));
    const added = descriptors.filter((descriptor) => {
      if (known.has(descriptor.digest)) return false;
      known.add(descriptor.digest);
      return true;
    });
    if (added.length === 0 && current !== undefined) return { tag, digest: current.digest, added: 0 };
    const bytes = Buffer.from(JSON.stringify({ ...body, manifests: [...listed, ...added] }));
    const { digest } = await putManifest(session, tagReference(reference, tag), bytes, {
      mediaType: MEDIA_TYPE_OCI_INDEX,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return { tag, digest, added: added.length };
  });
}

/**
 * Pushes a manifest that has a `subject` so that it is discoverable: PUT by digest (or under the reference's
 * tag); when the registry does not answer `OCI-Subject` (no referrers API), adds its descriptor to the subject's
 * referrers tag index afterwards, the artifact first as distribution 2.8 requires. Blobs must be there already.
 *
 * @throws {RegistryError} `invalid_reference` when the manifest has no `subject`.
 */
export async function pushReferrer(session: Session, reference: ImageReference, bytes: Uint8Array, options: PushReferrerOptions): Promise<PushReferrerResult> {
  const parsed = await parseManifestBytes(session, bytes, options.mediaType, reference.repository);
  const subject = (parsed.kind === 'index' ? parsed.index : parsed.manifest).subject?.digest;
  if (subject === undefined) {
    throw new RegistryError('invalid_reference', `the manifest pushed to ${reference.repository} has no subject; push it with putManifest`, {
      registry: session.context.registry,
      repository: reference.repository,
    });
  }
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const target = reference.tag === undefined ? digestReference(reference, computeDigest(bytes)) : reference;
  const put = await putManifest(session, target, bytes, { mediaType: options.mediaType, ...signal });
  if (put.subject !== undefined) {
    markApi(session.context, reference.repository, true);
    return { digest: put.digest, subject, via: 'referrers-api' };
  }
  await updateReferrersTag(session, reference, subject, [referrerDescriptor(parsed, bytes, options.mediaType)], signal);
  return { digest: put.digest, subject, via: 'tag-schema' };
}

/**
 * Copies the referrers of a manifest from one repository to another (across registries or not): lists them
 * at the source (`listReferrers`) and at the target, copies each one the target lacks — blobs (mounted within
 * a registry), children of an index, then the manifest by digest, bytes unchanged — and, when the target did
 * not answer `OCI-Subject`, adds them to the target's referrers tag index in one update after all of them are
 * there. Referrers of referrers are not followed. Both references must name the same digest (or tag).
 */
export async function copyReferrers(
  source: { session: Session; reference: ImageReference },
  target: { session: Session; reference: ImageReference },
  options: CopyReferrersOptions = {},
): Promise<CopyReferrersResult> {
  const { signal } = options;
  const signalOption = signal === undefined ? {} : { signal };
  const listOptions = { ...signalOption, ...(options.artifactType === undefined ? {} : { artifactType: options.artifactType }) };
  const listed = await listReferrers(source.session, source.reference, listOptions);
  const targetSubject = target.reference.digest ?? listed.subject;
  if (targetSubject !== listed.subject) {
    throw new RegistryError('invalid_reference', `copying referrers from ${listed.subject} to ${targetSubject}: the subject must be the same manifest`, {
      registry: target.session.context.registry,
      repository: target.reference.repository,
    });
  }
  const pinnedTarget = digestReference(target.reference, targetSubject);
  const present = await listReferrers(target.session, pinnedTarget, listOptions);
  const have = new Set(present.descriptors.map((descriptor) => descriptor.digest));
  const existing: string[] = [];
  const copied: string[] = [];
  const needTag: Descriptor[] = [];
  let sawApi = false;
  const from: CopyEndpoint = { session: source.session, repository: source.reference.repository };
  const to: CopyEndpoint = { session: target.session, repository: target.reference.repository };
  for (const descriptor of listed.descriptors) {
    if (have.has(descriptor.digest)) {
      existing.push(descriptor.digest);
      continue;
    }
    const manifest = await getManifest(source.session, digestReference(source.reference, descriptor.digest), signalOption);
    if (manifest.kind === 'manifest') {
      for (const blob of [manifest.manifest.config, ...manifest.manifest.layers]) {
        if ((blob.urls?.length ?? 0) > 0) continue;
        await copyBlob(from, to, blob, signalOption);
      }
    } else {
      for (const child of manifest.index.manifests) {
        await copyImage(
          { session: source.session, reference: digestReference(source.reference, child.digest) },
          { session: target.session, reference: digestReference(pinnedTarget, child.digest) },
          signalOption,
        );
      }
    }
    const put = await putManifest(target.session, digestReference(pinnedTarget, descriptor.digest), manifest.bytes, { mediaType: manifest.mediaType, ...signalOption });
    copied.push(descriptor.digest);
    if (put.subject === undefined) needTag.push(referrerDescriptor(manifest, manifest.bytes, manifest.mediaType));
    else sawApi = true;
  }
  if (sawApi) markApi(target.session.context, target.reference.repository, true);
  if (needTag.length > 0) await updateReferrersTag(target.session, pinnedTarget, targetSubject, needTag, signalOption);
  const via: ReferrersVia | undefined = copied.length === 0 ? undefined : needTag.length > 0 ? 'tag-schema' : 'referrers-api';
  return { source: listed, copied, existing, via };
}
