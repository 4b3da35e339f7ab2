import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { computeDigest } from '@scanner/image';
import { json, startServer, testClient } from './http.fixture.ts';
import type { Handler } from './http.fixture.ts';
import { appendQuery } from './upload.ts';

/** An upload endpoint: sessions at `/upload/<id>?_state=a%2Bb`, chunks appended, PUT checks the digest. */
function uploadRegistry(options: { minChunk?: number; mount?: 201 | 202; absoluteBase?: () => string } = {}) {
  const sessions = new Map<string, Buffer>();
  const stored = new Map<string, Buffer>();
  const manifests = new Map<string, { bytes: Buffer; type: string }>();
  let next = 0;
  const locationFor = (id: string) => `${options.absoluteBase?.() ?? ''}/upload/${id}?_state=a%2Bb%3D`;
  const handler: Handler = (request, response) => {
    const url = new URL(request.url, 'http://x');
    if (request.method === 'GET' && /\/blobs\/sha256:/.test(url.pathname)) {
      const blob = stored.get(url.pathname.split('/').at(-1)!);
      if (blob === undefined) response.writeHead(404).end();
      else response.writeHead(200, { 'content-length': blob.byteLength }).end(blob);
      return;
    }
    if (request.method === 'HEAD' && url.pathname.includes('/blobs/')) {
      const digest = url.pathname.split('/').at(-1)!;
      response.writeHead(stored.has(digest) ? 200 : 404).end();
      return;
    }
    if (request.method === 'POST' && url.pathname.endsWith('/blobs/uploads/')) {
      if (url.searchParams.has('mount') && options.mount === 201) {
        stored.set(url.searchParams.get('mount')!, Buffer.alloc(0));
        response.writeHead(201, { location: `/v2/x/blobs/${url.searchParams.get('mount')!}` }).end();
        return;
      }
      const id = String(++next);
      sessions.set(id, Buffer.alloc(0));
      response.writeHead(202, { location: locationFor(id), ...(options.minChunk ? { 'oci-chunk-min-length': String(options.minChunk) } : {}) }).end();
      return;
    }
    if (url.pathname.startsWith('/upload/')) {
      const id = url.pathname.split('/')[2]!;
      if (url.searchParams.get('_state') !== 'a+b=') {
        json(response, 400, { errors: [{ code: 'BLOB_UPLOAD_INVALID', message: `state lost: ${url.search}` }] });
        return;
      }
      const current = sessions.get(id)!;
      if (request.method === 'PATCH') {
        const range = request.headers['content-range'];
        if (range !== `${current.byteLength}-${current.byteLength + request.body.byteLength - 1}`) {
          json(response, 416, {});
          return;
        }
        sessions.set(id, Buffer.concat([current, request.body]));
        response.writeHead(202, { location: locationFor(id), range: `0-${current.byteLength + request.body.byteLength - 1}` }).end();
        return;
      }
      if (request.method === 'PUT') {
        const all = Buffer.concat([current, request.body]);
        const digest = url.searchParams.get('digest')!;
        if (computeDigest(all) !== digest) {
          json(response, 400, { errors: [{ code: 'DIGEST_INVALID', message: 'digest did not match' }] });
          return;
        }
        stored.set(digest, all);
        response.writeHead(201, { 'docker-content-digest': digest, location: `/v2/x/blobs/${digest}` }).end();
        return;
      }
    }
    const manifest = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (manifest && request.method === 'PUT') {
      manifests.set(manifest[2]!, { bytes: request.body, type: request.headers['content-type'] ?? '' });
      response.writeHead(201, { 'docker-content-digest': computeDigest(request.body) }).end();
      return;
    }
    json(response, 404, {});
  };
  return { sessions, stored, manifests, handler };
}

describe('appendQuery', () => {
  test('keeps the existing query byte for byte', () => {
    expect(appendQuery(new URL('http://h/u/1?_state=a%2Bb%3D&x=+'), 'digest', 'sha256:ab').href).toBe('http://h/u/1?_state=a%2Bb%3D&x=+&digest=sha256%3Aab');
    expect(appendQuery(new URL('http://h/u/1'), 'digest', 'sha256:ab').href).toBe('http://h/u/1?digest=sha256%3Aab');
  });
});

describe('blob upload', () => {
  const bytes = randomBytes(10_000);
  const digest = computeDigest(bytes);

  test('monolithic from bytes: HEAD, POST, one PUT to the relative Location with its query kept', async () => {
    const lab = uploadRegistry();
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    expect(await t.client.uploadBlob(`${registry.host}/a/b`, bytes, { digest })).toEqual({ digest, size: bytes.byteLength, outcome: 'uploaded' });
    expect(lab.stored.get(digest)?.equals(bytes)).toBe(true);
    expect(registry.requests.map((r) => r.method)).toEqual(['HEAD', 'POST', 'PUT']);
    expect(registry.requests[2]!.url).toBe(`/upload/1?_state=a%2Bb%3D&digest=${encodeURIComponent(digest)}`);
    expect(await t.client.uploadBlob(`${registry.host}/a/b`, bytes, { digest })).toMatchObject({ outcome: 'exists' });
  });

  test('chunked from a stream: PATCH chunks of at least OCI-Chunk-Min-Length with Content-Range, then PUT', async () => {
    const lab = uploadRegistry({ minChunk: 4096 });
    await using registry = await startServer(lab.handler);
    await using t = testClient({ chunkSizeBytes: 1000 });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.byteLength; i += 777) controller.enqueue(bytes.subarray(i, i + 777));
        controller.close();
      },
    });
    expect(await t.client.uploadBlob(`${registry.host}/a/b`, stream)).toEqual({ digest, size: bytes.byteLength, outcome: 'uploaded' });
    expect(lab.stored.get(digest)?.equals(bytes)).toBe(true);
    const patches = registry.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.headers['content-range'])).toEqual(['0-4095', '4096-8191', '8192-9999']);
  });

  test('a stream with known digest and size goes up in one PUT', async () => {
    const lab = uploadRegistry();
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    const source = Readable.from([bytes.subarray(0, 5000), bytes.subarray(5000)]);
    await t.client.uploadBlob(`${registry.host}/a/b`, source, { digest, size: bytes.byteLength, skipExisting: false });
    expect(registry.requests.map((r) => r.method)).toEqual(['POST', 'PUT']);
    expect(registry.requests[1]!.headers['content-length']).toBe(String(bytes.byteLength));
    expect(lab.stored.get(digest)?.equals(bytes)).toBe(true);
  });

  test('an absolute Location on another origin gets no Authorization', async () => {
    await using storage = await startServer();
    const lab = uploadRegistry({ absoluteBase: () => storage.origin });
    storage.handle(lab.handler);
    await using registry = await startServer((request, response) => {
      if (request.headers.authorization !== 'Basic dTpw') {
        json(response, 401, {}, { 'www-authenticate': 'Basic realm="r"' });
        return;
      }
      lab.handler(request, response);
    });
    await using t = testClient({ settings: { [registry.host]: { credentials: { description: 't', get: () => Promise.resolve({ kind: 'basic', username: 'u', password: 'p' }) } } } });
    await t.client.uploadBlob(`${registry.host}/a/b`, bytes, { digest, skipExisting: false });
    expect(storage.requests.map((r) => [r.method, r.headers.authorization])).toEqual([['PUT', undefined]]);
  });

  test('bytes that do not match the given digest are refused before any upload', async () => {
    const lab = uploadRegistry();
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    await expect(t.client.uploadBlob(`${registry.host}/a/b`, bytes, { digest: computeDigest('other'), skipExisting: false })).rejects.toMatchObject({ code: 'digest_mismatch' });
    expect(registry.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });

  test('mount: 201 is done in one request', async () => {
    const lab = uploadRegistry({ mount: 201 });
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    expect(await t.client.uploadBlob(`${registry.host}/a/b`, () => Promise.reject(new Error('not read')), { digest, mountFrom: 'a/src' })).toMatchObject({ outcome: 'mounted' });
    expect(registry.requests.map((r) => r.url)).toEqual([`/v2/a/b/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=a%2Fsrc`]);
  });

  test('mount: 202 continues as an upload at the Location given', async () => {
    const lab = uploadRegistry({ mount: 202 });
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    expect(await t.client.uploadBlob(`${registry.host}/a/b`, () => Promise.resolve(bytes), { digest, mountFrom: 'a/src' })).toMatchObject({ outcome: 'uploaded' });
    expect(registry.requests.map((r) => r.method)).toEqual(['POST', 'PUT']);
    expect(lab.stored.get(digest)?.equals(bytes)).toBe(true);
  });

  test('copyBlob within a registry whose mount falls back to an upload streams the blob, even with concurrency 1', async () => {
    const lab = uploadRegistry({ mount: 202 });
    lab.stored.set(digest, bytes);
    await using registry = await startServer(lab.handler);
    await using t = testClient({ settings: { [registry.host]: { concurrency: 1 } } });
    expect(await t.client.copyBlob(`${registry.host}/a/src`, `${registry.host}/a/dst`, { digest, size: bytes.byteLength })).toMatchObject({ outcome: 'uploaded' });
    expect(registry.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'PUT']);
    expect(registry.requests[2]!.body.equals(bytes)).toBe(true);
  });

  test('DIGEST_INVALID from the registry is reported with its code', async () => {
    const lab = uploadRegistry();
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    await expect(t.client.uploadBlob(`${registry.host}/a/b`, Readable.from([bytes]), { digest: computeDigest('x'), size: bytes.byteLength, skipExisting: false })).rejects.toMatchObject({
      code: 'DIGEST_INVALID',
      status: 400,
    });
  });
});

describe('putManifest', () => {
  test('PUTs the exact bytes with the media type under the tag', async () => {
    const lab = uploadRegistry();
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    const bytes = Buffer.from('{ "schemaVersion": 2,\n  "odd spacing": true }');
    const type = 'application/vnd.oci.image.manifest.v1+json';
    expect(await t.client.putManifest(`${registry.host}/a/b:v1`, bytes, { mediaType: type })).toEqual({ digest: computeDigest(bytes) });
    expect(lab.manifests.get('v1')).toEqual({ bytes, type });
  });

  test('a Docker-Content-Digest echo that is not a digest is invalid_response naming the registry, never printed (break-scan F12)', async () => {
    const lab = uploadRegistry();
    await using registry = await startServer((request, response) => {
      if (request.method === 'PUT') response.writeHead(201, { 'docker-content-digest': 'sha256:zzz' }).end();
      else lab.handler(request, response);
    });
    await using t = testClient();
    const manifest = t.client.putManifest(`${registry.host}/a/b:v1`, Buffer.from('{}'), { mediaType: 'application/json' });
    await expect(manifest).rejects.toMatchObject({ code: 'invalid_response', registry: registry.host });
    await expect(manifest).rejects.not.toThrow(/zzz/);
    const blobBytes = Buffer.from('a blob');
    const blob = t.client.uploadBlob(`${registry.host}/a/b`, blobBytes, { digest: computeDigest(blobBytes) });
    await expect(blob).rejects.toMatchObject({ code: 'invalid_response', registry: registry.host });
    await expect(blob).rejects.not.toThrow(/zzz/);
  });

  test('bytes that do not match the reference digest are refused', async () => {
    await using t = testClient();
    await expect(t.client.putManifest(`127.0.0.1:1/a/b@${computeDigest('x')}`, Buffer.from('{}'), { mediaType: 'application/json' })).rejects.toMatchObject({
      code: 'digest_mismatch',
    });
  });
});
