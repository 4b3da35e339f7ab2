import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { hasBinary } from './binary.ts';
import { buildImage } from './image-fixture.ts';
import { waitForPort } from './net.ts';
import { startRegistry, type Credentials } from './registry.ts';
import { seedImage, seedTags, skopeoInspectRaw } from './skopeo.ts';

const basic = (credentials: Credentials): string => `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;

async function bearer(realm: string, service: string, scope: string, credentials?: Credentials): Promise<string> {
  const url = new URL(realm);
  url.searchParams.set('service', service);
  url.searchParams.set('scope', scope);
  const response = await fetch(url, credentials ? { headers: { authorization: basic(credentials) } } : {});
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string };
  return `Bearer ${body.token}`;
}

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe.skipIf(!hasBinary('docker-registry') || !hasBinary('skopeo') || !hasBinary('htpasswd') || !hasBinary('openssl'))('startRegistry', () => {
  test("auth 'none' answers /v2/, takes a skopeo push and serves the same bytes", async () => {
    await using registry = await startRegistry();
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(registry.host).toBe(`127.0.0.1:${registry.port}`);
    expect(registry.credentials).toBeUndefined();
    expect(registry.tokenServer).toBeUndefined();
    const ping = await fetch(`${registry.url}/v2/`);
    expect(ping.status).toBe(200);
    expect(ping.headers.get('docker-distribution-api-version')).toBe('registry/2.0');

    const image = await seedImage(registry, 'library/alpine:3.20', { labels: { 'org.opencontainers.image.version': '3.20' } });
    const raw = await skopeoInspectRaw(`docker://${registry.host}/library/alpine:3.20`);
    expect(sha256(raw)).toBe(image.digest);
    const head = await fetch(`${registry.url}/v2/library/alpine/manifests/3.20`, { method: 'HEAD', headers: { accept: image.mediaType } });
    expect(head.headers.get('docker-content-digest')).toBe(image.digest);
    expect(registry.logs()).toContain('listening on 127.0.0.1');
  });

  test('stop kills the registry and removes its temp dir', async () => {
    const registry = await startRegistry();
    expect(existsSync(registry.dir)).toBe(true);
    await registry.stop();
    await registry.stop();
    expect(existsSync(registry.dir)).toBe(false);
    await expect(waitForPort(registry.port, { timeoutMs: 200 })).rejects.toThrow(/nothing listened/);
  });

  test("auth 'basic' challenges with Basic, accepts the generated user and refuses others", async () => {
    await using registry = await startRegistry({ auth: 'basic' });
    const credentials = registry.credentials!;
    const anonymous = await fetch(`${registry.url}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="test-lab"');
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic(credentials) } })).status).toBe(200);
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic({ ...credentials, password: 'wrong' }) } })).status).toBe(401);

    const image = await seedImage(registry, 'team/app:1.0.0');
    const raw = await skopeoInspectRaw(`docker://${registry.host}/team/app:1.0.0`, { creds: credentials });
    expect(sha256(raw)).toBe(image.digest);
    await expect(skopeoInspectRaw(`docker://${registry.host}/team/app:1.0.0`)).rejects.toThrow(/exited with/);
  });

  test('basic auth takes a caller-chosen user, and the password never shows up in a failure message', async () => {
    await using registry = await startRegistry({ auth: 'basic', username: 'alice', password: 's3cret-Pass' });
    expect(registry.credentials).toEqual({ username: 'alice', password: 's3cret-Pass' });
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic(registry.credentials!) } })).status).toBe(200);
    const failure = await skopeoInspectRaw(`docker://${registry.host}/missing/repo:tag`, { creds: registry.credentials! }).then(() => undefined, (error: unknown) => error as Error);
    expect(failure?.message).toContain('alice:***');
    expect(failure?.message).not.toContain('s3cret-Pass');
  });

  test("auth 'token' challenges with Bearer and the token server's realm, and skopeo pushes through it", async () => {
    await using registry = await startRegistry({ auth: 'token', publicRepositories: ['library/public'] });
    const tokenServer = registry.tokenServer!;
    const credentials = registry.credentials!;
    const ping = await fetch(`${registry.url}/v2/`);
    expect(ping.status).toBe(401);
    expect(ping.headers.get('www-authenticate')).toBe(`Bearer realm="${tokenServer.url}",service="${tokenServer.service}"`);

    const image = await seedImage(registry, 'library/public:v1');
    await seedImage(registry, 'team/private:v1', image);
    const pushes = tokenServer.requests().filter((request) => request.scopes.some((scope) => scope.includes('push')));
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.every((request) => request.account === credentials.username && request.status === 200)).toBe(true);

    // anonymous pull of a public repository works end to end with a real registry
    const raw = await skopeoInspectRaw(`docker://${registry.host}/library/public:v1`);
    expect(sha256(raw)).toBe(image.digest);
    // an anonymous token carries no pull on a private repository, so the registry refuses it
    const privateToken = await bearer(tokenServer.url, tokenServer.service, 'repository:team/private:pull');
    const refused = await fetch(`${registry.url}/v2/team/private/manifests/v1`, { headers: { authorization: privateToken, accept: image.mediaType } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('scope="repository:team/private:pull"');
    const userToken = await bearer(tokenServer.url, tokenServer.service, 'repository:team/private:pull', credentials);
    const allowed = await fetch(`${registry.url}/v2/team/private/manifests/v1`, { headers: { authorization: userToken, accept: image.mediaType } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('docker-content-digest')).toBe(image.digest);
  });

  test('token auth refuses an anonymous push', async () => {
    await using registry = await startRegistry({ auth: 'token', publicRepositories: 'all' });
    const tokenServer = registry.tokenServer!;
    const token = await bearer(tokenServer.url, tokenServer.service, 'repository:library/public:pull,push');
    const upload = await fetch(`${registry.url}/v2/library/public/blobs/uploads/`, { method: 'POST', headers: { authorization: token } });
    expect(upload.status).toBe(401);
    // distribution lists the actions of a challenge in map order, so either order is correct
    expect(upload.headers.get('www-authenticate')).toMatch(/scope="repository:library\/public:(?:pull,push|push,pull)"/);
    const last = tokenServer.requests().at(-1);
    expect(last).toMatchObject({ grantType: 'anonymous', account: undefined, granted: [{ type: 'repository', name: 'library/public', actions: ['pull'] }] });
    await expect(seedImage({ host: registry.host, credentials: undefined }, 'library/public:v1')).rejects.toThrow(/exited with/);
  });

  test.each([
    { tokenKey: 'ec', tokenKeyReference: 'x5c' },
    { tokenKey: 'rsa', tokenKeyReference: 'kid' },
    { tokenKey: 'rsa', tokenKeyReference: 'x5c' },
  ] as const)('token auth with a $tokenKey key named by $tokenKeyReference is accepted by the registry', async (options) => {
    await using registry = await startRegistry({ auth: 'token', ...options });
    const image = await seedImage(registry, 'team/app:v1', buildImage({ architecture: 'arm64', variant: 'v8' }));
    const raw = await skopeoInspectRaw(`docker://${registry.host}/team/app:v1`, { creds: registry.credentials! });
    expect(sha256(raw)).toBe(image.digest);
  });

  test('seeds Docker schema 2 manifest lists and OCI indexes with digests preserved', async () => {
    await using registry = await startRegistry();
    for (const mediaTypes of ['docker', 'oci'] as const) {
      const index = await seedImage(registry, `multi/${mediaTypes}:latest`, {
        mediaTypes,
        images: [{ architecture: 'amd64' }, { architecture: 'arm64', variant: 'v8' }],
      });
      if (index.kind !== 'index') throw new Error('expected an index');
      const response = await fetch(`${registry.url}/v2/multi/${mediaTypes}/manifests/latest`, { headers: { accept: index.mediaType } });
      expect(response.headers.get('content-type')).toBe(index.mediaType);
      expect(response.headers.get('docker-content-digest')).toBe(index.digest);
      for (const child of index.images) {
        const childResponse = await fetch(`${registry.url}/v2/multi/${mediaTypes}/manifests/${child.digest}`, { headers: { accept: child.mediaType } });
        expect(childResponse.status).toBe(200);
        expect(sha256(await childResponse.text())).toBe(child.digest);
      }
    }
  });

  test.each(['none', 'basic', 'token'] as const)("seedTags gives one repository many tags (auth '%s')", async (auth) => {
    await using registry = await startRegistry({ auth });
    const index = await seedTags(registry, 'team/app', ['1.0.0', '1.1.0', 'latest'], { images: [{ architecture: 'amd64' }, { architecture: 'arm64' }] });
    const authorization = registry.credentials && auth === 'basic' ? basic(registry.credentials) : registry.tokenServer && registry.credentials
      ? await bearer(registry.tokenServer.url, registry.tokenServer.service, 'repository:team/app:pull', registry.credentials)
      : undefined;
    const headers = authorization ? { authorization } : undefined;
    const list = await fetch(`${registry.url}/v2/team/app/tags/list`, headers ? { headers } : {});
    expect(((await list.json()) as { tags: string[] }).tags.toSorted()).toEqual(['1.0.0', '1.1.0', 'latest']);
    const head = await fetch(`${registry.url}/v2/team/app/manifests/latest`, { method: 'HEAD', headers: { accept: index.mediaType, ...headers } });
    expect(head.headers.get('docker-content-digest')).toBe(index.digest);
    await expect(seedTags(registry, 'team/app', [])).rejects.toThrow(/at least one tag/);
  });

  test('rejects an unknown auth mode', async () => {
    await expect(startRegistry({ auth: 'oauth' as never })).rejects.toThrow(/unknown registry auth mode "oauth"/);
    await expect(startRegistry({ auth: 'oauth' as never })).rejects.toMatchObject({ name: 'TestLabError', code: 'INVALID_OPTION' });
  });
});
