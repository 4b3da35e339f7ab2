import { verify, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { hasBinary } from './binary.ts';
import { startRegistry } from './registry.ts';
import { libtrustKeyId, startTokenServer, type TokenServer } from './token-server.ts';

const users = [{ username: 'alice', password: 'wonderland' }];
const basic = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

interface Jwt {
  header: { alg: string; kid?: string; x5c?: string[]; typ: string };
  claims: { iss: string; sub: string; aud: string; exp: number; nbf: number; iat: number; jti: string; access: { type: string; name: string; actions: string[] }[] };
  signingInput: string;
  signature: Buffer;
}

function decode(token: string): Jwt {
  const [header = '', claims = '', signature = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Jwt['header'],
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Jwt['claims'],
    signingInput: `${header}.${claims}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

async function getToken(server: TokenServer, scopes: string[], authorization?: string, extra: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(server.url);
  url.searchParams.set('service', server.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
  const response = await fetch(url, authorization === undefined ? {} : { headers: { authorization } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function postToken(server: TokenServer, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(server.url, { method: 'POST', body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('libtrustKeyId', () => {
  test('is twelve colon-separated groups of four base32 characters, stable per key', () => {
    const id = libtrustKeyId(Buffer.from('some public key'));
    expect(id).toMatch(/^[A-Z2-7]{4}(?::[A-Z2-7]{4}){11}$/);
    expect(libtrustKeyId(Buffer.from('some public key'))).toBe(id);
    expect(libtrustKeyId(Buffer.from('another key'))).not.toBe(id);
  });
});

describe.skipIf(!hasBinary('openssl'))('startTokenServer', () => {
  test('issues ES256 tokens with a libtrust kid, signed by the certificate it publishes', async () => {
    await using server = await startTokenServer({ service: 'svc', users, publicRepositories: ['library/alpine'] });
    const { status, body } = await getToken(server, ['repository:library/alpine:pull'], basic('alice', 'wonderland'));
    expect(status).toBe(200);
    expect(body['access_token']).toBe(body['token']);
    expect(body['expires_in']).toBe(300);
    expect(typeof body['issued_at']).toBe('string');
    const jwt = decode(body['token'] as string);
    const certificate = new X509Certificate(await readFile(server.certificatePath));
    expect(jwt.header.alg).toBe('ES256');
    expect(jwt.header.kid).toBe(libtrustKeyId(certificate.publicKey.export({ type: 'spki', format: 'der' })));
    expect(verify('sha256', Buffer.from(jwt.signingInput), { key: certificate.publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature)).toBe(true);
    expect(jwt.claims).toMatchObject({ iss: server.issuer, aud: 'svc', sub: 'alice', access: [{ type: 'repository', name: 'library/alpine', actions: ['pull'] }] });
    expect(jwt.claims.exp - jwt.claims.iat).toBe(300);
  });

  test('RS256 with an x5c header carrying the certificate', async () => {
    await using server = await startTokenServer({ service: 'svc', users, keyType: 'rsa', keyReference: 'x5c' });
    const jwt = decode((await getToken(server, [], basic('alice', 'wonderland'))).body['token'] as string);
    const certificate = new X509Certificate(await readFile(server.certificatePath));
    expect(jwt.header.alg).toBe('RS256');
    expect(jwt.header.x5c).toEqual([certificate.raw.toString('base64')]);
    expect(verify('sha256', Buffer.from(jwt.signingInput), certificate.publicKey, jwt.signature)).toBe(true);
  });

  test('grants anonymous pull on public repositories only, and everything asked to the user', async () => {
    await using server = await startTokenServer({ service: 'svc', users, publicRepositories: ['library/alpine', /team\/public-.*/] });
    const anonymous = await getToken(server, ['repository:library/alpine:pull,push', 'repository:team/public-x:pull', 'repository:team/private:pull']);
    expect(decode(anonymous.body['token'] as string).claims.access).toEqual([
      { type: 'repository', name: 'library/alpine', actions: ['pull'] },
      { type: 'repository', name: 'team/public-x', actions: ['pull'] },
    ]);
    const user = await getToken(server, ['repository:team/private:pull,push', 'registry:catalog:*'], basic('alice', 'wonderland'));
    expect(decode(user.body['token'] as string).claims.access).toEqual([
      { type: 'repository', name: 'team/private', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    // a repository name holding a registry host with a port keeps its colon
    const hosted = await getToken(server, ['repository:127.0.0.1:5000/x:pull'], basic('alice', 'wonderland'));
    expect(decode(hosted.body['token'] as string).claims.access).toEqual([{ type: 'repository', name: '127.0.0.1:5000/x', actions: ['pull'] }]);
  });

  test('refuses wrong credentials with 401 and an unknown service with 400, and records every request', async () => {
    await using server = await startTokenServer({ service: 'svc', users });
    expect((await getToken(server, ['repository:a:pull'], basic('alice', 'nope'))).status).toBe(401);
    expect((await getToken(server, ['repository:a:pull'], 'Bearer something')).status).toBe(401);
    const wrongService = await fetch(`${server.url}?service=other&scope=repository:a:pull`);
    expect(wrongService.status).toBe(400);
    expect((await getToken(server, ['repository:a:pull'])).status).toBe(200);
    expect((await fetch(`${server.origin}/elsewhere`)).status).toBe(404);
    expect(server.requests().map(({ grantType, status, account, authorization }) => ({ grantType, status, account, authorization }))).toEqual([
      { grantType: 'basic', status: 401, account: undefined, authorization: true },
      { grantType: 'basic', status: 401, account: undefined, authorization: true },
      { grantType: 'anonymous', status: 400, account: undefined, authorization: false },
      { grantType: 'anonymous', status: 200, account: undefined, authorization: false },
    ]);
    expect(server.requests()[3]?.scopes).toEqual(['repository:a:pull']);
    server.resetRequests();
    expect(server.requests()).toHaveLength(0);
  });

  test('implements the OAuth2 password and refresh_token grants', async () => {
    await using server = await startTokenServer({ service: 'svc', users });
    const password = await postToken(server, { grant_type: 'password', service: 'svc', client_id: 'test', username: 'alice', password: 'wonderland', scope: 'repository:a:pull,push' });
    expect(password.status).toBe(200);
    expect(decode(password.body['access_token'] as string).claims.access).toEqual([{ type: 'repository', name: 'a', actions: ['pull', 'push'] }]);
    const refreshToken = password.body['refresh_token'] as string;
    expect(refreshToken).toEqual(expect.any(String));
    const refreshed = await postToken(server, { grant_type: 'refresh_token', service: 'svc', client_id: 'test', refresh_token: refreshToken, scope: 'repository:b:pull' });
    expect(refreshed.status).toBe(200);
    expect(decode(refreshed.body['access_token'] as string).claims).toMatchObject({ sub: 'alice', access: [{ name: 'b' }] });
    expect((await postToken(server, { grant_type: 'password', service: 'svc', username: 'alice', password: 'x' })).status).toBe(401);
    expect((await postToken(server, { grant_type: 'refresh_token', service: 'svc', refresh_token: 'unknown' })).status).toBe(401);
    expect((await postToken(server, { grant_type: 'client_credentials', service: 'svc' })).status).toBe(400);
    expect(server.requests().map((request) => [request.method, request.grantType, request.status])).toEqual([
      ['POST', 'password', 200], ['POST', 'refresh_token', 200], ['POST', 'password', 401], ['POST', 'refresh_token', 401], ['POST', 'anonymous', 400],
    ]);
    const offline = await getToken(server, [], basic('alice', 'wonderland'), { offline_token: 'true' });
    expect(offline.body['refresh_token']).toEqual(expect.any(String));
  });

  test('token lifetime and clock offset are adjustable', async () => {
    await using server = await startTokenServer({ service: 'svc', users, lifetimeSeconds: 2 });
    const short = await getToken(server, []);
    expect(short.body['expires_in']).toBe(2);
    server.setTokenLifetimeSeconds(60);
    server.setClockOffsetSeconds(-3600);
    const shifted = await getToken(server, []);
    expect(shifted.body['expires_in']).toBe(60);
    const claims = decode(shifted.body['token'] as string).claims;
    expect(claims.exp - claims.iat).toBe(60);
    expect(claims.exp).toBeLessThan(Date.parse(shifted.body['issued_at'] as string) / 1000);
    expect(() => { server.setTokenLifetimeSeconds(0); }).toThrow(/positive whole number of seconds, got 0/);
    await expect(startTokenServer({ service: 'svc', users, lifetimeSeconds: 1.5 })).rejects.toThrow(/got 1.5/);
  });
});

describe.skipIf(!hasBinary('docker-registry') || !hasBinary('openssl'))('token server with the real registry', () => {
  test('the registry refuses a token whose exp is past its leeway', async () => {
    await using registry = await startRegistry({ auth: 'token', publicRepositories: 'all' });
    const server = registry.tokenServer!;
    const fresh = (await getToken(server, ['repository:a:pull'])).body['token'] as string;
    expect((await fetch(`${registry.url}/v2/a/tags/list`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(404);
    server.setClockOffsetSeconds(-3600);
    const stale = (await getToken(server, ['repository:a:pull'])).body['token'] as string;
    const refused = await fetch(`${registry.url}/v2/a/tags/list`, { headers: { authorization: `Bearer ${stale}` } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});
