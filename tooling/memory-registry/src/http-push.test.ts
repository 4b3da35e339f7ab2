import { computeDigest } from '@scanner/image';
import { describe, expect, test } from 'vitest';
import { createMemoryRegistry } from './memory-registry.ts';
import { MEDIA_TYPES } from './media-types.ts';

const sha256 = (bytes: string | Uint8Array) => computeDigest(bytes);

async function errors(response: Response): Promise<{ code: string; detail?: unknown }[]> {
  return ((await response.json()) as { errors: { code: string; detail?: unknown }[] }).errors;
}

function imageManifest(config: string, layers: string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256(config), size: Buffer.byteLength(config) },
    layers: layers.map((layer) => ({ mediaType: MEDIA_TYPES.ociLayerGzip, digest: sha256(layer), size: Buffer.byteLength(layer) })),
    ...extra,
  });
}

describe('blob uploads', () => {
  test('monolithic POST ?digest= stores the blob in one request', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const digest = sha256('layer bytes');
    const response = await fetch(`${origin}/v2/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: 'layer bytes' });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/v2/app/blobs/${digest}`);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(registry.getBlob('app', digest)?.toString()).toBe('layer bytes');
  });

  test('monolithic POST with the wrong digest is DIGEST_INVALID and stores nothing', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const claimed = sha256('other');
    const response = await fetch(`${origin}/v2/app/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: 'layer bytes' });
    expect(response.status).toBe(400);
    expect(await errors(response)).toMatchObject([{ code: 'DIGEST_INVALID', detail: { digest: claimed, actual: sha256('layer bytes') } }]);
    expect(registry.getBlob('app', claimed)).toBeUndefined();
  });

  test('POST starts a session (202, Location, Docker-Upload-UUID, Range 0-0); PUT with the body completes it', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const start = await fetch(`${origin}/v2/app/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    expect(start.headers.get('range')).toBe('0-0');
    expect(start.headers.get('oci-chunk-min-length')).toBeNull();
    const location = start.headers.get('location')!;
    expect(location).toBe(`/v2/app/blobs/uploads/${start.headers.get('docker-upload-uuid')!}`);
    const digest = sha256('whole');
    const put = await fetch(`${origin}${location}?digest=${digest}`, { method: 'PUT', body: 'whole' });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`/v2/app/blobs/${digest}`);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    expect(registry.getBlob('app', digest)?.toString()).toBe('whole');
    // The session is finished.
    expect((await fetch(`${origin}${location}`)).status).toBe(404);
  });

  test('chunked: PATCHes in order, status, an out-of-order chunk is 416, the closing PUT carries the last chunk', async () => {
    await using registry = createMemoryRegistry({ chunkMinLength: 5 });
    const { origin } = await registry.listen();
    const start = await fetch(`${origin}/v2/app/blobs/uploads/`, { method: 'POST' });
    expect(start.headers.get('oci-chunk-min-length')).toBe('5');
    let location = start.headers.get('location')!;

    const first = await fetch(`${origin}${location}`, { method: 'PATCH', body: 'hello', headers: { 'Content-Range': '0-4', 'Content-Type': 'application/octet-stream' } });
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe('0-4');
    location = first.headers.get('location')!;

    const status = await fetch(`${origin}${location}`);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-4');

    const outOfOrder = await fetch(`${origin}${location}`, { method: 'PATCH', body: 'xx', headers: { 'Content-Range': '3-4' } });
    expect(outOfOrder.status).toBe(416);
    expect(outOfOrder.headers.get('range')).toBe('0-4');
    expect((await errors(outOfOrder))[0]?.code).toBe('RANGE_INVALID');

    const wrongLength = await fetch(`${origin}${location}`, { method: 'PATCH', body: 'xx', headers: { 'Content-Range': '5-9' } });
    expect(wrongLength.status).toBe(416);

    // A streamed chunk without Content-Range, as docker sends it, is appended too.
    const second = await fetch(`${origin}${location}`, { method: 'PATCH', body: ', ' });
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe('0-6');

    const digest = sha256('hello, world');
    const done = await fetch(`${origin}${second.headers.get('location')!}?digest=${digest}`, { method: 'PUT', body: 'world', headers: { 'Content-Range': '7-11' } });
    expect(done.status).toBe(201);
    expect(registry.getBlob('app', digest)?.toString()).toBe('hello, world');
  });

  test('a closing PUT with the wrong digest is DIGEST_INVALID and ends the session', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const location = (await fetch(`${origin}/v2/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    await fetch(`${origin}${location}`, { method: 'PATCH', body: 'abc' });
    const bad = await fetch(`${origin}${location}?digest=${sha256('abd')}`, { method: 'PUT' });
    expect(bad.status).toBe(400);
    expect((await errors(bad))[0]?.code).toBe('DIGEST_INVALID');
    const gone = await fetch(`${origin}${location}`);
    expect(gone.status).toBe(404);
    expect((await errors(gone))[0]?.code).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  test('a closing PUT without ?digest is DIGEST_INVALID; unsupported algorithms too', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const location = (await fetch(`${origin}/v2/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    const missing = await fetch(`${origin}${location}`, { method: 'PUT', body: 'x' });
    expect(missing.status).toBe(400);
    expect((await errors(missing))[0]?.code).toBe('DIGEST_INVALID');
    const md5 = await fetch(`${origin}/v2/app/blobs/uploads/?digest=md5:d41d8cd98f00b204e9800998ecf8427e`, { method: 'POST', body: '' });
    expect(md5.status).toBe(400);
  });

  test('sha512 digests are verified too', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const digest = computeDigest('x', 'sha512');
    const response = await fetch(`${origin}/v2/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(201);
    expect(registry.getBlob('app', digest)?.toString()).toBe('x');
  });

  test('DELETE cancels a session; sessions are bound to their repository', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const location = (await fetch(`${origin}/v2/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    const id = location.split('/').at(-1)!;
    expect((await fetch(`${origin}/v2/other/blobs/uploads/${id}`)).status).toBe(404);
    expect((await fetch(`${origin}${location}`, { method: 'DELETE' })).status).toBe(204);
    const after = await fetch(`${origin}${location}`, { method: 'PATCH', body: 'x' });
    expect(after.status).toBe(404);
    expect((await errors(after))[0]?.code).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  test('mount: 201 when the source repository has the blob, else a normal 202 session', async () => {
    await using registry = createMemoryRegistry();
    const digest = registry.putBlob('source', 'shared layer');
    const { origin } = await registry.listen();
    const mounted = await fetch(`${origin}/v2/target/blobs/uploads/?mount=${digest}&from=source`, { method: 'POST' });
    expect(mounted.status).toBe(201);
    expect(mounted.headers.get('location')).toBe(`/v2/target/blobs/${digest}`);
    expect(mounted.headers.get('docker-content-digest')).toBe(digest);
    expect((await fetch(`${origin}/v2/target/blobs/${digest}`)).status).toBe(200);

    const fallback = await fetch(`${origin}/v2/third/blobs/uploads/?mount=${digest}&from=nowhere`, { method: 'POST' });
    expect(fallback.status).toBe(202);
    expect(fallback.headers.get('location')).toMatch(/^\/v2\/third\/blobs\/uploads\/.+/);
    expect((await fetch(`${origin}/v2/third/blobs/${digest}`)).status).toBe(404);
  });

  test('DELETE of a blob unlinks it from that repository only', async () => {
    await using registry = createMemoryRegistry();
    const digest = registry.putBlob('a', 'bytes');
    registry.putBlob('b', 'bytes');
    const { origin } = await registry.listen();
    expect((await fetch(`${origin}/v2/a/blobs/${digest}`, { method: 'DELETE' })).status).toBe(202);
    expect((await fetch(`${origin}/v2/a/blobs/${digest}`)).status).toBe(404);
    expect((await fetch(`${origin}/v2/a/blobs/${digest}`, { method: 'DELETE' })).status).toBe(404);
    expect(await (await fetch(`${origin}/v2/b/blobs/${digest}`)).text()).toBe('bytes');
  });
});

describe('manifest push', () => {
  test('PUT by tag stores the exact bytes: 201 with Location and Docker-Content-Digest', async () => {
    await using registry = createMemoryRegistry();
    registry.putBlob('app', 'config');
    registry.putBlob('app', 'layer');
    const { origin } = await registry.listen();
    // Unusual spacing on purpose: the registry must not re-serialise.
    const body = imageManifest('config', ['layer']).replace('{', '{ ');
    const digest = sha256(body);
    const put = await fetch(`${origin}/v2/app/manifests/v1`, { method: 'PUT', body, headers: { 'Content-Type': MEDIA_TYPES.ociManifest } });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`/v2/app/manifests/${digest}`);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    const got = await fetch(`${origin}/v2/app/manifests/v1`);
    expect(await got.text()).toBe(body);
    expect(got.headers.get('content-type')).toBe(MEDIA_TYPES.ociManifest);
    expect(registry.tags('app')).toEqual(['v1']);
  });

  test('PUT by digest must match the bytes', async () => {
    await using registry = createMemoryRegistry();
    registry.putBlob('app', 'config');
    const { origin } = await registry.listen();
    const body = imageManifest('config', []);
    const headers = { 'Content-Type': MEDIA_TYPES.ociManifest };
    expect((await fetch(`${origin}/v2/app/manifests/${sha256(body)}`, { method: 'PUT', body, headers })).status).toBe(201);
    const wrong = await fetch(`${origin}/v2/app/manifests/${sha256('nope')}`, { method: 'PUT', body, headers });
    expect(wrong.status).toBe(400);
    expect((await errors(wrong))[0]?.code).toBe('DIGEST_INVALID');
    expect(registry.tags('app')).toEqual([]);
  });

  test('missing blobs give one MANIFEST_BLOB_UNKNOWN per digest', async () => {
    await using registry = createMemoryRegistry();
    registry.putBlob('app', 'config');
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/manifests/v1`, {
      method: 'PUT',
      body: imageManifest('config', ['l1', 'l2']),
      headers: { 'Content-Type': MEDIA_TYPES.ociManifest },
    });
    expect(response.status).toBe(404);
    expect(await errors(response)).toMatchObject([
      { code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: sha256('l1') } },
      { code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: sha256('l2') } },
    ]);
  });

  test('an index needs its child manifests in the repository', async () => {
    await using registry = createMemoryRegistry();
    const image = registry.seedImage('app', 'v1');
    const { origin } = await registry.listen();
    const index = (children: string[]) => JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: children.map((digest) => ({ mediaType: MEDIA_TYPES.ociManifest, digest, size: 1 })),
    });
    const headers = { 'Content-Type': MEDIA_TYPES.ociIndex };
    const missing = await fetch(`${origin}/v2/app/manifests/multi`, { method: 'PUT', body: index([sha256('absent')]), headers });
    expect(missing.status).toBe(404);
    expect((await errors(missing))[0]?.code).toBe('MANIFEST_BLOB_UNKNOWN');
    const ok = await fetch(`${origin}/v2/app/manifests/multi`, { method: 'PUT', body: index([image.digest]), headers });
    expect(ok.status).toBe(201);
  });

  test.each([
    ['not JSON', '{', MEDIA_TYPES.ociManifest],
    ['a mediaType that contradicts Content-Type', imageManifest('c', []), MEDIA_TYPES.dockerManifest],
    ['an image manifest without layers', JSON.stringify({ schemaVersion: 2, config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256('c'), size: 1 } }), MEDIA_TYPES.ociManifest],
    ['a descriptor with a bad digest', JSON.stringify({ schemaVersion: 2, config: { digest: 'nope', size: 1 }, layers: [] }), MEDIA_TYPES.ociManifest],
    ['Docker schema1', JSON.stringify({ schemaVersion: 1, name: 'app', tag: 'v1', fsLayers: [] }), MEDIA_TYPES.dockerSchema1Signed],
    ['a schemaVersion other than 2', imageManifest('c', [], { schemaVersion: 3 }), MEDIA_TYPES.ociManifest],
    ['a manifest kind it does not know', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.artifact.manifest.v1+json', blobs: [] }), 'application/vnd.oci.artifact.manifest.v1+json'],
  ])('refuses %s with MANIFEST_INVALID', async (_, body, contentType) => {
    await using registry = createMemoryRegistry();
    registry.putBlob('app', 'c');
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/manifests/v1`, { method: 'PUT', body, headers: { 'Content-Type': contentType } });
    expect(response.status).toBe(400);
    expect((await errors(response))[0]?.code).toBe('MANIFEST_INVALID');
    expect(registry.getManifest('app', 'v1')).toBeUndefined();
  });

  test('without Content-Type the body mediaType is used', async () => {
    await using registry = createMemoryRegistry();
    registry.putBlob('app', 'c');
    const { origin } = await registry.listen();
    const body = imageManifest('c', []);
    // fetch sends text/plain for a string body unless told otherwise; a Blob without a type sends none.
    const response = await fetch(`${origin}/v2/app/manifests/v1`, { method: 'PUT', body: new Blob([body]) });
    expect(response.status).toBe(201);
    expect(registry.getManifest('app', 'v1')?.mediaType).toBe(MEDIA_TYPES.ociManifest);
  });

  test('DELETE by tag removes the tag; by digest removes the manifest and its tags', async () => {
    await using registry = createMemoryRegistry();
    const image = registry.seedImage('app', ['a', 'b', 'c']);
    const { origin } = await registry.listen();
    expect((await fetch(`${origin}/v2/app/manifests/a`, { method: 'DELETE' })).status).toBe(202);
    expect(registry.tags('app')).toEqual(['b', 'c']);
    expect((await fetch(`${origin}/v2/app/manifests/${image.digest}`)).status).toBe(200);
    expect((await fetch(`${origin}/v2/app/manifests/${image.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(registry.tags('app')).toEqual([]);
    const again = await fetch(`${origin}/v2/app/manifests/${image.digest}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect((await errors(again))[0]?.code).toBe('MANIFEST_UNKNOWN');
  });
});

describe('size limits', () => {
  test('a manifest over maxManifestBytes is 413', async () => {
    await using registry = createMemoryRegistry({ maxManifestBytes: 64 });
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/manifests/v1`, { method: 'PUT', body: 'x'.repeat(65), headers: { 'Content-Type': MEDIA_TYPES.ociManifest } });
    expect(response.status).toBe(413);
    expect((await errors(response))[0]?.code).toBe('SIZE_INVALID');
  });

  test('a blob over maxBlobBytes is 413, whether declared or streamed, and across chunks', async () => {
    await using registry = createMemoryRegistry({ maxBlobBytes: 10 });
    const { origin } = await registry.listen();
    const declared = await fetch(`${origin}/v2/app/blobs/uploads/?digest=${sha256('x'.repeat(11))}`, { method: 'POST', body: 'x'.repeat(11) });
    expect(declared.status).toBe(413);

    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(Buffer.from('abcd'));
        controller.close();
      },
    });
    const location = (await fetch(`${origin}/v2/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    const streamed = await fetch(`${origin}${location}`, { method: 'PATCH', body: stream, duplex: 'half' });
    expect(streamed.status).toBe(413);

    const second = (await fetch(`${origin}/v2/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    expect((await fetch(`${origin}${second}`, { method: 'PATCH', body: '123456' })).status).toBe(202);
    expect((await fetch(`${origin}${second}`, { method: 'PATCH', body: '12345' })).status).toBe(413);
  });
});

describe('referrers', () => {
  test('lists manifests whose subject is the digest, filtered by artifactType', async () => {
    await using registry = createMemoryRegistry();
    const image = registry.seedImage('app', 'v1');
    registry.putBlob('app', '{}');
    const { origin } = await registry.listen();
    const subject = { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length };
    const artifact = (artifactType: string) => JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
      layers: [],
      subject,
      annotations: { kind: artifactType },
    });
    const sbom = artifact('application/spdx+json');
    const put = await fetch(`${origin}/v2/app/manifests/${sha256(sbom)}`, { method: 'PUT', body: sbom, headers: { 'Content-Type': MEDIA_TYPES.ociManifest } });
    expect(put.status).toBe(201);
    expect(put.headers.get('oci-subject')).toBe(image.digest);
    registry.putManifest('app', 'sig', artifact('application/vnd.dev.cosign'), MEDIA_TYPES.ociManifest);

    const all = await fetch(`${origin}/v2/app/referrers/${image.digest}`);
    expect(all.headers.get('content-type')).toBe(MEDIA_TYPES.ociIndex);
    const body = (await all.json()) as { manifests: { artifactType: string; digest: string; annotations: unknown }[] };
    expect(body.manifests.map((entry) => entry.artifactType).sort()).toEqual(['application/spdx+json', 'application/vnd.dev.cosign']);

    const filtered = await fetch(`${origin}/v2/app/referrers/${image.digest}?artifactType=application/spdx%2Bjson`);
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(await filtered.json()).toMatchObject({ manifests: [{ digest: sha256(sbom), annotations: { kind: 'application/spdx+json' } }] });

    const none = await fetch(`${origin}/v2/app/referrers/${sha256('nothing')}`);
    expect(await none.json()).toMatchObject({ manifests: [] });
  });
});
