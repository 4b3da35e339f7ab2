import { buildImage, hasBinary, seedImage, startRegistry } from '@scanner/test-lab';
import type { Registry } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { failure } from './failure.fixture.ts';
import { json, startServer } from './http.fixture.ts';
import type { RecordedRequest, TestServer } from './http.fixture.ts';
import { testClient } from './http.fixture.ts';
import type { Credential } from './settings.ts';

const SECRET: Credential = { kind: 'basic', username: 'first-host-user', password: 'first-host-password' };
const SECRET_BASIC = `Basic ${Buffer.from(`${SECRET.username}:${SECRET.password}`).toString('base64')}`;

/** A registry host that only redirects (307) every request to `target`, keeping path and query. */
async function redirectOnly(target: () => string): Promise<TestServer> {
  return startServer((request, response) => {
    response.writeHead(307, { location: `${target()}${request.url}` }).end();
  });
}

function authorizations(requests: readonly RecordedRequest[]): (string | undefined)[] {
  return requests.map((request) => request.headers.authorization);
}

// The real CNCF distribution registry behind its real token server (anonymous pull), reached through a host
// that only redirects to it: the situation of a registry fronted by a redirecting alias.
describe.skipIf(!hasBinary('docker-registry') || !hasBinary('skopeo'))('a host that only redirects to a registry with its own token realm', () => {
  let registry: Registry;
  let front: TestServer;
  let digest: string;
  let seeded = 0;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token', publicRepositories: 'all' });
    digest = (await seedImage(registry, 'lab/web:1.0.0', buildImage({ seed: 'redirect' }))).digest;
    front = await redirectOnly(() => registry.origin);
    seeded = registry.tokenServer?.requests().length ?? 0;
  }, 120_000);

  afterAll(async () => {
    await front.close();
    await registry.stop();
  });

  test('the target origin is answered with an anonymous token from its realm; the first host\'s credentials go nowhere', async () => {
    await using t = testClient({ settings: { [front.host]: { credentials: { description: 'test', get: () => Promise.resolve(SECRET) } } } });
    expect(await t.client.listTags(`${front.host}/lab/web`)).toEqual(['1.0.0']);
    expect(await t.client.resolveDigest(`${front.host}/lab/web:1.0.0`)).toBe(digest);
    // The first host never got credentials or a token: it never asked, and the token is the target's.
    expect(authorizations(front.requests).every((value) => value === undefined)).toBe(true);
    // The token server was asked anonymously.
    const tokenRequests = (registry.tokenServer?.requests() ?? []).slice(seeded);
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(tokenRequests.map((request) => request.grantType)).toEqual(tokenRequests.map(() => 'anonymous'));
    // The registry saw bearer tokens only, never the first host's Basic credentials.
    expect(registry.logs()).not.toContain(SECRET.password);
  });
});

describe('redirect targets on loopback quirk servers', () => {
  test('the token goes only to the origin that asked, and is reused from the cache', async () => {
    const tokens: RecordedRequest[] = [];
    await using realm = await startServer((request, response) => {
      tokens.push(request);
      json(response, 200, { token: 'target-token', expires_in: 300 });
    });
    await using target = await startServer((request, response) => {
      if (request.headers.authorization !== 'Bearer target-token') {
        json(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'auth required' }] }, {
          'www-authenticate': `Bearer realm="${realm.origin}/token",service="target",scope="repository:lab/web:pull"`,
        });
        return;
      }
      json(response, 200, { tags: ['1.0.0', '1.1.0'] });
    });
    await using front = await redirectOnly(() => target.origin);
    await using t = testClient({ settings: { [front.host]: { credentials: { description: 'test', get: () => Promise.resolve(SECRET) } } } });
    expect(await t.client.listTags(`${front.host}/lab/web`)).toEqual(['1.0.0', '1.1.0']);
    expect(await t.client.listTags(`${front.host}/lab/web`)).toEqual(['1.0.0', '1.1.0']);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.headers.authorization).toBeUndefined();
    expect(new URL(tokens[0]?.url ?? '', realm.origin).searchParams.getAll('scope')).toEqual(['repository:lab/web:pull']);
    expect(authorizations(front.requests).every((value) => value === undefined)).toBe(true);
    expect(authorizations(target.requests)).not.toContain(SECRET_BASIC);
    expect(authorizations(target.requests).filter((value) => value !== undefined).every((value) => value === 'Bearer target-token')).toBe(true);
  });

  test('the realm policy still holds: a link-local realm named by the target is never contacted', async () => {
    await using target = await startServer((_request, response) => {
      json(response, 401, {}, { 'www-authenticate': 'Bearer realm="http://169.254.169.254/latest/meta-data",service="x"' });
    });
    await using front = await redirectOnly(() => target.origin);
    await using t = testClient();
    const error = await failure(t.client.listTags(`${front.host}/lab/web`));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toContain('was not contacted');
  });

  test('a target that refuses its own anonymous token fails with unauthorized and hints per audience', async () => {
    await using realm = await startServer((_request, response) => {
      json(response, 200, { token: 'useless' });
    });
    await using target = await startServer((_request, response) => {
      json(response, 401, {}, { 'www-authenticate': `Bearer realm="${realm.origin}/token"` });
    });
    await using front = await redirectOnly(() => target.origin);
    await using t = testClient();
    const error = (await failure(t.client.listTags(`${front.host}/lab/web`))) as { code: string; message: string; fields: { hints?: Record<string, string> } };
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain('refused the token from its realm');
    expect(Object.keys(error.fields.hints ?? {}).sort()).toEqual(['cli', 'config', 'library']);
  });

  test('a 401 without a Bearer challenge from a redirect target (blob storage) is handed back as it is', async () => {
    await using target = await startServer((_request, response) => {
      json(response, 401, {}, { 'www-authenticate': 'Basic realm="storage"' });
    });
    await using front = await redirectOnly(() => target.origin);
    await using t = testClient({ settings: { [front.host]: { credentials: { description: 'test', get: () => Promise.resolve(SECRET) } } } });
    expect((await failure(t.client.listTags(`${front.host}/lab/web`))).code).toBe('unauthorized');
    expect(authorizations(target.requests)).toEqual([undefined]);
  });
});

// break-scan F1 and F9: the first host authenticates (Basic) before it redirects; the target has its own realm.
describe('a first host that authenticates, then redirects to an origin with its own challenge', () => {
  /** Demands SECRET as Basic, then 307s every request to `target`. */
  async function basicThenRedirect(target: () => string): Promise<TestServer> {
    return startServer((request, response) => {
      if (request.headers.authorization !== SECRET_BASIC) {
        json(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'auth required' }] }, { 'www-authenticate': 'Basic realm="h1"' });
        return;
      }
      response.writeHead(307, { location: `${target()}${request.url}` }).end();
    });
  }

  async function bearerTarget(link?: (origin: string) => string) {
    const tokens: RecordedRequest[] = [];
    const realm = await startServer((request, response) => {
      tokens.push(request);
      json(response, 200, { token: 'target-token' });
    });
    const target: TestServer = await startServer((request, response) => {
      if (request.headers.authorization !== 'Bearer target-token') {
        json(response, 401, {}, { 'www-authenticate': `Bearer realm="${realm.origin}/token",service="h2"` });
        return;
      }
      const second = request.url.includes('last=1.0.0');
      json(response, 200, { tags: second ? ['2.0.0'] : ['1.0.0'] }, second || link === undefined ? {} : { link: link(target.origin) });
    });
    return {
      tokens,
      target,
      [Symbol.asyncDispose]: async () => {
        await target.close();
        await realm.close();
      },
    };
  }

  test('the target is answered with an anonymous token from its realm; the first host\'s credentials never reach it', async () => {
    await using lab = await bearerTarget();
    const { tokens, target } = lab;
    await using front = await basicThenRedirect(() => target.origin);
    await using t = testClient({ settings: { [front.host]: { credentials: { description: 'static:alice', get: () => Promise.resolve(SECRET) } } } });
    expect(await t.client.listTags(`${front.host}/r/app`)).toEqual(['1.0.0']);
    expect(tokens.length).toBeGreaterThan(0);
    expect(authorizations(tokens)).toEqual(tokens.map(() => undefined));
    expect(authorizations(target.requests)).not.toContain(SECRET_BASIC);
    expect(authorizations(target.requests).filter((value) => value !== undefined).every((value) => value === 'Bearer target-token')).toBe(true);
  });

  test('a target that asks for Basic fails naming the target, not blaming the first host\'s credentials', async () => {
    await using target = await startServer((_request, response) => {
      json(response, 401, {}, { 'www-authenticate': 'Basic realm="h2"' });
    });
    await using front = await basicThenRedirect(() => target.origin);
    await using t = testClient({ settings: { [front.host]: { credentials: { description: 'static:alice', get: () => Promise.resolve(SECRET) } } } });
    const error = await failure(t.client.listTags(`${front.host}/r/app`));
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain(target.host);
    expect(error.message).not.toContain('refused the configured credentials');
    expect(error.message).toContain('asks for credentials of its own');
    expect(authorizations(target.requests)).not.toContain(SECRET_BASIC);
  });

  test('an absolute Link to the origin that served the page (after a redirect) is followed', async () => {
    await using lab = await bearerTarget((origin) => `<${origin}/v2/r/app/tags/list?n=1000&last=1.0.0>; rel="next"`);
    const { target } = lab;
    await using front = await redirectOnly(() => target.origin);
    await using t = testClient();
    expect(await t.client.listTags(`${front.host}/r/app`)).toEqual(['1.0.0', '2.0.0']);
  });

  test('an absolute Link to a third origin is still refused', async () => {
    await using lab = await bearerTarget(() => '<http://127.0.0.1:9/v2/r/app/tags/list?last=1.0.0>; rel="next"');
    const { target } = lab;
    await using front = await redirectOnly(() => target.origin);
    await using t = testClient();
    expect((await failure(t.client.listTags(`${front.host}/r/app`))).code).toBe('cross_origin');
  });
});

describe('tags/list pages', () => {
  test('an empty page that links a next page does not end the listing', async () => {
    await using registry = await startServer((request, response) => {
      const page = Number(new URL(request.url, 'http://x').searchParams.get('page') ?? '1');
      const pages: Record<number, string[]> = { 1: ['a', 'b'], 2: [], 3: [], 4: ['c'] };
      json(response, 200, { tags: pages[page] ?? [] }, page < 4 ? { link: `</v2/lab/web/tags/list?page=${page + 1}>; rel="next"` } : {});
    });
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/lab/web`)).toEqual(['a', 'b', 'c']);
    expect(t.events.filter((event) => event.type === 'warning')).toEqual([]);
  });

  test('empty pages keep the loop and origin guards', async () => {
    await using looping = await startServer((request, response) => {
      const second = request.url.includes('page=2');
      // The empty second page links to itself.
      json(response, 200, { tags: second ? [] : ['a'] }, { link: '</v2/lab/web/tags/list?page=2>; rel="next"' });
    });
    await using t = testClient();
    expect(await t.client.listTags(`${looping.host}/lab/web`)).toEqual(['a']);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'warning', code: 'pagination_loop' }));

    await using elsewhere = await startServer((_request, response) => {
      json(response, 200, { tags: [] }, { link: '<http://169.254.169.254/v2/lab/web/tags/list?page=2>; rel="next"' });
    });
    expect((await failure(t.client.listTags(`${elsewhere.host}/lab/web`))).code).toBe('cross_origin');

    let served = 0;
    await using endless = await startServer((_request, response) => {
      served++;
      json(response, 200, { tags: [] }, { link: `</v2/lab/web/tags/list?page=${served + 1}>; rel="next"` });
    });
    // Endless empty pages fail rather than end the listing as if complete (break-scan F10).
    expect((await failure(t.client.listTags(`${endless.host}/lab/web`))).code).toBe('invalid_response');
    expect(served).toBe(100);
  });
});

describe('429 with a Retry-After beyond the wait limit', () => {
  test('the error says how long the registry asked to wait, as a field and in the message', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'pull rate limit' }] }, { 'retry-after': '3600' });
    });
    await using t = testClient();
    const error = (await failure(t.client.listTags(`${registry.host}/lab/web`))) as { code: string; message: string; retryAfterMs?: number; fields: { hints?: Record<string, string> } };
    expect(error.code).toBe('TOOMANYREQUESTS');
    expect(error.retryAfterMs).toBe(3_600_000);
    expect(error.message).toContain('asked to wait 3600 s (Retry-After), longer than the 60 s the client waits');
    expect(error.fields.hints?.library).toContain('retryAfterMaxMs');
    // The listing names its registry (break-scan L1).
    expect(error.message).toContain(`listing tags of ${registry.host}/lab/web failed`);
    expect(t.sleeps).toEqual([]); // it did not wait
  });

  test('an HTTP-date Retry-After and a HEAD without a body give the same field', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    await using registry = await startServer((_request, response) => {
      response.writeHead(429, { 'retry-after': 'Thu, 01 Jan 2026 00:10:00 GMT', 'content-length': 0 }).end();
    });
    await using t = testClient({ now: () => now, retryAfterMaxMs: 1000 });
    const error = (await failure(t.client.resolveDigest(`${registry.host}/lab/web:1`))) as { code: string; retryAfterMs?: number; message: string };
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(600_000);
    expect(error.message).toContain('asked to wait 600 s');
  });
});

describe('auth errors carry hints per audience', () => {
  test('a registry asking for credentials the client lacks', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': 'Basic realm="r"' });
    });
    await using t = testClient();
    const error = (await failure(t.client.listTags(`${registry.host}/lab/web`))) as unknown as { code: string; fields: { hints?: Record<string, string> } };
    expect(error.code).toBe('unauthorized');
    expect(error.fields.hints?.library).toContain('settings.credentials');
    expect(error.fields.hints?.config).toContain('credentials on the registries entry');
    expect(error.fields.hints?.cli).toContain('docker login');
  });
});
