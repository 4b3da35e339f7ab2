import { describe, expect, test } from 'vitest';
import type { Credential } from './settings.ts';
import { json, startServer, testClient } from './http.fixture.ts';
import type { Handler, RecordedRequest, TestServer } from './http.fixture.ts';

const PASSWORD = 'pa55-PLANTED-secret';
const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const provider = (credential: Credential) => ({ description: 'test:static', get: () => Promise.resolve(credential) });
const tagsOk = { name: 'team/app', tags: ['1.0'] };

/** A registry that wants bearer tokens from `realm`, and a token server (the registry itself by default) that mints them. */
async function bearerLab(options: { realmServer?: TestServer; realmOrigin?: string; tokenBody?: (request: RecordedRequest, n: number) => unknown; requireBasic?: string } = {}) {
  const registry = await startServer();
  const auth = options.realmServer ?? registry;
  const realmOrigin = options.realmOrigin ?? auth.origin;
  const minted = new Set<string>();
  let count = 0;
  const tokenHandler: Handler = (request, response) => {
    if (options.requireBasic !== undefined && request.headers.authorization !== options.requireBasic) { json(response, 401, {}); return; }
    count++;
    const token = `tok-${count}-${new URL(request.url, 'http://x').searchParams.getAll('scope').join('+')}`;
    minted.add(token);
    json(response, 200, options.tokenBody?.(request, count) ?? { token, expires_in: 300 });
  };
  const registryHandler: Handler = (request, response) => {
    if (request.url.startsWith('/token')) return tokenHandler(request, response);
    const repository = /^\/v2\/(.+)\/tags\/list/.exec(request.url)?.[1] ?? 'x';
    const token = request.headers.authorization?.replace(/^Bearer /, '');
    if (token === undefined || !minted.has(token)) {
      const challenge = `Bearer realm="${realmOrigin}/token",service="lab",scope="repository:${repository}:pull"`;
      json(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': challenge }); return;
    }
    json(response, 200, tagsOk);
  };
  registry.handle(registryHandler);
  if (auth !== registry) auth.handle(tokenHandler);
  return { registry, auth, minted, tokenRequests: () => auth.requests.filter((r) => r.url.startsWith('/token')) };
}

describe('bearer token flow', () => {
  test('anonymous: 401 → token → retry; the token is reused for the same scope', async () => {
    const lab = await bearerLab();
    await using registry = lab.registry;
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/team/app`)).toEqual(['1.0']);
    expect(await t.client.listTags(`${registry.host}/team/app`)).toEqual(['1.0']);
    const token = lab.tokenRequests();
    expect(token).toHaveLength(1);
    const url = new URL(token[0]!.url, 'http://x');
    expect(url.searchParams.get('service')).toBe('lab');
    expect(url.searchParams.getAll('scope')).toEqual(['repository:team/app:pull']);
    expect(token[0]!.headers.authorization).toBeUndefined();
    // 401, token, retry, then one pre-authenticated request
    expect(registry.requests.filter((r) => r.url.startsWith('/v2/'))).toHaveLength(3);
    expect(t.events.flatMap((e) => (e.type === 'request' ? [e.kind] : []))).toEqual(['tags', 'token', 'tags', 'tags']);
  });

  test('tokens are cached per scope: another repository gets its own token', async () => {
    const lab = await bearerLab();
    await using registry = lab.registry;
    await using t = testClient();
    await t.client.listTags(`${registry.host}/team/app`);
    await t.client.listTags(`${registry.host}/team/other`);
    expect(lab.tokenRequests().map((r) => new URL(r.url, 'http://x').searchParams.get('scope'))).toEqual([
      'repository:team/app:pull',
      'repository:team/other:pull',
    ]);
  });

  test('concurrent requests for one scope share one token request', async () => {
    const lab = await bearerLab();
    await using registry = lab.registry;
    await using t = testClient();
    // Learn the challenge first, so the next calls all go for the token up front.
    await t.client.listTags(`${registry.host}/team/warmup`);
    await Promise.all(Array.from({ length: 5 }, () => t.client.listTags(`${registry.host}/team/app`)));
    expect(lab.tokenRequests()).toHaveLength(2);
  });

  test('an expired token is fetched again (expires_in 60 by default, 10 s margin)', async () => {
    let now = 1_000_000;
    const lab = await bearerLab({ tokenBody: (request, n) => ({ access_token: `tok-${n}-${new URL(request.url, 'http://x').searchParams.get('scope') ?? ''}` }) });
    // access_token is minted under a different name than `token`; register it.
    await using registry = lab.registry;
    for (let n = 1; n <= 3; n++) lab.minted.add(`tok-${n}-repository:team/app:pull`);
    await using t = testClient({ now: () => now });
    await t.client.listTags(`${registry.host}/team/app`);
    now += 49_000;
    await t.client.listTags(`${registry.host}/team/app`);
    expect(lab.tokenRequests()).toHaveLength(1);
    now += 2_000;
    await t.client.listTags(`${registry.host}/team/app`);
    expect(lab.tokenRequests()).toHaveLength(2);
  });

  test('a refused token: one re-auth, then unauthorized', async () => {
    const lab = await bearerLab();
    await using registry = lab.registry;
    lab.minted.clear();
    const minted = lab.minted;
    // Tokens are minted but the registry never accepts them.
    minted.add = () => minted;
    await using t = testClient();
    const error = await t.client.listTags(`${registry.host}/team/app`).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, registry: registry.host, repository: 'team/app' });
    expect(lab.tokenRequests()).toHaveLength(1);
    expect(registry.requests.filter((r) => r.url.startsWith('/v2/'))).toHaveLength(2);
  });

  test('basic credentials go to a loopback realm of a loopback registry', async () => {
    const lab = await bearerLab({ requireBasic: basic('alice', PASSWORD) });
    await using registry = lab.registry;
    await using t = testClient({ settings: { [registry.host]: { credentials: provider({ kind: 'basic', username: 'alice', password: PASSWORD }) } } });
    expect(await t.client.listTags(`${registry.host}/team/app`)).toEqual(['1.0']);
    expect(lab.tokenRequests()[0]!.headers.authorization).toBe(basic('alice', PASSWORD));
  });

  test('credentials are withheld from a realm off the registry domain (anonymous token, warning)', async () => {
    await using realm = await startServer();
    // A public registry name reached at 127.0.0.1, whose realm is on another host (localhost).
    const lab = await bearerLab({ realmServer: realm, realmOrigin: realm.origin.replace('127.0.0.1', 'localhost') });
    await using registry = lab.registry;
    await using t = testClient({
      settings: { 'registry.example.com': { origin: registry.origin, credentials: provider({ kind: 'basic', username: 'alice', password: PASSWORD }) } },
    });
    expect(await t.client.listTags('registry.example.com/team/app')).toEqual(['1.0']);
    expect(lab.tokenRequests()[0]!.headers.authorization).toBeUndefined();
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'warning', code: 'credentials_withheld' }));
  });

  test('tokenRealmAllowList lets credentials reach a listed realm', async () => {
    await using realm = await startServer();
    const lab = await bearerLab({ realmServer: realm, realmOrigin: realm.origin.replace('127.0.0.1', 'localhost'), requireBasic: basic('alice', PASSWORD) });
    await using registry = lab.registry;
    await using t = testClient({
      settings: {
        'registry.example.com': {
          origin: registry.origin,
          credentials: provider({ kind: 'basic', username: 'alice', password: PASSWORD }),
          tokenRealmAllowList: ['localhost'],
        },
      },
    });
    expect(await t.client.listTags('registry.example.com/team/app')).toEqual(['1.0']);
    expect(lab.tokenRequests()[0]!.headers.authorization).toBe(basic('alice', PASSWORD));
  });

  test('an identity token is exchanged with the OAuth2 refresh_token POST', async () => {
    await using registry = await startServer();
    registry.handle((request, response) => {
      if (request.url === '/token' && request.method === 'POST') {
        const form = new URLSearchParams(request.body.toString());
        if (form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'REFRESH-planted' && form.get('scope') === 'repository:team/app:pull') {
          json(response, 200, { access_token: 'oauth-token', expires_in: 300 }); return;
        }
        json(response, 400, {}); return;
      }
      if (request.headers.authorization === 'Bearer oauth-token') { json(response, 200, tagsOk); return; }
      json(response, 401, {}, { 'www-authenticate': `Bearer realm="${registry.origin}/token",service="lab"` });
    });
    await using t = testClient({ settings: { [registry.host]: { credentials: provider({ kind: 'identity-token', token: 'REFRESH-planted' }) } } });
    expect(await t.client.listTags(`${registry.host}/team/app`)).toEqual(['1.0']);
  });

  test('a token server refusing the credentials is auth_failed', async () => {
    const lab = await bearerLab({ requireBasic: basic('alice', 'right') });
    await using registry = lab.registry;
    await using t = testClient({ settings: { [registry.host]: { credentials: provider({ kind: 'basic', username: 'alice', password: PASSWORD }) } } });
    await expect(t.client.listTags(`${registry.host}/team/app`)).rejects.toMatchObject({ code: 'auth_failed', status: 401 });
  });
});

describe('basic auth', () => {
  test('Basic challenge answered with the credential, then sent up front', async () => {
    await using registry = await startServer((request, response) => {
      if (request.headers.authorization === basic('bob', PASSWORD)) { json(response, 200, tagsOk); return; }
      json(response, 401, {}, { 'www-authenticate': 'Basic realm="lab"' });
    });
    await using t = testClient({ settings: { [registry.host]: { credentials: provider({ kind: 'basic', username: 'bob', password: PASSWORD }) } } });
    await t.client.listTags(`${registry.host}/team/app`);
    await t.client.listTags(`${registry.host}/team/app`);
    expect(registry.requests.map((r) => r.headers.authorization === undefined)).toEqual([true, false, false]);
  });

  test('without credentials a Basic registry is unauthorized, saying to configure credentials', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 401, {}, { 'www-authenticate': 'Basic realm="lab"' });
    });
    await using t = testClient();
    await expect(t.client.listTags(`${registry.host}/team/app`)).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('configure credentials') as unknown,
    });
  });
});

describe('secrets never leak', () => {
  test('no error message, cause chain or event contains the password or a token', async () => {
    const TOKEN = 'TOKEN-planted-0123456789';
    await using registry = await startServer((request, response) => {
      if (request.url.startsWith('/token')) { json(response, 200, { token: TOKEN, expires_in: 300 }); return; }
      if (request.headers.authorization === `Bearer ${TOKEN}`) {
        // A hostile registry echoing what it was sent.
        json(response, 500, { errors: [{ code: 'UNKNOWN', message: `you sent ${TOKEN} and ${PASSWORD}` }] }); return;
      }
      json(response, 401, {}, { 'www-authenticate': `Bearer realm="${registry.origin}/token",service="lab"` });
    });
    await using t = testClient({ retries: 1, settings: { [registry.host]: { credentials: provider({ kind: 'basic', username: 'carol', password: PASSWORD }) } } });
    const error = await t.client.listTags(`${registry.host}/team/app`).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'server_error' });
    let text = '';
    for (let e: unknown = error; e instanceof Error; e = e.cause) text += `${e.message}\n${e.stack ?? ''}\n`;
    text += JSON.stringify(t.events);
    expect(text).toContain('***');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(Buffer.from(`carol:${PASSWORD}`).toString('base64'));
  });
});
