import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@scanner/test-lab';
import { describe, expect, test } from 'vitest';
import { parseCredentialSource } from './credentials.ts';
import { expectFailure, failure } from './failure.fixture.ts';

async function script(dir: string, name: string, body: string, mode = 0o755): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, mode);
  return path;
}

describe('parseCredentialSource: static and env', () => {
  test('user:pass strings, static: prefix and objects', async () => {
    expect(await parseCredentialSource('bob:s3:cret').get()).toEqual({ kind: 'basic', username: 'bob', password: 's3:cret' });
    expect(await parseCredentialSource('static:env:pw').get()).toEqual({ kind: 'basic', username: 'env', password: 'pw' });
    expect(await parseCredentialSource({ username: 'a', password: 'b' }).get()).toEqual({ kind: 'basic', username: 'a', password: 'b' });
    expect(await parseCredentialSource({ identityToken: 'tok' }).get()).toEqual({ kind: 'identity-token', token: 'tok' });
    expect(parseCredentialSource('bob:pw').description).toBe('static:bob');
  });

  test('env:VAR reads the variable and re-reads it after expiry', async () => {
    const env: Record<string, string> = { REG_CREDS: 'alice:one' };
    let nowMs = 0;
    const provider = parseCredentialSource('env:REG_CREDS', { env, expireMs: 60_000, now: () => nowMs });
    expect(provider.description).toBe('env:REG_CREDS');
    expect(await provider.get()).toEqual({ kind: 'basic', username: 'alice', password: 'one' });
    env['REG_CREDS'] = 'alice:two';
    expect(await provider.get()).toMatchObject({ password: 'one' });
    nowMs = 60_000;
    expect(await provider.get()).toMatchObject({ password: 'two' });
  });

  test('env:VAR that is unset or malformed is a credentials error naming the variable only', async () => {
    await expectFailure(parseCredentialSource('env:MISSING', { env: {} }).get(), 'credentials', 'MISSING is not set');
    const malformed = parseCredentialSource('env:BAD', { env: { BAD: 'tokenwithoutcolon' } });
    await expectFailure(malformed.get(), 'credentials', 'env:BAD');
    expect((await failure(malformed.get())).message).not.toContain('tokenwithoutcolon');
  });

  test.each([
    ['env:', 'env:VARIABLE_NAME'],
    ['env:A-B', 'env:VARIABLE_NAME'],
    ['ext:relative/script.sh', 'absolute'],
    ['secret:ns-only', 'secret:<namespace>/<name>#<field>'],
    ['pullsecret:ns/name/extra', 'pullsecret:<namespace>/<name>'],
    ['dockerconfigjson:', 'registry host'],
    ['justaword', 'username:password'],
  ])('malformed spec %j is a config error', async (spec, message) => {
    await expectFailure(() => parseCredentialSource(spec), 'config', message);
  });

  test('sources holding many registries need the registry host', async () => {
    await expectFailure(() => parseCredentialSource('docker-config'), 'config');
    expect(parseCredentialSource('docker-config:/nowhere', { registry: 'ghcr.io' }).description).toBe('docker-config:/nowhere/config.json for ghcr.io');
  });
});

describe('parseCredentialSource: ext scripts', () => {
  test('uses the first line of stdout', async () => {
    await using dir = await tempDir();
    const path = await script(dir.path, 'creds.sh', 'echo "robot:t0ken:with:colons"\necho "ignored second line"');
    const provider = parseCredentialSource(`ext:${path}`);
    expect(provider.description).toBe(`ext:${path}`);
    expect(await provider.get()).toEqual({ kind: 'basic', username: 'robot', password: 't0ken:with:colons' });
  });

  test('runs again only after expiry', async () => {
    await using dir = await tempDir();
    const counter = join(dir.path, 'count');
    const path = await script(dir.path, 'count.sh', `echo x >> "${counter}"\necho "u:$(wc -l < "${counter}" | tr -d ' ')"`);
    let nowMs = 0;
    const provider = parseCredentialSource(`ext:${path}`, { expireMs: 1_000, now: () => nowMs });
    const concurrent = await Promise.all([provider.get(), provider.get(), provider.get()]);
    expect(concurrent.map((credential) => credential && 'password' in credential ? credential.password : undefined)).toEqual(['1', '1', '1']);
    nowMs = 999;
    expect(await provider.get()).toMatchObject({ password: '1' });
    nowMs = 1_000;
    expect(await provider.get()).toMatchObject({ password: '2' });
  });

  test('a failing script names the source and exit status, never its output', async () => {
    await using dir = await tempDir();
    const path = await script(dir.path, 'fail.sh', 'echo "leaky:Sup3rSecretOut"\necho "stderr-Sup3rSecretErr" >&2\nexit 3');
    const error: unknown = await parseCredentialSource(`ext:${path}`).get().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'credentials', message: `@scanner/registry: ext:${path} exited with status 3; run it by hand to see why` });
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toMatch(/Sup3rSecret/);
    expect((error as Error).cause).toBeUndefined();
  });

  test('a script that hangs is killed after timeoutMs', async () => {
    await using dir = await tempDir();
    // Not exec'd: the shell's child keeps the pipe open, which must not keep us waiting.
    const path = await script(dir.path, 'hang.sh', 'sleep 30\necho "u:p"');
    await expectFailure(parseCredentialSource(`ext:${path}`, { timeoutMs: 200 }).get(), 'credentials', 'did not finish within 200 ms');
  });

  test('missing or non-executable scripts say what to do', async () => {
    await using dir = await tempDir();
    const plain = await script(dir.path, 'plain.sh', 'echo u:p', 0o644);
    await expectFailure(parseCredentialSource(`ext:${plain}`).get(), 'credentials', 'chmod +x');
    await expectFailure(parseCredentialSource(`ext:${join(dir.path, 'nope.sh')}`).get(), 'credentials', 'not found');
  });

  test('output that is not username:password is rejected without quoting it', async () => {
    await using dir = await tempDir();
    const path = await script(dir.path, 'token.sh', 'echo "JustAT0kenValue"');
    const error: unknown = await parseCredentialSource(`ext:${path}`).get().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'credentials' });
    expect((error as Error).message).not.toContain('JustAT0kenValue');
  });
});

describe('parseCredentialSource: Kubernetes secrets', () => {
  test('secret: reads user:pass from the named field through the injected reader', async () => {
    const reads: unknown[] = [];
    const provider = parseCredentialSource('secret:argocd/some-secret#creds', {
      readKubernetesSecret: (ref) => {
        reads.push(ref);
        return Promise.resolve('bot:pw');
      },
    });
    expect(await provider.get()).toEqual({ kind: 'basic', username: 'bot', password: 'pw' });
    expect(reads).toEqual([{ namespace: 'argocd', name: 'some-secret', field: 'creds' }]);
  });

  test('pullsecret: reads .dockerconfigjson and picks the registry', async () => {
    const auth = Buffer.from('hubuser:hubpass').toString('base64');
    const provider = parseCredentialSource('pullsecret:argocd/dockerhub-secret', {
      registry: 'docker.io',
      readKubernetesSecret: (ref) => {
        expect(ref.field).toBe('.dockerconfigjson');
        return Promise.resolve(JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth } } }));
      },
    });
    expect(provider.description).toBe('pullsecret:argocd/dockerhub-secret for docker.io');
    expect(await provider.get()).toEqual({ kind: 'basic', username: 'hubuser', password: 'hubpass' });
  });

  test('without a reader, get() explains the alternatives', async () => {
    await expectFailure(parseCredentialSource('secret:foo/bar#creds').get(), 'credentials', 'readKubernetesSecret');
  });
});
