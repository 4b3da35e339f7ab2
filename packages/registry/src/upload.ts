import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import type { ImageReference } from '@scanner/image';
import { computeDigest, createDigester, isDigest, parseDigest } from '@scanner/image/digest';
import { authorizedSend, repositoryScope } from './auth.ts';
import { blobExists, checkedDigest } from './blobs.ts';
import { RegistryError } from './errors.ts';
import { checkDigest, manifestReference } from './manifests.ts';
import { isLoopbackHost } from './endpoint.ts';
import { errorFromResponse } from './response-error.ts';
import { pushFailure } from './repository-missing.ts';
import { v2Url } from './session.ts';
import type { Session } from './session.ts';
import { discard, displayUrl, headerValue } from './transport.ts';
import type { HttpMethod, SendResponse } from './transport.ts';

/** Blob content to upload: bytes (replayable, so retried), a web stream or an async iterable (sent once). */
export type UploadSource = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface UploadBlobOptions {
  /** The blob's digest. Required to skip existing blobs, to mount, and for a monolithic stream upload. */
  readonly digest?: string;
  /** The blob's size; with `digest`, lets a stream go up in one PUT. */
  readonly size?: number;
  /** Another repository of the same registry to mount the blob from (`POST ?mount=&from=`). */
  readonly mountFrom?: string;
  /** HEAD the blob first and skip the upload when it is there. @default true when `digest` is given */
  readonly skipExisting?: boolean;
  /** Force a chunked upload (PATCH per chunk). @default false for bytes or a stream with digest and size */
  readonly chunked?: boolean;
  readonly signal?: AbortSignal;
}

/** How a blob got there. */
export interface UploadBlobResult {
  readonly digest: string;
  readonly size: number | undefined;
  readonly outcome: 'uploaded' | 'mounted' | 'exists';
}

/**
 * Appends `name=value` to a URL exactly as given: the query the registry put in `Location` (upload state)
 * is kept byte for byte, which `URLSearchParams` would re-encode.
 */
export function appendQuery(url: URL, name: string, value: string): URL {
  const pair = `${name}=${encodeURIComponent(value)}`;
  return new URL(url.search === '' ? `${url.href.replace(/#.*$/, '')}?${pair}` : `${url.origin}${url.pathname}${url.search}&${pair}`);
}

function locationOf(session: Session, response: SendResponse, repository: string, what: string): URL {
  const location = headerValue(response.headers, 'location');
  if (location === undefined) {
    throw new RegistryError('invalid_response', `${what} for ${repository}: ${session.context.registry} answered ${response.status} without a Location header`, {
      status: response.status,
      registry: session.context.registry,
      repository,
    });
  }
  let url: URL;
  try {
    url = new URL(location, response.url);
  } catch (error) {
    throw new RegistryError('invalid_response', `${what} for ${repository}: ${session.context.registry} sent a Location that is not a URL; the registry is misbehaving`, {
      status: response.status,
      registry: session.context.registry,
      repository,
      cause: error,
    });
  }
  const downgrade = response.url.protocol === 'https:' && url.protocol === 'http:' && !isLoopbackHost(url.host) && session.context.settings.insecure !== true;
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || downgrade) {
    // The scheme alone is quoted: the rest of a Location may carry upload state or user info.
    throw new RegistryError('invalid_response', `${what} for ${repository}: ${session.context.registry} sent a ${url.protocol} upload Location; only https (or http with insecure: true) is followed, so nothing was sent there`, {
      status: response.status,
      registry: session.context.registry,
      repository,
    });
  }
  return url;
}

async function* chunksOf(source: Exclude<UploadSource, Uint8Array>): AsyncGenerator<Uint8Array> {
  if (source instanceof ReadableStream) {
    for await (const chunk of source as AsyncIterable<Uint8Array>) yield chunk;
    return;
  }
  yield* source;
}

function toReadable(source: Exclude<UploadSource, Uint8Array>): Readable {
  return source instanceof ReadableStream ? Readable.fromWeb(source as NodeWebReadableStream<Uint8Array>) : Readable.from(source);
}

/**
 * Uploads a blob: skips it when present, mounts it from `mountFrom` when the registry agrees (201) and
 * otherwise continues at the upload `Location` it returned (202); then one PUT (bytes, or a stream with known
 * digest and size) or PATCH chunks of at least `OCI-Chunk-Min-Length` followed by the closing PUT.
 * `Location` is used as given, relative or absolute, keeping its query.
 */
export async function uploadBlob(
  session: Session,
  repository: string,
  source: UploadSource | (() => Promise<UploadSource>),
  options: UploadBlobOptions = {},
): Promise<UploadBlobResult> {
  const { context, runtime, limits } = session;
  const { signal } = options;
  let digest = options.digest;
  if (digest !== undefined) checkedDigest(session, digest, repository);
  const scopes = [repositoryScope(repository, 'pull,push'), ...(options.mountFrom === undefined ? [] : [repositoryScope(options.mountFrom, 'pull')])];
  const request = (method: HttpMethod, url: URL, extra: { body?: Uint8Array | Readable; headers?: Record<string, string>; retry: boolean; kind?: 'upload' | 'mount' }) =>
    authorizedSend(context, runtime, {
      method,
      url,
      kind: extra.kind ?? 'upload',
      repository,
      retry: extra.retry,
      signal,
      scopes,
      ...(extra.headers === undefined ? {} : { headers: extra.headers }),
      ...(extra.body === undefined ? {} : { body: extra.body }),
    });
  const fail = async (response: SendResponse, method: HttpMethod, url: URL, what: string) =>
    errorFromResponse(context, runtime, { method, url, repository }, response, what);

  // The 202 that opened the upload session (mount fallback or POST): Location and OCI-Chunk-Min-Length.
  let opened: SendResponse | undefined;
  if (options.mountFrom !== undefined && digest !== undefined) {
    const url = v2Url(session, repository, 'blobs/uploads/');
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', options.mountFrom);
    const mounted = await request('POST', url, { retry: true, kind: 'mount' });
    if (mounted.status !== 201 && mounted.status !== 202) throw await pushFailure(context, runtime, { method: 'POST', url, repository }, mounted, `mounting ${digest} from ${options.mountFrom}`, 'upload');
    await discard(mounted.body);
    if (mounted.status === 201) return { digest, size: options.size, outcome: 'mounted' };
    opened = mounted;
  } else if (digest !== undefined && options.skipExisting !== false) {
    if (await blobExists(session, repository, digest, { actions: 'pull,push', ...(signal === undefined ? {} : { signal }) })) {
      return { digest, size: options.size, outcome: 'exists' };
    }
  }
  if (opened === undefined) {
    const url = v2Url(session, repository, 'blobs/uploads/');
    // An abandoned upload session is harmless, so starting one is safe to retry.
    const started = await request('POST', url, { retry: true });
    if (started.status !== 202) throw await pushFailure(context, runtime, { method: 'POST', url, repository }, started, 'starting a blob upload', 'upload');
    await discard(started.body);
    opened = started;
  }
  let location = locationOf(session, opened, repository, 'starting a blob upload');
  const minChunk = Number(headerValue(opened.headers, 'oci-chunk-min-length') ?? 0) || 0;
  const content = typeof source === 'function' ? await source() : source;

  const finish = async (url: URL, body: Uint8Array | Readable | undefined, size: number | undefined, finalDigest: string, retry: boolean) => {
    const target = appendQuery(url, 'digest', finalDigest);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (body === undefined) headers['content-length'] = '0';
    else if (!(body instanceof Uint8Array) && size !== undefined) headers['content-length'] = String(size);
    const put = await request('PUT', target, { retry, headers, ...(body === undefined ? {} : { body }) });
    if (put.status !== 201) throw await fail(put, 'PUT', target, `completing the upload of ${finalDigest}`);
    await discard(put.body);
    const echoed = headerValue(put.headers, 'docker-content-digest');
    if (echoed !== undefined) checkEchoedDigest(context.registry, repository, echoed, `completing the upload of ${finalDigest}`);
    if (echoed !== undefined && echoed !== finalDigest) {
      throw new RegistryError('digest_mismatch', `${context.registry} stored the blob as ${echoed}, not ${finalDigest}`, { registry: context.registry, repository });
    }
  };

  if (content instanceof Uint8Array && options.chunked !== true) {
    const actual = computeDigest(content, digest === undefined ? 'sha256' : parseDigest(digest).algorithm);
    if (digest !== undefined && actual !== digest) {
      throw new RegistryError('digest_mismatch', `the bytes given for ${digest} hash to ${actual}; nothing was uploaded`, { registry: context.registry, repository });
    }
    digest = actual;
    await finish(location, content, content.byteLength, digest, true);
    return { digest, size: content.byteLength, outcome: 'uploaded' };
  }
  if (!(content instanceof Uint8Array) && options.chunked !== true && digest !== undefined && options.size !== undefined) {
    await finish(location, toReadable(content), options.size, digest, false);
    return { digest, size: options.size, outcome: 'uploaded' };
  }

  // Chunked: buffer up to chunkSize (never below the registry's minimum), PATCH each chunk, PUT to close.
  const chunkSize = Math.max(limits.chunkSizeBytes, minChunk);
  const digester = createDigester(digest === undefined ? 'sha256' : parseDigest(digest).algorithm);
  let offset = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const chunk = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const patch = await request('PATCH', location, {
      retry: false,
      body: chunk,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.byteLength - 1}` },
    });
    if (patch.status !== 202) throw await fail(patch, 'PATCH', location, `uploading bytes ${offset}-${offset + chunk.byteLength - 1}`);
    await discard(patch.body);
    location = locationOf(session, patch, repository, 'uploading a chunk');
    offset += chunk.byteLength;
  };
  const input = content instanceof Uint8Array ? [content] : chunksOf(content);
  for await (const piece of input) {
    digester.update(piece);
    let rest = piece;
    while (rest.byteLength > 0) {
      const take = Math.min(rest.byteLength, chunkSize - pendingBytes);
      pending.push(rest.subarray(0, take));
      pendingBytes += take;
      rest = rest.subarray(take);
      if (pendingBytes === chunkSize) await flush();
    }
  }
  await flush();
  const actual = digester.digest();
  if (digest !== undefined && actual !== digest) {
    throw new RegistryError('digest_mismatch', `the content streamed for ${digest} hashed to ${actual}; the upload was not completed`, { registry: context.registry, repository });
  }
  if (options.size !== undefined && options.size !== offset) {
    throw new RegistryError('digest_mismatch', `the content streamed for ${actual} was ${offset} bytes, not the ${options.size} announced`, { registry: context.registry, repository });
  }
  await finish(location, undefined, 0, actual, true);
  return { digest: actual, size: offset, outcome: 'uploaded' };
}

export interface PutManifestOptions {
  /** The manifest's media type, sent as `Content-Type` (use the one it was fetched with). */
  readonly mediaType: string;
  readonly signal?: AbortSignal;
}

/** What a manifest PUT answered. */
export interface PutManifestResult {
  readonly digest: string;
  /**
   * The registry's `OCI-Subject` header: the subject digest it recorded for the referrers API (OCI
   * distribution-spec 1.1). `undefined` for a manifest without `subject`, or when the registry has no referrers
   * API, in which case the pusher must update the referrers tag schema (`pushReferrer` does).
   */
  readonly subject: string | undefined;
}

/**
 * PUTs manifest bytes exactly as given under the reference's tag (or digest), so the digest survives a
 * copy. Checks the bytes against the reference's digest first and the registry's `Docker-Content-Digest` after.
 */
export async function putManifest(session: Session, reference: ImageReference, bytes: Uint8Array, options: PutManifestOptions): Promise<PutManifestResult> {
  const { context, runtime, limits } = session;
  const repository = reference.repository;
  if (bytes.byteLength > limits.maxManifestBytes) {
    throw new RegistryError('too_large', `the manifest for ${repository} is ${bytes.byteLength} bytes, over the ${limits.maxManifestBytes}-byte limit`, { registry: context.registry, repository });
  }
  if (reference.digest !== undefined) checkDigest(session, bytes, reference.digest, repository, 'the digest of the target reference');
  const digest = reference.digest ?? computeDigest(bytes);
  const target = reference.tag ?? manifestReference(reference);
  const url = v2Url(session, repository, `manifests/${target}`);
  const request = {
    method: 'PUT' as const,
    url,
    kind: 'manifest' as const,
    repository,
    headers: { 'content-type': options.mediaType },
    body: bytes,
    retry: true,
    signal: options.signal,
    scopes: [repositoryScope(repository, 'pull,push')],
  };
  const response = await authorizedSend(context, runtime, request);
  if (response.status !== 201) throw await pushFailure(context, runtime, request, response, `pushing the manifest ${repository}:${target}`, 'manifest');
  await discard(response.body);
  const echoed = headerValue(response.headers, 'docker-content-digest');
  if (echoed !== undefined) checkEchoedDigest(context.registry, repository, echoed, `pushing the manifest ${repository}:${target}`);
  if (echoed !== undefined && echoed !== digest) {
    throw new RegistryError('digest_mismatch', `${context.registry} stored the manifest ${displayUrl(url)} as ${echoed}, not ${digest}`, { registry: context.registry, repository });
  }
  return { digest, subject: headerValue(response.headers, 'oci-subject') };
}

/**
 * Throws `invalid_response` when a `Docker-Content-Digest` the registry echoed is not a digest (`sha256:zzz`);
 * the value itself is left out of the message, since it is registry data that may hold anything.
 */
function checkEchoedDigest(registry: string, repository: string, echoed: string, action: string): void {
  if (isDigest(echoed)) return;
  throw new RegistryError('invalid_response', `${registry} answered ${action} with a Docker-Content-Digest header that is not a digest`, { registry, repository });
}
