import { describe, expect, test } from 'vitest';
import { createMemoryRegistry } from './memory-registry.ts';
import { MEDIA_TYPES } from './media-types.ts';

async function errorCodes(response: Response): Promise<string[]> {
  const body = (await response.json()) as { errors: { code: string }[] };
  return body.errors.map((error) => error.code);
}

describe('GET /v2/', () => {
  test('answers 200 with the API version header', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await response.json()).toEqual({});
  });

  test('an unknown path is 404 and a wrong method 405 with Allow', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const unknown = await fetch(`${origin}/v3/`);
    expect(unknown.status).toBe(404);
    expect(await errorCodes(unknown)).toEqual(['UNSUPPORTED']);
    const wrongMethod = await fetch(`${origin}/v2/`, { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('tags list', () => {
  test('lists tags in byte order and pages with n, last and a Link header', async () => {
    await using registry = createMemoryRegistry();
    registry.seedImage('team/app', ['v2', 'v10', 'latest', 'V1', 'a_b']);
    const { origin } = await registry.listen();

    const all = await fetch(`${origin}/v2/team/app/tags/list`);
    expect(all.status).toBe(200);
    expect(all.headers.get('link')).toBeNull();
    expect(await all.json()).toEqual({ name: 'team/app', tags: ['V1', 'a_b', 'latest', 'v10', 'v2'] });

    const seen: string[] = [];
    let next: string | null = '/v2/team/app/tags/list?n=2';
    let pages = 0;
    while (next !== null) {
      const response: Response = await fetch(`${origin}${next}`);
      const body = (await response.json()) as { tags: string[] };
      seen.push(...body.tags);
      pages += 1;
      next = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['V1', 'a_b', 'latest', 'v10', 'v2']);
  });

  test('the first page Link is exactly </v2/<name>/tags/list?n=N&last=T>; rel="next"', async () => {
    await using registry = createMemoryRegistry();
    registry.seedImage('app', ['1', '2', '3']);
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/tags/list?n=2`);
    expect(response.headers.get('link')).toBe('</v2/app/tags/list?n=2&last=2>; rel="next"');
    expect(await response.json()).toEqual({ name: 'app', tags: ['1', '2'] });
  });

  test('maxPageSize forces pages even without n', async () => {
    await using registry = createMemoryRegistry({ maxPageSize: 1 });
    registry.seedImage('app', ['1', '2']);
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/tags/list`);
    expect(await response.json()).toEqual({ name: 'app', tags: ['1'] });
    expect(response.headers.get('link')).toBe('</v2/app/tags/list?n=1&last=1>; rel="next"');
  });

  test('n=0 gives an empty list without Link; a bad n is 400', async () => {
    await using registry = createMemoryRegistry();
    registry.seedImage('app', ['1']);
    const { origin } = await registry.listen();
    const empty = await fetch(`${origin}/v2/app/tags/list?n=0`);
    expect(await empty.json()).toEqual({ name: 'app', tags: [] });
    expect(empty.headers.get('link')).toBeNull();
    const bad = await fetch(`${origin}/v2/app/tags/list?n=many`);
    expect(bad.status).toBe(400);
    expect(await errorCodes(bad)).toEqual(['PAGINATION_NUMBER_INVALID']);
  });

  test('an unknown repository is NAME_UNKNOWN and a bad name NAME_INVALID', async () => {
    await using registry = createMemoryRegistry();
    const { origin } = await registry.listen();
    const unknown = await fetch(`${origin}/v2/nothing/tags/list`);
    expect(unknown.status).toBe(404);
    expect(await errorCodes(unknown)).toEqual(['NAME_UNKNOWN']);
    const invalid = await fetch(`${origin}/v2/Bad_Name/tags/list`);
    expect(invalid.status).toBe(400);
    expect(await errorCodes(invalid)).toEqual(['NAME_INVALID']);
  });
});

describe('catalog', () => {
  test('lists repositories with the same pagination', async () => {
    await using registry = createMemoryRegistry();
    for (const name of ['c/x', 'a', 'b/y']) registry.seedImage(name, 'latest');
    const { origin } = await registry.listen();
    const first = await fetch(`${origin}/v2/_catalog?n=2`);
    expect(await first.json()).toEqual({ repositories: ['a', 'b/y'] });
    expect(first.headers.get('link')).toBe('</v2/_catalog?n=2&last=b%2Fy>; rel="next"');
    const second = await fetch(`${origin}/v2/_catalog?n=2&last=b%2Fy`);
    expect(await second.json()).toEqual({ repositories: ['c/x'] });
    expect(second.headers.get('link')).toBeNull();
    expect(await (await fetch(`${origin}/v2/_catalog`)).json()).toEqual({ repositories: ['a', 'b/y', 'c/x'] });
  });
});

describe('manifests GET and HEAD', () => {
  test('by tag and by digest return the stored bytes with digest, type and length, whatever Accept says', async () => {
    await using registry = createMemoryRegistry();
    const image = registry.seedImage('app', 'v1', { platforms: ['linux/amd64', 'linux/arm64/v8'] });
    const { origin } = await registry.listen();
    for (const reference of ['v1', image.digest]) {
      const response = await fetch(`${origin}/v2/app/manifests/${reference}`, { headers: { Accept: MEDIA_TYPES.dockerManifest } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(MEDIA_TYPES.ociIndex);
      expect(response.headers.get('docker-content-digest')).toBe(image.digest);
      expect(response.headers.get('content-length')).toBe(String(image.bytes.length));
      expect(Buffer.from(await response.arrayBuffer()).equals(image.bytes)).toBe(true);
    }
    const child = image.images[1]!;
    const head = await fetch(`${origin}/v2/app/manifests/${child.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(child.digest);
    expect(head.headers.get('content-type')).toBe(MEDIA_TYPES.ociManifest);
    expect(head.headers.get('content-length')).toBe(String(child.bytes.length));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  test('a percent-encoded digest reference works', async () => {
    await using registry = createMemoryRegistry();
    const image = registry.seedImage('app', 'v1');
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/manifests/${encodeURIComponent(image.digest)}`);
    expect(response.status).toBe(200);
  });

  test('unknown manifest, unknown repository and a bad reference', async () => {
    await using registry = createMemoryRegistry();
    registry.seedImage('app', 'v1');
    const { origin } = await registry.listen();
    const missingTag = await fetch(`${origin}/v2/app/manifests/v2`);
    expect(missingTag.status).toBe(404);
    expect(await errorCodes(missingTag)).toEqual(['MANIFEST_UNKNOWN']);
    const missingRepo = await fetch(`${origin}/v2/other/manifests/v1`);
    expect(missingRepo.status).toBe(404);
    expect(await errorCodes(missingRepo)).toEqual(['NAME_UNKNOWN']);
    const headMissing = await fetch(`${origin}/v2/app/manifests/v2`, { method: 'HEAD' });
    expect(headMissing.status).toBe(404);
    const badReference = await fetch(`${origin}/v2/app/manifests/-bad`);
    expect(badReference.status).toBe(400);
    expect(await errorCodes(badReference)).toEqual(['MANIFEST_INVALID']);
  });
});

describe('blobs GET and HEAD', () => {
  test('whole blob with digest and length, HEAD without body', async () => {
    await using registry = createMemoryRegistry();
    const digest = registry.putBlob('app', 'hello blob');
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/blobs/${digest}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(response.headers.get('content-length')).toBe('10');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(await response.text()).toBe('hello blob');
    const head = await fetch(`${origin}/v2/app/blobs/${digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
  });

  test.each([
    ['bytes=0-4', 'hello', 'bytes 0-4/10'],
    ['bytes=6-', 'blob', 'bytes 6-9/10'],
    ['bytes=-3', 'lob', 'bytes 7-9/10'],
    ['bytes=8-100', 'ob', 'bytes 8-9/10'],
  ])('Range %s is a 206 with Content-Range', async (range, body, contentRange) => {
    await using registry = createMemoryRegistry();
    const digest = registry.putBlob('app', 'hello blob');
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/blobs/${digest}`, { headers: { Range: range } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(contentRange);
    expect(response.headers.get('content-length')).toBe(String(body.length));
    expect(await response.text()).toBe(body);
  });

  test('an unsatisfiable Range is 416 with bytes */size', async () => {
    await using registry = createMemoryRegistry();
    const digest = registry.putBlob('app', 'hello blob');
    const { origin } = await registry.listen();
    const response = await fetch(`${origin}/v2/app/blobs/${digest}`, { headers: { Range: 'bytes=10-' } });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe('bytes */10');
  });

  test('a blob of another repository is BLOB_UNKNOWN here; a malformed digest is DIGEST_INVALID', async () => {
    await using registry = createMemoryRegistry();
    const digest = registry.putBlob('one', 'x');
    registry.putBlob('two', 'y');
    const { origin } = await registry.listen();
    const elsewhere = await fetch(`${origin}/v2/two/blobs/${digest}`);
    expect(elsewhere.status).toBe(404);
    expect(await errorCodes(elsewhere)).toEqual(['BLOB_UNKNOWN']);
    const malformed = await fetch(`${origin}/v2/two/blobs/not-a-digest`);
    expect(malformed.status).toBe(400);
    expect(await errorCodes(malformed)).toEqual(['DIGEST_INVALID']);
  });
});

describe('Basic auth', () => {
  const auth = { username: 'alice', password: 's3cret' };
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  test('without or with wrong credentials: 401 with a Basic challenge that does not echo secrets', async () => {
    await using registry = createMemoryRegistry({ auth, realm: 'test realm' });
    registry.seedImage('app', 'v1');
    const { origin } = await registry.listen();
    for (const headers of [{}, { Authorization: basic('alice', 'wrong') }, { Authorization: 'Bearer x' }]) {
      const response = await fetch(`${origin}/v2/app/tags/list`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="test realm"');
      const text = await response.text();
      expect(text).toContain('UNAUTHORIZED');
      expect(text).not.toContain('wrong');
    }
  });

  test('with the right credentials every endpoint answers', async () => {
    await using registry = createMemoryRegistry({ auth });
    registry.seedImage('app', 'v1');
    const { origin } = await registry.listen();
    const headers = { Authorization: basic('alice', 's3cret') };
    expect((await fetch(`${origin}/v2/`, { headers })).status).toBe(200);
    expect((await fetch(`${origin}/v2/app/manifests/v1`, { headers })).status).toBe(200);
  });
});

describe('request log', () => {
  test('records method, path, query, route, repository and status, and can be reset', async () => {
    const seen: string[] = [];
    await using registry = createMemoryRegistry({ onRequest: (entry) => seen.push(`${entry.method} ${entry.status}`) });
    registry.seedImage('app', 'v1');
    const { origin } = await registry.listen();
    await (await fetch(`${origin}/v2/`)).arrayBuffer();
    await (await fetch(`${origin}/v2/app/tags/list?n=1`)).arrayBuffer();
    await fetch(`${origin}/v2/app/manifests/v1`, { method: 'HEAD' });
    await (await fetch(`${origin}/v2/app/manifests/nope`)).arrayBuffer();
    expect(registry.requests()).toEqual([
      { method: 'GET', path: '/v2/', query: '', route: 'base', status: 200 },
      { method: 'GET', path: '/v2/app/tags/list', query: 'n=1', route: 'tags', repository: 'app', status: 200 },
      { method: 'HEAD', path: '/v2/app/manifests/v1', query: '', route: 'manifest', repository: 'app', status: 200 },
      { method: 'GET', path: '/v2/app/manifests/nope', query: '', route: 'manifest', repository: 'app', status: 404 },
    ]);
    expect(seen).toEqual(['GET 200', 'GET 200', 'HEAD 200', 'GET 404']);
    registry.resetRequests();
    expect(registry.requests()).toEqual([]);
  });
});
