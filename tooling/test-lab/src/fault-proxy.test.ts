import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { describe, expect, test } from 'vitest';
import { hasBinary } from './binary.ts';
import { startFaultProxy } from './fault-proxy.ts';
import { buildImage, type BuiltImage } from './image-fixture.ts';
import { startRegistry, type Credentials, type Registry } from './registry.ts';
import { seedImage, seedTags, skopeoInspectRaw } from './skopeo.ts';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const basic = (credentials: Credentials): string => `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;

async function seeded(options: Parameters<typeof startRegistry>[0] = {}): Promise<{ registry: Registry; image: BuiltImage } & AsyncDisposable> {
  const registry = await startRegistry(options);
  try {
    const image = buildImage({ layers: [{ size: 4096 }] });
    await seedImage(registry, 'team/app:v1', image);
    return { registry, image, [Symbol.asyncDispose]: () => registry.stop() };
  } catch (error) {
    await registry.stop();
    throw error;
  }
}

/** A tiny upstream whose headers name its own origin, to check the proxy rewrites them. */
async function selfNamingUpstream(): Promise<{ origin: string } & AsyncDisposable> {
  let origin = '';
  const server = createServer((_request, response) => {
    response.writeHead(401, {
      'www-authenticate': `Bearer realm="${origin}/token",service="x"`,
      location: `${origin}/v2/x/blobs/uploads/abc`,
      link: `<${origin}/v2/x/tags/list?n=1&last=a>; rel="next"`,
      'content-length': 0,
    });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  origin = `http://127.0.0.1:${address.port}`;
  return { origin, [Symbol.asyncDispose]: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); }) };
}

describe('startFaultProxy without a registry', () => {
  test('rewrites Location, Link and the WWW-Authenticate realm that name the upstream', async () => {
    await using upstream = await selfNamingUpstream();
    await using proxy = await startFaultProxy({ upstream: upstream.origin });
    const response = await fetch(`${proxy.url}/v2/`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${proxy.origin}/token",service="x"`);
    expect(response.headers.get('location')).toBe(`${proxy.origin}/v2/x/blobs/uploads/abc`);
    expect(response.headers.get('link')).toBe(`<${proxy.origin}/v2/x/tags/list?n=1&last=a>; rel="next"`);
  });

  test('answers 502 when the upstream is down, and validates its input', async () => {
    await using upstream = await selfNamingUpstream();
    const origin = upstream.origin;
    await upstream[Symbol.asyncDispose]();
    await using proxy = await startFaultProxy({ upstream: origin });
    const response = await fetch(`${proxy.url}/v2/`);
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('PROXY_ERROR');
    expect(() => proxy.inject({ fault: { kind: 'status', status: 42 } })).toThrow(/status must be an HTTP status, got 42/);
    expect(() => proxy.inject({ times: -1, fault: { kind: 'status', status: 500 } })).toThrow(/times must be >= 0/);
    await expect(startFaultProxy({ upstream: 'not a url' })).rejects.toThrow(/got "not a url"/);
  });
});

describe.skipIf(!hasBinary('docker-registry') || !hasBinary('skopeo') || !hasBinary('htpasswd'))('startFaultProxy in front of a real registry', () => {
  test('forwards requests with their Authorization header and records them', async () => {
    await using fixture = await seeded({ auth: 'basic' });
    const { registry, image } = fixture;
    await using proxy = await startFaultProxy({ upstream: registry.url });
    const authorization = basic(registry.credentials!);
    const response = await fetch(`${proxy.url}/v2/team/app/manifests/v1`, { headers: { authorization, accept: image.mediaType } });
    expect(response.status).toBe(200);
    expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(image.digest);
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(401);
    const [first, second] = proxy.requests();
    expect(first).toMatchObject({ method: 'GET', path: '/v2/team/app/manifests/v1', fault: undefined, status: 200 });
    expect(first?.headers.authorization).toBe(authorization);
    expect(second).toMatchObject({ path: '/v2/', status: 401 });
    expect(second?.headers.authorization).toBeUndefined();
    proxy.resetRequests();
    expect(proxy.requests()).toEqual([]);
  });

  test('can send clients to the token server through a second proxy, where faults apply too', async () => {
    await using registry = await startRegistry({ auth: 'token', publicRepositories: 'all' });
    const tokenServer = registry.tokenServer!;
    await using tokenProxy = await startFaultProxy({ upstream: tokenServer.origin });
    await using proxy = await startFaultProxy({ upstream: registry.url, rewriteOrigins: { [tokenServer.origin]: tokenProxy.origin } });
    const challenge = await fetch(`${proxy.url}/v2/`);
    expect(challenge.headers.get('www-authenticate')).toBe(`Bearer realm="${tokenProxy.origin}/token",service="${tokenServer.service}"`);
    tokenProxy.inject({ times: 1, fault: { kind: 'status', status: 500 } });
    const realm = `${tokenProxy.origin}/token?service=${tokenServer.service}&scope=repository:a:pull`;
    expect((await fetch(realm)).status).toBe(500);
    const token = await fetch(realm);
    expect(token.status).toBe(200);
    expect(tokenServer.requests()).toHaveLength(1);
    expect(tokenProxy.requests().map((request) => request.status)).toEqual([500, 200]);
  });

  test('skopeo pushes and pulls through the proxy, every request going through it', async () => {
    await using registry = await startRegistry({ auth: 'basic' });
    await using proxy = await startFaultProxy({ upstream: registry.url });
    const image = await seedImage({ host: proxy.host, credentials: registry.credentials }, 'team/app:v1');
    const raw = await skopeoInspectRaw(`docker://${proxy.host}/team/app:v1`, { creds: registry.credentials! });
    expect(sha256(Buffer.from(raw))).toBe(image.digest);
    const methods = new Set(proxy.requests().map((request) => request.method));
    expect([...methods].sort()).toEqual(expect.arrayContaining(['GET', 'HEAD', 'POST', 'PUT']));
    expect(proxy.requests().filter((request) => request.method === 'PUT' && request.path.includes('/manifests/v1'))).toHaveLength(1);
    // every follow-up of an upload came back to the proxy, none leaked to the registry's own address
    expect(proxy.requests().some((request) => request.path.includes('/blobs/uploads/') && request.method !== 'POST')).toBe(true);
  });

  test('rewrites the upload Location of the real registry to the proxy', async () => {
    await using registry = await startRegistry();
    await using proxy = await startFaultProxy({ upstream: registry.url });
    const response = await fetch(`${proxy.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')?.startsWith(`${proxy.origin}/v2/team/app/blobs/uploads/`)).toBe(true);
  });

  test("'status' answers 429 with Retry-After the given number of times, then passes", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    const rule = proxy.inject({ method: 'GET', path: /\/manifests\//, times: 1, fault: { kind: 'status', status: 429, headers: { 'retry-after': '2' }, body: '{"errors":[{"code":"TOOMANYREQUESTS"}]}' } });
    const url = `${proxy.url}/v2/team/app/manifests/v1`;
    const limited = await fetch(url, { headers: { accept: fixture.image.mediaType } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.text()).toContain('TOOMANYREQUESTS');
    expect((await fetch(url, { headers: { accept: fixture.image.mediaType } })).status).toBe(200);
    expect(rule.hits()).toBe(1);
    expect(proxy.requests().map((request) => request.fault)).toEqual(['status', undefined]);
  });

  test("'status' makes a 5xx burst of N, and rules match on method and exact path", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    const burst = proxy.inject({ path: '/v2/team/app/tags/list', times: 3, fault: { kind: 'status', status: 503 } });
    const headOnly = proxy.inject({ method: 'HEAD', fault: { kind: 'status', status: 500 } });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await fetch(`${proxy.url}/v2/team/app/tags/list`)).status);
    expect(statuses).toEqual([503, 503, 503, 200]);
    expect((await fetch(`${proxy.url}/v2/team/app/tags/list?n=1`)).status).toBe(200);
    expect(burst.hits()).toBe(3);
    expect(headOnly.hits()).toBe(0);
    headOnly.remove();
    expect((await fetch(`${proxy.url}/v2/team/app/manifests/v1`, { method: 'HEAD', headers: { accept: fixture.image.mediaType } })).status).toBe(200);
  });

  test("'status' can refuse HEAD on manifests with 405 while GET works", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    proxy.inject({ method: 'HEAD', path: /\/manifests\//, fault: { kind: 'status', status: 405 } });
    const url = `${proxy.url}/v2/team/app/manifests/v1`;
    expect((await fetch(url, { method: 'HEAD', headers: { accept: fixture.image.mediaType } })).status).toBe(405);
    expect((await fetch(url, { method: 'HEAD', headers: { accept: fixture.image.mediaType } })).status).toBe(405);
    const get = await fetch(url, { headers: { accept: fixture.image.mediaType } });
    expect(get.status).toBe(200);
    expect(get.headers.get('docker-content-digest')).toBe(fixture.image.digest);
  });

  test("'reset' sends the head and part of the body, then drops the connection", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    const layer = fixture.image.layers[0]!;
    proxy.inject({ path: /\/blobs\/sha256:/, times: 1, fault: { kind: 'reset', afterBytes: 100 } });
    const url = `${proxy.url}/v2/team/app/blobs/${layer.digest}`;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(layer.size));
    await expect(response.arrayBuffer()).rejects.toThrow();
    const again = await fetch(url);
    expect(sha256(new Uint8Array(await again.arrayBuffer()))).toBe(layer.digest);
  });

  test("'corrupt' flips one byte of a manifest and keeps the headers", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    proxy.inject({ path: /\/manifests\//, fault: { kind: 'corrupt' } });
    const response = await fetch(`${proxy.url}/v2/team/app/manifests/v1`, { headers: { accept: fixture.image.mediaType } });
    const body = new Uint8Array(await response.arrayBuffer());
    expect(response.headers.get('docker-content-digest')).toBe(fixture.image.digest);
    expect(body.length).toBe(fixture.image.manifestBytes.length);
    expect(sha256(body)).not.toBe(fixture.image.digest);
    const differing = body.reduce((count, byte, index) => count + (byte === fixture.image.manifestBytes[index] ? 0 : 1), 0);
    expect(differing).toBe(1);
  });

  test("'corrupt' at an offset breaks a blob", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    proxy.inject({ path: /\/blobs\//, fault: { kind: 'corrupt', offset: 0 } });
    const layer = fixture.image.layers[0]!;
    const body = new Uint8Array(await (await fetch(`${proxy.url}/v2/team/app/blobs/${layer.digest}`)).arrayBuffer());
    expect(body.length).toBe(layer.size);
    expect(body[0]).toBe(fixture.image.blobs.get(layer.digest)![0]! ^ 1);
  });

  test("'drop-header' removes Docker-Content-Digest", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    proxy.inject({ path: /\/manifests\//, fault: { kind: 'drop-header', header: 'Docker-Content-Digest' } });
    for (const method of ['GET', 'HEAD']) {
      const response = await fetch(`${proxy.url}/v2/team/app/manifests/v1`, { method, headers: { accept: fixture.image.mediaType } });
      expect(response.status).toBe(200);
      expect(response.headers.get('docker-content-digest')).toBeNull();
      expect(response.headers.get('content-type')).toBe(fixture.image.mediaType);
    }
  });

  test("'rewrite-json' serves \"tags\": null", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    proxy.inject({ path: /\/tags\/list/, fault: { kind: 'rewrite-json', transform: (json) => ({ ...(json as object), tags: null }) } });
    const response = await fetch(`${proxy.url}/v2/team/app/tags/list`);
    expect(await response.json()).toEqual({ name: 'team/app', tags: null });
  });

  test("'huge-body' serves an oversized manifest with a declared length, or an endless one", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    const url = `${proxy.url}/v2/team/app/manifests/v1`;
    proxy.inject({ times: 1, fault: { kind: 'huge-body', bytes: 5 * 1024 * 1024, declareLength: true } });
    const sized = await fetch(url, { headers: { accept: fixture.image.mediaType } });
    expect(sized.headers.get('content-length')).toBe(String(5 * 1024 * 1024));
    expect(sized.headers.get('content-type')).toBe(fixture.image.mediaType);
    expect((await sized.arrayBuffer()).byteLength).toBe(5 * 1024 * 1024);

    proxy.inject({ times: 1, fault: { kind: 'huge-body', endless: true } });
    const controller = new AbortController();
    const endless = await fetch(url, { headers: { accept: fixture.image.mediaType }, signal: controller.signal });
    expect(endless.headers.get('content-length')).toBeNull();
    let received = 0;
    const reader = (endless.body as ReadableStream<Uint8Array>).getReader();
    while (received < 8 * 1024 * 1024) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.length;
    }
    expect(received).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    controller.abort();
    // the proxy stopped writing and still serves
    expect((await fetch(url, { headers: { accept: fixture.image.mediaType } })).status).toBe(200);
  });

  test("'redirect-blob' sends blobs to another origin that refuses Authorization", async () => {
    await using fixture = await seeded({ auth: 'basic' });
    const { registry, image } = fixture;
    await using proxy = await startFaultProxy({ upstream: registry.url });
    proxy.inject({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'redirect-blob' } });
    const layer = image.layers[0]!;
    const authorization = basic(registry.credentials!);
    const redirect = await fetch(`${proxy.url}/v2/team/app/blobs/${layer.digest}`, { headers: { authorization }, redirect: 'manual' });
    expect(redirect.status).toBe(307);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(`${proxy.sideServer.origin}/`)).toBe(true);
    expect(proxy.requests()[0]?.headers.authorization).toBe(authorization);

    const withAuthorization = await fetch(location, { headers: { authorization } });
    expect(withAuthorization.status).toBe(403);
    const withoutAuthorization = await fetch(location);
    expect(withoutAuthorization.status).toBe(200);
    expect(sha256(new Uint8Array(await withoutAuthorization.arrayBuffer()))).toBe(layer.digest);
    expect(proxy.sideServer.requests().map((request) => [request.status, request.headers.authorization !== undefined])).toEqual([[403, true], [200, false]]);

    // without credentials upstream answers 401, and the proxy passes that through instead of redirecting
    const unauthorized = await fetch(`${proxy.url}/v2/team/app/blobs/${layer.digest}`, { redirect: 'manual' });
    expect(unauthorized.status).toBe(401);
  });

  test("'delay' still forwards", async () => {
    await using fixture = await seeded();
    await using proxy = await startFaultProxy({ upstream: fixture.registry.url });
    const rule = proxy.inject({ fault: { kind: 'delay', ms: 20 } });
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200);
    expect(rule.hits()).toBe(1);
    proxy.clear();
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200);
    expect(proxy.requests().map((request) => request.fault)).toEqual(['delay', undefined]);
  });

  describe("'paginate-tags'", () => {
    const tags = ['v1', 'v2', 'v3', 'v4', 'v5'];
    async function withTags(): Promise<Registry> {
      const registry = await startRegistry();
      try {
        await seedTags(registry, 'team/app', tags, buildImage());
        return registry;
      } catch (error) {
        await registry.stop();
        throw error;
      }
    }

    async function follow(start: string, limit = 10): Promise<{ pages: string[][]; links: (string | null)[] }> {
      const pages: string[][] = [];
      const links: (string | null)[] = [];
      let url: string | undefined = start;
      while (url !== undefined && pages.length < limit) {
        const response = await fetch(url);
        expect(response.status).toBe(200);
        pages.push(((await response.json()) as { tags: string[] }).tags);
        const link = response.headers.get('link');
        links.push(link);
        const target = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
        url = target === undefined ? undefined : new URL(target, url).href;
      }
      return { pages, links };
    }

    test('the real registry ignores n, the proxy pages with relative Links', async () => {
      await using registry = await withTags();
      const direct = await fetch(`${registry.url}/v2/team/app/tags/list?n=2`);
      // distribution 2.8 returns every tag in one response, in directory order rather than sorted
      expect(((await direct.json()) as { tags: string[] }).tags.toSorted()).toEqual(tags);
      expect(direct.headers.get('link')).toBeNull();
      await using proxy = await startFaultProxy({ upstream: registry.url });
      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags' } });
      const { pages, links } = await follow(`${proxy.url}/v2/team/app/tags/list`);
      expect(pages).toEqual([['v1', 'v2'], ['v3', 'v4'], ['v5']]);
      expect(links).toEqual(['</v2/team/app/tags/list?n=2&last=v2>; rel="next"', '</v2/team/app/tags/list?n=2&last=v4>; rel="next"', null]);
    });

    test('honours n, writes absolute Links, and refuses n above the cap with 400', async () => {
      await using registry = await withTags();
      await using proxy = await startFaultProxy({ upstream: registry.url });
      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags', link: 'absolute', maxPageSize: 3 } });
      const { pages, links } = await follow(`${proxy.url}/v2/team/app/tags/list?n=3`);
      expect(pages).toEqual([['v1', 'v2', 'v3'], ['v4', 'v5']]);
      expect(links[0]).toBe(`<${proxy.origin}/v2/team/app/tags/list?n=3&last=v3>; rel="next"`);
      const tooMany = await fetch(`${proxy.url}/v2/team/app/tags/list?n=4`);
      expect(tooMany.status).toBe(400);
      expect(await tooMany.text()).toContain('PAGINATION_NUMBER_INVALID');
      expect((await fetch(`${proxy.url}/v2/team/app/tags/list?n=x`)).status).toBe(400);
    });

    test('can loop back to the first page, or point next at another origin', async () => {
      await using registry = await withTags();
      await using proxy = await startFaultProxy({ upstream: registry.url });
      const loop = proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags', loopToFirstAfterPage: 2 } });
      const looped = await follow(`${proxy.url}/v2/team/app/tags/list`, 4);
      expect(looped.pages).toEqual([['v1', 'v2'], ['v3', 'v4'], ['v1', 'v2'], ['v3', 'v4']]);
      expect(looped.links[1]).toBe('</v2/team/app/tags/list?n=2>; rel="next"');
      loop.remove();

      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags', nextOrigin: 'http://127.0.0.2:9' } });
      const response = await fetch(`${proxy.url}/v2/team/app/tags/list`);
      expect(response.headers.get('link')).toBe('<http://127.0.0.2:9/v2/team/app/tags/list?n=2&last=v2>; rel="next"');
    });

    test('passes upstream errors through', async () => {
      await using registry = await withTags();
      await using proxy = await startFaultProxy({ upstream: registry.url });
      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags' } });
      const response = await fetch(`${proxy.url}/v2/team/missing/tags/list`);
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('NAME_UNKNOWN');
    });
  });
});
