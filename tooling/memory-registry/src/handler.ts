import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MEDIA_TYPE_OCI_INDEX, computeDigest } from '@scanner/image';
import { HttpError, httpError } from './errors.ts';
import type { OciErrorBody } from './errors.ts';
import { digestAlgorithm, isDigestReference, isRepositoryName, isTag } from './grammar.ts';
import { nextLink, paginate } from './pagination.ts';
import type { RecordedRequest } from './request-log.ts';
import { matchRoute, routeKind } from './routes.ts';
import type { Route } from './routes.ts';
import type { RegistryStore, UploadSession } from './store.ts';

/** Settings the request handler runs with, defaults already applied. */
export interface HandlerSettings {
  auth: { username: string; password: string } | undefined;
  realm: string;
  maxBlobBytes: number;
  maxManifestBytes: number;
  chunkMinLength: number | undefined;
  maxPageSize: number | undefined;
  record: (entry: RecordedRequest) => void;
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  route: Route;
}

const EMPTY = Buffer.alloc(0);
/** Rejection of a body read whose client disconnected: there is no one to answer, so nothing is sent or logged. */
const CLIENT_GONE = new Error('memory-registry: the client closed the connection before the body was complete');

/** The node:http request listener of the registry. */
export function createRequestHandler(store: RegistryStore, settings: HandlerSettings): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://memory-registry.invalid');
    const exchange: Exchange = { req, res, method: req.method ?? 'GET', url, route: matchRoute(url.pathname) };
    handle(store, settings, exchange).catch((error: unknown) => {
      if (error === CLIENT_GONE) return;
      const failure = error instanceof HttpError ? error : httpError('UNKNOWN', `memory-registry: ${String(error)}`);
      sendError(settings, exchange, failure);
    });
  };
}

async function handle(store: RegistryStore, settings: HandlerSettings, x: Exchange): Promise<void> {
  authorize(settings, x.req);
  const { route } = x;
  switch (route.kind) {
    case 'base':
      allow(x, ['GET', 'HEAD']);
      sendJson(settings, x, 200, {});
      return;
    case 'catalog': {
      allow(x, ['GET']);
      const page = paginate(store.repositoryNames(), x.url.searchParams, settings.maxPageSize);
      const headers: Record<string, string> = page.next ? { Link: nextLink('/v2/_catalog', page.next) } : {};
      sendJson(settings, x, 200, { repositories: page.items }, headers);
      return;
    }
    case 'tags': {
      allow(x, ['GET']);
      const name = validName(route.name);
      const tags = store.tagNames(name);
      if (tags === undefined) throw nameUnknown(name);
      const page = paginate(tags, x.url.searchParams, settings.maxPageSize);
      const headers: Record<string, string> = page.next ? { Link: nextLink(`/v2/${name}/tags/list`, page.next) } : {};
      sendJson(settings, x, 200, { name, tags: page.items }, headers);
      return;
    }
    case 'manifest':
      await handleManifest(store, settings, x, validName(route.name), route.reference);
      return;
    case 'blob':
      handleBlob(store, settings, x, validName(route.name), route.digest);
      return;
    case 'uploads':
      await startUpload(store, settings, x, validName(route.name));
      return;
    case 'upload':
      await continueUpload(store, settings, x, validName(route.name), route.id);
      return;
    case 'referrers':
      allow(x, ['GET']);
      listReferrers(store, settings, x, validName(route.name), route.digest);
      return;
    case 'unknown':
      throw httpError('UNSUPPORTED', `no endpoint at ${x.url.pathname}`, { status: 404 });
  }
}

async function handleManifest(store: RegistryStore, settings: HandlerSettings, x: Exchange, name: string, reference: string): Promise<void> {
  allow(x, ['GET', 'HEAD', 'PUT', 'DELETE']);
  if (!isTag(reference) && !isDigestReference(reference)) {
    throw httpError('MANIFEST_INVALID', `"${reference}" is neither a tag nor a digest`, { detail: { reference } });
  }
  if (x.method === 'PUT') {
    const bytes = await readBody(x.req, settings.maxManifestBytes, 'manifest');
    const result = store.putManifest(name, reference, bytes, x.req.headers['content-type']);
    if (!result.ok) {
      const { rejection } = result;
      if (rejection.code === 'MANIFEST_BLOB_UNKNOWN') {
        const errors: OciErrorBody[] = rejection.missing.map((digest) => ({
          code: 'MANIFEST_BLOB_UNKNOWN',
          message: `blob or manifest ${digest} is unknown to "${name}"; push it first`,
          detail: { digest },
        }));
        throw new HttpError(404, errors);
      }
      throw httpError(rejection.code, rejection.message);
    }
    const { manifest } = result;
    const headers: Record<string, string> = {
      Location: `/v2/${name}/manifests/${manifest.digest}`,
      'Docker-Content-Digest': manifest.digest,
    };
    if (manifest.subject !== undefined) headers['OCI-Subject'] = manifest.subject;
    send(settings, x, 201, headers);
    return;
  }
  if (!store.hasRepository(name)) throw nameUnknown(name);
  if (x.method === 'DELETE') {
    if (!store.deleteManifest(name, reference)) throw manifestUnknown(name, reference);
    send(settings, x, 202, {});
    return;
  }
  const manifest = store.getManifest(name, reference);
  if (manifest === undefined) throw manifestUnknown(name, reference);
  // Whatever the Accept header says, the stored bytes go back as they are: converting would change the digest.
  send(settings, x, 200, {
    'Content-Type': manifest.mediaType,
    'Docker-Content-Digest': manifest.digest,
    ETag: `"${manifest.digest}"`,
  }, manifest.bytes);
}

function handleBlob(store: RegistryStore, settings: HandlerSettings, x: Exchange, name: string, digest: string): void {
  allow(x, ['GET', 'HEAD', 'DELETE']);
  validDigest(digest);
  if (x.method === 'DELETE') {
    if (!store.deleteBlob(name, digest)) throw blobUnknown(name, digest);
    send(settings, x, 202, {});
    return;
  }
  const bytes = store.getBlob(name, digest);
  if (bytes === undefined) throw blobUnknown(name, digest);
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Accept-Ranges': 'bytes',
  };
  const range = parseByteRange(x.req.headers.range, bytes.length);
  if (range === 'unsatisfiable') {
    throw httpError('RANGE_INVALID', `Range "${x.req.headers.range ?? ''}" is outside the ${bytes.length}-byte blob`, {
      headers: { 'Content-Range': `bytes */${bytes.length}` },
    });
  }
  if (range === undefined) {
    send(settings, x, 200, headers, bytes);
    return;
  }
  headers['Content-Range'] = `bytes ${range.start}-${range.end}/${bytes.length}`;
  send(settings, x, 206, headers, bytes.subarray(range.start, range.end + 1));
}

/**
 * One `bytes=` range of RFC 9110 (`a-b`, `a-`, `-suffix`). Several ranges or another unit are ignored, which
 * the RFC allows: the whole blob is sent.
 */
function parseByteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', second = ''] = match;
  if (first === '' && second === '') return undefined;
  if (first === '') {
    const suffix = Number(second);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = second === '' ? size - 1 : Math.min(Number(second), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

async function startUpload(store: RegistryStore, settings: HandlerSettings, x: Exchange, name: string): Promise<void> {
  allow(x, ['POST']);
  const query = x.url.searchParams;
  const mount = query.get('mount');
  const from = query.get('from');
  if (mount !== null && from !== null && isRepositoryName(from) && store.mountBlob(name, from, mount)) {
    send(settings, x, 201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount });
    return;
  }
  const digest = query.get('digest');
  if (digest !== null && mount === null) {
    const bytes = await readBody(x.req, settings.maxBlobBytes, 'blob');
    commitBlob(store, settings, x, name, digest, bytes);
    return;
  }
  await readBody(x.req, settings.maxBlobBytes, 'blob');
  const session: UploadSession = { id: randomUUID(), repository: name, chunks: [], size: 0 };
  store.uploads.set(session.id, session);
  const headers = uploadHeaders(session);
  if (settings.chunkMinLength !== undefined) headers['OCI-Chunk-Min-Length'] = String(settings.chunkMinLength);
  send(settings, x, 202, headers);
}

async function continueUpload(store: RegistryStore, settings: HandlerSettings, x: Exchange, name: string, id: string): Promise<void> {
  allow(x, ['GET', 'PATCH', 'PUT', 'DELETE']);
  const session = store.uploads.get(id);
  if (session?.repository !== name) {
    throw httpError('BLOB_UPLOAD_UNKNOWN', `no upload "${id}" in "${name}"; start one with POST /v2/${name}/blobs/uploads/`, { detail: { id } });
  }
  switch (x.method) {
    case 'GET':
      send(settings, x, 204, uploadHeaders(session));
      return;
    case 'DELETE':
      store.uploads.delete(id);
      send(settings, x, 204, {});
      return;
    case 'PATCH': {
      const chunk = await readBody(x.req, settings.maxBlobBytes - session.size, 'blob');
      appendChunk(session, x.req.headers['content-range'], chunk);
      send(settings, x, 202, uploadHeaders(session));
      return;
    }
    default: {
      const digest = x.url.searchParams.get('digest');
      const chunk = await readBody(x.req, settings.maxBlobBytes - session.size, 'blob');
      if (digest === null) {
        throw httpError('DIGEST_INVALID', 'closing an upload needs ?digest=<digest of the whole blob>');
      }
      if (chunk.length > 0) appendChunk(session, x.req.headers['content-range'], chunk);
      store.uploads.delete(id);
      commitBlob(store, settings, x, name, digest, Buffer.concat(session.chunks, session.size));
    }
  }
}

/** Checks a chunk's `Content-Range` (when sent) continues the upload exactly where it stands. */
function appendChunk(session: UploadSession, contentRange: string | undefined, chunk: Buffer): void {
  if (contentRange !== undefined) {
    const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(contentRange.trim());
    const start = Number(match?.[1]);
    const end = Number(match?.[2]);
    if (!match || start !== session.size || end - start + 1 !== chunk.length) {
      throw httpError('RANGE_INVALID', `Content-Range "${contentRange}" does not continue the upload at byte ${session.size} with ${chunk.length} bytes`, {
        headers: uploadHeaders(session),
      });
    }
  }
  session.chunks.push(chunk);
  session.size += chunk.length;
}

function commitBlob(store: RegistryStore, settings: HandlerSettings, x: Exchange, name: string, digest: string, bytes: Buffer): void {
  const algorithm = digestAlgorithm(digest);
  if (algorithm === undefined) throw httpError('DIGEST_INVALID', `unsupported digest "${digest}"; use sha256 or sha512`, { detail: { digest } });
  const actual = computeDigest(bytes, algorithm);
  if (actual !== digest) {
    throw httpError('DIGEST_INVALID', `uploaded content has digest ${actual}, not ${digest}`, { detail: { digest, actual } });
  }
  store.putBlob(name, bytes, digest);
  send(settings, x, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

function uploadHeaders(session: UploadSession): Record<string, string> {
  return {
    Location: `/v2/${session.repository}/blobs/uploads/${session.id}`,
    // Distribution's convention: inclusive end offset, clamped at 0 for an empty upload.
    Range: `0-${Math.max(session.size - 1, 0)}`,
    'Docker-Upload-UUID': session.id,
    'Blob-Upload-Session-ID': session.id,
  };
}

function listReferrers(store: RegistryStore, settings: HandlerSettings, x: Exchange, name: string, digest: string): void {
  validDigest(digest);
  const artifactType = x.url.searchParams.get('artifactType');
  const manifests = store
    .referrers(name, digest)
    .filter((manifest) => artifactType === null || manifest.artifactType === artifactType)
    .map((manifest) => ({
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.bytes.length,
      ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }),
      ...(manifest.annotations === undefined ? {} : { annotations: manifest.annotations }),
    }));
  const headers: Record<string, string> = { 'Content-Type': MEDIA_TYPE_OCI_INDEX };
  if (artifactType !== null) headers['OCI-Filters-Applied'] = 'artifactType';
  send(settings, x, 200, headers, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests })));
}

function authorize(settings: HandlerSettings, req: IncomingMessage): void {
  if (settings.auth === undefined) return;
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (match?.[1] !== undefined) {
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && sameSecret(decoded.slice(0, colon), settings.auth.username) && sameSecret(decoded.slice(colon + 1), settings.auth.password)) return;
  }
  // The message never echoes what was sent: it may hold a password.
  throw httpError('UNAUTHORIZED', 'authentication required: send Basic credentials', {
    headers: { 'WWW-Authenticate': `Basic realm="${settings.realm}"` },
  });
}

function sameSecret(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, which timingSafeEqual needs.
  const hash = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(hash(given), hash(expected));
}

function allow(x: Exchange, methods: readonly string[]): void {
  if (!methods.includes(x.method)) {
    throw httpError('UNSUPPORTED', `${x.method} is not supported on ${x.url.pathname}`, { headers: { Allow: methods.join(', ') } });
  }
}

function validName(name: string): string {
  if (!isRepositoryName(name)) {
    throw httpError('NAME_INVALID', `"${name}" is not a valid repository name (lowercase path components, at most 255 characters)`, { detail: { name } });
  }
  return name;
}

function validDigest(digest: string): void {
  if (digestAlgorithm(digest) === undefined) throw httpError('DIGEST_INVALID', `"${digest}" is not a sha256 or sha512 digest`, { detail: { digest } });
}

function nameUnknown(name: string): HttpError {
  return httpError('NAME_UNKNOWN', `repository "${name}" is not known to the registry`, { detail: { name } });
}

function manifestUnknown(name: string, reference: string): HttpError {
  return httpError('MANIFEST_UNKNOWN', `manifest "${reference}" is not known in "${name}"`, { detail: { name, reference } });
}

function blobUnknown(name: string, digest: string): HttpError {
  return httpError('BLOB_UNKNOWN', `blob ${digest} is not known in "${name}"`, { detail: { digest } });
}

/**
 * The request body, refusing with 413 past `maxBytes`. On overflow the rest of the body is discarded rather
 * than the socket destroyed, so the client still reads the 413.
 */
function readBody(req: IncomingMessage, maxBytes: number, what: 'blob' | 'manifest'): Promise<Buffer> {
  const tooLarge = () =>
    httpError('SIZE_INVALID', `${what} body is larger than the ${maxBytes}-byte limit of this registry`, {
      status: 413,
      headers: { Connection: 'close' },
    });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    let ended = false;
    req.on('data', onData);
    req.once('end', () => {
      ended = true;
      resolve(size === 0 ? EMPTY : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
    // A client that goes away mid-body never sends 'end'; without this the upload would hang forever.
    req.once('close', () => {
      if (!ended) reject(CLIENT_GONE);
    });
  });
}

function sendJson(settings: HandlerSettings, x: Exchange, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(settings, x, status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }, Buffer.from(JSON.stringify(value)));
}

function sendError(settings: HandlerSettings, x: Exchange, error: HttpError): void {
  sendJson(settings, x, error.status, { errors: error.errors }, { ...error.headers });
}

/** Every response goes through here, so the request log sees each one before the client can. */
function send(settings: HandlerSettings, x: Exchange, status: number, headers: Record<string, string>, body: Buffer = EMPTY): void {
  const { res } = x;
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  for (const [key, value] of Object.entries(headers)) res.setHeader(key, value);
  if (status !== 204) res.setHeader('Content-Length', body.length);
  const entry: RecordedRequest = { method: x.method, path: x.url.pathname, query: x.url.search.slice(1), route: routeKind(x.route), status };
  if ('name' in x.route) entry.repository = x.route.name;
  settings.record(entry);
  res.end(x.method === 'HEAD' || status === 204 ? undefined : body);
}
