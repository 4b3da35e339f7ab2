// Hostile registries and token servers: credentials stay home, every failure is a clear RegistryError.
import { describe, expect, test } from 'vitest';
import { isRegistryError } from './errors.ts';
import type { RegistryError } from './errors.ts';
import { json, startServer, testClient } from './http.fixture.ts';
import type { Handler, TestServer } from './http.fixture.ts';
import type { ServerResponse } from 'node:http';
import { normalizeRegistryHost, resolveEndpoint } from './endpoint.ts';
import { closeCore, createClientCore } from './client.ts';
import { listTags } from './pagination.ts';
import { mayContactRealm } from './realm-policy.ts';
import { createTokenCache } from './token-cache.ts';
import { parseRegistriesConfig } from './registries-config.ts';
import type { Credential } from './settings.ts';

const SECRET = 'REFRESH-planted-hostile';
const PASSWORD = 'pa55-hostile-planted';
const provider = (credential: Credential) => ({ description: 'test:static', get: () => Promise.resolve(credential) });

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    if (isRegistryError(error)) return error;
    throw new Error(`expected a RegistryError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail');
}

/** A registry that always challenges for a bearer token at `realm`, and accepts any token it did not mint itself as refused. */
function challenging(realm: () => string, accept: (authorization: string | undefined) => boolean = () => false): Handler {
  return (request, response) => {
    if (accept(request.headers.authorization)) {
      json(response, 200, { name: 'team/app', tags: ['1.0'] });
      return;
    }
    json(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, {
      'www-authenticate': `Bearer realm="${realm()}",service="lab",scope="repository:team/app:pull"`,
    });
  };
}

function everySeen(servers: readonly TestServer[]): string {
  return servers
    .flatMap((server) => server.requests)
    .map((request) => `${request.method} ${request.url} ${JSON.stringify(request.headers)} ${request.body.toString('utf8')}`)
    .join('\n');
}

describe('token realm', () => {
  test('a realm redirecting the identity-token POST to another origin never receives the refresh token', async () => {
    await using elsewhere = await startServer((_request, response) => {
      json(response, 200, { token: 'stolen' });
    });
    await using auth = await startServer((_request, response) => {
      response.writeHead(307, { location: `${elsewhere.origin}/token` }).end();
    });
    await using registry = await startServer(challenging(() => `${auth.origin}/token`));
    await using t = testClient({ settings: { [registry.host]: { credentials: provider({ kind: 'identity-token', token: SECRET }) } } });
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('cross_origin');
    expect(error.message).toMatch(/redirect/);
    expect(auth.requests[0]?.body.toString('utf8')).toContain(SECRET);
    expect(elsewhere.requests).toHaveLength(0);
    expect(error.message).not.toContain(SECRET);
  });

  test.each(['file:///etc/passwd', 'javascript:alert(1)', 'ftp://127.0.0.1/token', 'data:text/plain,x'])(
    'a realm with a non-http(s) scheme (%s) is refused with invalid_response',
    async (realm) => {
      await using registry = await startServer(challenging(() => realm));
      await using t = testClient({ settings: { [registry.host]: { credentials: provider({ kind: 'basic', username: 'u', password: PASSWORD }) } } });
      const error = await failure(t.client.listTags(`${registry.host}/team/app`));
      expect(error.code).toBe('invalid_response');
      expect(error.message).toContain('realm');
      expect(error.message).toMatch(/http/);
      expect(error.registry).toBe(registry.host);
    },
  );

  test('a link-local realm (cloud metadata address) is never contacted', async () => {
    const events: string[] = [];
    await using registry = await startServer(challenging(() => 'http://169.254.169.254/latest/meta-data/token'));
    await using t = testClient({ onEvent: (event) => events.push(event.type === 'request' ? event.url : '') });
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toContain('169.254.169.254');
    expect(error.message).toMatch(/tokenRealmAllowList/);
    expect(events.filter((url) => url.includes('169.254'))).toEqual([]);
  });

  test('the realm policy: a non-public realm only for a non-public registry or when allow-listed', () => {
    const realm = (href: string) => new URL(href);
    expect(mayContactRealm(realm('https://auth.docker.io/token'), { registry: 'docker.io', origin: 'https://registry-1.docker.io' })).toBe(true);
    expect(mayContactRealm(realm('http://127.0.0.1:8080/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    expect(mayContactRealm(realm('http://localhost/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    expect(mayContactRealm(realm('http://auth.localhost./token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    expect(mayContactRealm(realm('http://[::1]/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    expect(mayContactRealm(realm('https://10.0.0.5/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    expect(mayContactRealm(realm('https://192.168.1.2/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    expect(mayContactRealm(realm('https://[fe80::1]/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    // IPv4-mapped IPv6, which the URL parser rewrites to hex.
    expect(mayContactRealm(realm('http://[::ffff:127.0.0.1]/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    expect(mayContactRealm(realm('http://[::ffff:169.254.169.254]/token'), { registry: 'localhost:5000' })).toBe(false);
    expect(mayContactRealm(realm('http://[::ffff:8.8.8.8]/token'), { registry: 'ghcr.io' })).toBe(true);
    // Other spellings of an IPv4 address are normalised by the URL parser.
    expect(mayContactRealm(realm('http://2130706433/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io' })).toBe(false);
    expect(mayContactRealm(realm('http://0xa9.0xfe.0xa9.0xfe/token'), { registry: 'localhost:5000' })).toBe(false);
    expect(mayContactRealm(realm('http://127.0.0.1:8080/token'), { registry: 'localhost:5000', origin: 'http://localhost:5000' })).toBe(true);
    expect(mayContactRealm(realm('https://10.0.0.5/token'), { registry: 'registry.internal', origin: 'https://10.0.0.4' })).toBe(true);
    expect(mayContactRealm(realm('https://10.0.0.5/token'), { registry: 'ghcr.io', origin: 'https://ghcr.io', allowList: ['10.0.0.5'] })).toBe(true);
    // A loopback registry is a developer's setup, but the metadata address is never a token server.
    expect(mayContactRealm(realm('http://169.254.169.254/token'), { registry: 'localhost:5000', origin: 'http://localhost:5000' })).toBe(false);
    expect(mayContactRealm(realm('http://169.254.169.254/token'), { registry: 'localhost:5000', allowList: ['169.254.169.254'] })).toBe(true);
  });

  test('a token that is not a valid header value is refused as invalid_response, without retries', async () => {
    let tokens = 0;
    await using registry = await startServer();
    registry.handle((request, response) => {
      if (request.url.startsWith('/token')) {
        tokens++;
        json(response, 200, { token: 'abc\r\nx-injected: 1' });
        return;
      }
      challenging(() => `${registry.origin}/token`)(request, response);
    });
    await using t = testClient();
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/token/);
    expect(tokens).toBe(1);
    expect(registry.requests.filter((request) => request.headers['x-injected'] !== undefined)).toEqual([]);
  });

  test('a token minted for one registry is never sent to another registry sharing the realm', async () => {
    const minted: string[] = [];
    await using auth = await startServer((_request, response) => {
      const token = `tok-${minted.length + 1}`;
      minted.push(token);
      json(response, 200, { token, expires_in: 300 });
    });
    const seenByB: (string | undefined)[] = [];
    await using a = await startServer(challenging(() => `${auth.origin}/token`, (header) => header === 'Bearer tok-1'));
    await using b = await startServer(
      challenging(
        () => `${auth.origin}/token`,
        (header) => {
          seenByB.push(header);
          return header !== undefined && header !== 'Bearer tok-1';
        },
      ),
    );
    const credentials = provider({ kind: 'basic', username: 'u', password: PASSWORD });
    await using t = testClient({ settings: { [a.host]: { credentials }, [b.host]: { credentials } } });
    await t.client.listTags(`${a.host}/team/app`);
    // B has learned nothing yet: its first request goes out bare, then it must get a token of its own.
    await t.client.listTags(`${b.host}/team/app`);
    expect(seenByB).not.toContain('Bearer tok-1');
    expect(minted).toEqual(['tok-1', 'tok-2']);
  });

  test('a malformed WWW-Authenticate says which registry sent it and what to do', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 401, {}, { 'www-authenticate': 'Bearer realm="https://auth.example/token' });
    });
    await using t = testClient();
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('invalid_response');
    expect(error.registry).toBe(registry.host);
    expect(error.status).toBe(401);
    expect(error.message).toContain(registry.host);
    expect(error.message).toMatch(/malformed WWW-Authenticate/);
  });
});

describe('401 from another origin', () => {
  test('a storage host answering 401 after a redirect does not become the registry challenge', async () => {
    await using storage = await startServer((request, response) => {
      if (request.url.startsWith('/token')) {
        json(response, 200, { token: 'storage-token' });
        return;
      }
      json(response, 401, {}, { 'www-authenticate': `Bearer realm="${storage.origin}/token",service="s3"` });
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    await using registry = await startServer((request, response) => {
      if (request.url.includes('/blobs/')) {
        response.writeHead(307, { location: `${storage.origin}/bucket/blob` }).end();
        return;
      }
      json(response, 200, { name: 'team/app', tags: ['1.0'] });
    });
    await using t = testClient({ settings: { [registry.host]: { credentials: provider({ kind: 'basic', username: 'u', password: PASSWORD }) } } });
    const error = await failure(t.client.getBlob(`${registry.host}/team/app`, digest));
    expect(error.status).toBe(401);
    expect(error.message).toContain(storage.origin);
    expect(storage.requests.filter((request) => request.url.startsWith('/token'))).toEqual([]);
    // The registry itself still needs no authentication.
    expect(await t.client.listTags(`${registry.host}/team/app`)).toEqual(['1.0']);
    expect(registry.requests.every((request) => request.headers.authorization === undefined)).toBe(true);
    expect(everySeen([storage, registry])).not.toContain(Buffer.from(`u:${PASSWORD}`).toString('base64'));
  });
});

describe('upload Location', () => {
  test.each(['javascript:alert(1)', 'file:///tmp/blob', 'ftp://127.0.0.1/upload'])('a Location with a non-http(s) scheme (%s) is refused', async (location) => {
    await using registry = await startServer((request, response) => {
      if (request.method === 'POST') {
        response.writeHead(202, { location, 'content-length': '0' }).end();
        return;
      }
      response.writeHead(404, { 'content-length': '0' }).end();
    });
    await using t = testClient();
    const error = await failure(t.client.uploadBlob(`${registry.host}/team/app`, new Uint8Array([1, 2, 3]), { skipExisting: false }));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toContain('Location');
    expect(error.registry).toBe(registry.host);
    expect(registry.requests.map((request) => request.method)).toEqual(['POST']);
  });

  test('an absolute Location on another origin gets the blob but never the credentials, and no user info', async () => {
    await using storage = await startServer((_request, response) => {
      response.writeHead(201, { 'content-length': '0' }).end();
    });
    await using registry = await startServer((request, response) => {
      if (request.headers.authorization === undefined) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="lab"', 'content-length': '0' }).end();
        return;
      }
      if (request.method === 'POST') {
        const location = `http://planted-user:${PASSWORD}@${storage.host}/upload/1?state=abc`;
        response.writeHead(202, { location, 'content-length': '0' }).end();
        return;
      }
      response.writeHead(404, { 'content-length': '0' }).end();
    });
    await using t = testClient({ settings: { [registry.host]: { credentials: provider({ kind: 'basic', username: 'u', password: PASSWORD }) } } });
    const result = await t.client.uploadBlob(`${registry.host}/team/app`, new Uint8Array([1, 2, 3]), { skipExisting: false });
    expect(result.outcome).toBe('uploaded');
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
    expect(storage.requests[0]?.url).toMatch(/^\/upload\/1\?state=abc&digest=sha256%3A/);
    expect(JSON.stringify(t.events)).not.toContain(PASSWORD);
  });
});

describe('credentials in URLs given as configuration', () => {
  const caught = (run: () => unknown): RegistryError => {
    try {
      run();
    } catch (error) {
      if (isRegistryError(error)) return error;
      throw error;
    }
    throw new Error('expected a throw');
  };

  test('a registry host with user info is refused without quoting the password', () => {
    const error = caught(() => normalizeRegistryHost(`robot:${PASSWORD}@ghcr.io`));
    expect(error.code).toBe('config');
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).toContain('ghcr.io');
  });

  test('an api_url that does not parse is refused without quoting its user info', () => {
    const error = caught(() => resolveEndpoint('ghcr.io', { apiUrl: `https://robot:${PASSWORD}@ghcr.io:99999999` }));
    expect(error.code).toBe('config');
    expect(error.message).not.toContain(PASSWORD);
  });

  test.each([`https://robot:${PASSWORD}@ghcr.io/org`, `robot:${PASSWORD}@ghcr.io/org`])('a registries.conf prefix %s is refused without quoting the password', async (prefix) => {
    const text = `registries:\n  - name: x\n    prefix: "${prefix}"\n    api_url: https://ghcr.io\n`;
    const error = await parseRegistriesConfig(text, { dockerConfig: false, env: {} }).then(
      () => {
        throw new Error('expected a config error');
      },
      (thrown: unknown) => thrown as RegistryError,
    );
    expect(error.code).toBe('config');
    expect(error.message).not.toContain(PASSWORD);
  });
});

/** Writes `chunk` until the client goes away or `maxBytes` is sent, without a Content-Length. */
function endless(response: ServerResponse, status: number, first: string, maxBytes = 64 * 1024 * 1024): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.write(first);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const pump = (): void => {
    while (sent < maxBytes && !response.destroyed) {
      sent += chunk.byteLength;
      if (!response.write(chunk)) {
        response.once('drain', pump);
        return;
      }
    }
    if (!response.destroyed) response.end('"}');
  };
  response.on('error', () => undefined);
  pump();
}

describe('hostile bodies are capped while streaming', () => {
  test('a token server streaming a huge JSON is too_large', async () => {
    await using registry = await startServer();
    registry.handle((request, response) => {
      if (request.url.startsWith('/token')) {
        endless(response, 200, '{"token":"');
        return;
      }
      challenging(() => `${registry.origin}/token`)(request, response);
    });
    await using t = testClient();
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('too_large');
    expect(error.message).toMatch(/token response/);
  });

  test.each(['<html>login</html>', '{"token": 42}', '{"token": ""}', 'null'])('a token server answering %s is invalid_response', async (body) => {
    await using registry = await startServer();
    registry.handle((request, response) => {
      if (request.url.startsWith('/token')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
        return;
      }
      challenging(() => `${registry.origin}/token`)(request, response);
    });
    await using t = testClient();
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/token server/);
  });

  test('a streamed tag page over maxTagPageBytes is too_large', async () => {
    await using registry = await startServer((_request, response) => {
      endless(response, 200, '{"tags":["');
    });
    await using t = testClient({ maxTagPageBytes: 1024 * 1024 });
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('too_large');
  });

  test('an endless error body still gives the status error', async () => {
    await using registry = await startServer((_request, response) => {
      endless(response, 404, '{"errors":[{"code":"NAME_UNKNOWN","message":"');
    });
    await using t = testClient();
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('not_found');
    expect(error.status).toBe(404);
  });

  test('a streamed image config over maxConfigBytes is too_large', async () => {
    const config = `sha256:${'c'.repeat(64)}`;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 10 * 1024 * 1024 },
        layers: [],
      }),
    );
    await using registry = await startServer((request, response) => {
      if (request.url.includes('/manifests/')) {
        response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': manifest.byteLength }).end(manifest);
        return;
      }
      endless(response, 200, '{"architecture":"');
    });
    await using t = testClient({ maxConfigBytes: 1024 * 1024 });
    const error = await failure(t.client.getImageConfig(`${registry.host}/team/app:1`));
    expect(error.code).toBe('too_large');
  });
});

describe('hostile pagination and retries', () => {
  test('a same-origin next Link with user info is followed without it and without credentials from it', async () => {
    await using registry = await startServer();
    registry.handle((request, response) => {
      const second = request.url.includes('last=a');
      const link = second ? {} : { link: `<http://planted-user:${PASSWORD}@${registry.host}/v2/team/app/tags/list?last=a>; rel="next"` };
      json(response, 200, { name: 'team/app', tags: second ? ['b'] : ['a'] }, link);
    });
    await using t = testClient();
    const pages = [];
    for await (const page of t.client.pageTags(`${registry.host}/team/app`)) pages.push(page);
    expect(pages.flatMap((page) => page.tags)).toEqual(['a', 'b']);
    expect(JSON.stringify(pages)).not.toContain(PASSWORD);
    expect(JSON.stringify(t.events)).not.toContain(PASSWORD);
    expect(registry.requests.map((request) => request.headers.authorization)).toEqual([undefined, undefined]);
  });

  test('after a body broken mid-page, the next Link comes from the retried response', async () => {
    let firstPage = 0;
    await using registry = await startServer((request, response) => {
      if (request.url.includes('last=a')) {
        json(response, 200, { name: 'team/app', tags: ['stale'] });
        return;
      }
      firstPage++;
      if (firstPage === 1) {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100', link: '</v2/team/app/tags/list?last=a>; rel="next"' });
        response.write('{"name":"team/app","ta');
        setImmediate(() => response.destroy());
        return;
      }
      json(response, 200, { name: 'team/app', tags: ['a'] });
    });
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/team/app`)).toEqual(['a']);
    expect(firstPage).toBe(2);
  });

  test('a Retry-After of a year on a 503 is not waited for', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 503, {}, { 'retry-after': String(365 * 24 * 3600) });
    });
    await using t = testClient();
    const error = await failure(t.client.listTags(`${registry.host}/team/app`));
    expect(error.code).toBe('server_error');
    expect(t.sleeps).toEqual([]);
    expect(registry.requests).toHaveLength(1);
  });
});

describe('a long-running client does not hoard expired tokens', () => {
  test('the token cache reports a token once no entry holds it', async () => {
    let nowMs = 0;
    const dropped: string[] = [];
    const cache = createTokenCache({ now: () => nowMs, marginMs: 0, onDrop: (token) => dropped.push(token) });
    let n = 0;
    const fetch = () => Promise.resolve({ token: `t${++n}`, expiresInSeconds: 60, issuedAtMs: undefined });
    const shared = () => Promise.resolve({ token: 'same', expiresInSeconds: 60, issuedAtMs: undefined });
    expect(await cache.get('a', fetch)).toBe('t1');
    nowMs += 61_000;
    expect(await cache.get('a', fetch)).toBe('t2');
    expect(dropped).toEqual(['t1']);
    cache.invalidate('a', 't2');
    expect(dropped).toEqual(['t1', 't2']);
    // A token another key still holds stays live.
    await cache.get('b', shared);
    await cache.get('c', shared);
    cache.invalidate('b', 'same');
    expect(dropped).toEqual(['t1', 't2']);
    cache.invalidate('c', 'same');
    expect(dropped).toEqual(['t1', 't2', 'same']);
  });

  test('the set of secrets to redact stays bounded while tokens are refreshed', async () => {
    let nowMs = Date.parse('2026-01-01T00:00:00Z');
    let minted = 0;
    await using registry = await startServer();
    const live = new Set<string>();
    registry.handle((request, response) => {
      if (request.url.startsWith('/token')) {
        const token = `token-${++minted}-padding`;
        live.clear();
        live.add(token);
        json(response, 200, { token, expires_in: 60 });
        return;
      }
      challenging(() => `${registry.origin}/token`, (header) => live.has(header?.replace(/^Bearer /, '') ?? ''))(request, response);
    });
    const core = createClientCore({ now: () => nowMs, sleep: () => Promise.resolve() });
    try {
      const session = await core.session(registry.host);
      const sizes: number[] = [];
      for (let round = 0; round < 5; round++) {
        expect(await listTags(session, 'team/app')).toEqual(['1.0']);
        sizes.push(core.runtime.secrets.size);
        nowMs += 120_000;
      }
      expect(minted).toBe(5);
      expect(sizes).toEqual([1, 1, 1, 1, 1]);
    } finally {
      await closeCore(core);
    }
  });
});
