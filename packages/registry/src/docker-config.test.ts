import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@scanner/test-lab';
import { describe, expect, test } from 'vitest';
import { createDockerConfigCredentials, createDockerConfigJsonCredentials, findDockerConfigKey } from './docker-config.ts';
import { expectFailure } from './failure.fixture.ts';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

/**
 * A fake `docker-credential-<name>` speaking Docker's helper protocol. It logs the server URL it was asked
 * for, then answers from a case on that URL.
 */
async function fakeHelper(binDir: string, name: string, cases: string): Promise<string> {
  const path = join(binDir, `docker-credential-${name}`);
  const log = join(binDir, `${name}.log`);
  await writeFile(
    path,
    `#!/bin/sh
[ "$1" = "get" ] || exit 64
read -r server
echo "$server" >> "${log}"
case "$server" in
${cases}
*) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
  );
  await chmod(path, 0o755);
  return log;
}

describe('findDockerConfigKey', () => {
  const keys = ['https://index.docker.io/v1/', 'ghcr.io', 'https://quay.io/v2/', 'http://localhost:5000', 'registry.example.com:8443/v1/'];
  test.each([
    ['docker.io', 'https://index.docker.io/v1/'],
    ['index.docker.io', 'https://index.docker.io/v1/'],
    ['ghcr.io', 'ghcr.io'],
    ['GHCR.IO', 'ghcr.io'],
    ['quay.io', 'https://quay.io/v2/'],
    ['localhost:5000', 'http://localhost:5000'],
    ['registry.example.com:8443', 'registry.example.com:8443/v1/'],
    ['localhost', undefined],
    ['localhost:5001', undefined],
    ['registry.example.com', undefined],
    ['gcr.io', undefined],
  ])('%s → %s', (host, key) => {
    expect(findDockerConfigKey(keys, host)).toBe(key);
  });

  test('the exact key wins over an earlier host match', () => {
    expect(findDockerConfigKey(['https://ghcr.io/', 'ghcr.io'], 'ghcr.io')).toBe('ghcr.io');
    expect(findDockerConfigKey(['docker.io', 'https://index.docker.io/v1/'], 'docker.io')).toBe('https://index.docker.io/v1/');
  });

  test('Docker Hub also matches keys spelling it docker.io or registry-1.docker.io', () => {
    expect(findDockerConfigKey(['docker.io'], 'docker.io')).toBe('docker.io');
    expect(findDockerConfigKey(['https://registry-1.docker.io'], 'index.docker.io')).toBe('https://registry-1.docker.io');
  });
});

describe('createDockerConfigCredentials: auths', () => {
  test('reads auth, username/password and identitytoken entries', async () => {
    await using dir = await tempDir();
    await writeJson(dir.path, 'config.json', {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'ghcr.io': { username: 'gh', password: 'ghpass' },
        'myregistry.azurecr.io': { auth: b64('00000000-0000-0000-0000-000000000000:'), identitytoken: 'refresh-tok' },
        'empty.example.com': {},
      },
      HttpHeaders: { 'User-Agent': 'x' },
    });
    const docker = createDockerConfigCredentials({ configDir: dir.path });
    expect(await docker('docker.io').get()).toEqual({ kind: 'basic', username: 'hubuser', password: 'hub:pass' });
    expect(await docker('ghcr.io').get()).toEqual({ kind: 'basic', username: 'gh', password: 'ghpass' });
    expect(await docker('myregistry.azurecr.io').get()).toEqual({
      kind: 'identity-token',
      username: '00000000-0000-0000-0000-000000000000',
      token: 'refresh-tok',
    });
    expect(await docker('empty.example.com').get()).toBeUndefined();
    expect(await docker('quay.io').get()).toBeUndefined();
    expect(docker('ghcr.io').description).toBe(`docker-config:${join(dir.path, 'config.json')} for ghcr.io`);
    expect(docker('ghcr.io')).toBe(docker('GHCR.io'));
  });

  test('finds config.json through DOCKER_CONFIG, else ~/.docker', async () => {
    await using dir = await tempDir();
    await mkdir(join(dir.path, 'custom'));
    await mkdir(join(dir.path, 'home', '.docker'), { recursive: true });
    await writeJson(join(dir.path, 'custom'), 'config.json', { auths: { 'ghcr.io': { auth: b64('from:custom') } } });
    await writeJson(join(dir.path, 'home', '.docker'), 'config.json', { auths: { 'ghcr.io': { auth: b64('from:home') } } });
    const viaEnv = createDockerConfigCredentials({ env: { DOCKER_CONFIG: join(dir.path, 'custom') }, homeDir: join(dir.path, 'home') });
    expect(await viaEnv('ghcr.io').get()).toMatchObject({ username: 'from', password: 'custom' });
    const viaHome = createDockerConfigCredentials({ env: {}, homeDir: join(dir.path, 'home') });
    expect(await viaHome('ghcr.io').get()).toMatchObject({ username: 'from', password: 'home' });
  });

  test('a missing config.json means no credentials', async () => {
    await using dir = await tempDir();
    expect(await createDockerConfigCredentials({ configDir: dir.path })('ghcr.io').get()).toBeUndefined();
  });

  test('re-reads the file after expiry', async () => {
    await using dir = await tempDir();
    await writeJson(dir.path, 'config.json', { auths: { 'ghcr.io': { auth: b64('u:one') } } });
    let nowMs = 0;
    const provider = createDockerConfigCredentials({ configDir: dir.path, expireMs: 5_000, now: () => nowMs })('ghcr.io');
    expect(await provider.get()).toMatchObject({ password: 'one' });
    await writeJson(dir.path, 'config.json', { auths: { 'ghcr.io': { auth: b64('u:two') } } });
    expect(await provider.get()).toMatchObject({ password: 'one' });
    nowMs = 5_000;
    expect(await provider.get()).toMatchObject({ password: 'two' });
  });

  test('broken files are credentials errors that name the file, not its content', async () => {
    await using dir = await tempDir();
    const file = await writeJson(dir.path, 'config.json', '{"auths": {"ghcr.io": {"auth": "PlantedS3cret"');
    const docker = createDockerConfigCredentials({ configDir: dir.path });
    const notJson: unknown = await docker('ghcr.io').get().catch((error: unknown) => error);
    expect((notJson as { code?: unknown }).code).toBe('credentials');
    expect((notJson as Error).message).toContain(file);
    expect((notJson as Error).message).not.toContain('PlantedS3cret');

    await writeJson(dir.path, 'config.json', { auths: { 'quay.io': { auth: 'PlantedS3cret!!' } } });
    const badAuth: unknown = await createDockerConfigCredentials({ configDir: dir.path })('quay.io').get().catch((error: unknown) => error);
    expect((badAuth as { code?: unknown }).code).toBe('credentials');
    expect((badAuth as Error).message).toContain('auths["quay.io"].auth');
    expect((badAuth as Error).message).not.toContain('PlantedS3cret');

    await writeJson(dir.path, 'config.json', { auths: { 'quay.io': { auth: 42 } } });
    await expectFailure(createDockerConfigCredentials({ configDir: dir.path })('quay.io').get(), 'credentials', 'auths["quay.io"].auth');
  });
});

describe('createDockerConfigCredentials: credential helpers', () => {
  test('credHelpers and credsStore run docker-credential-<name> get with the server URL on stdin', async () => {
    await using dir = await tempDir();
    const bin = join(dir.path, 'bin');
    await mkdir(bin);
    const testLog = await fakeHelper(
      bin,
      'test',
      `ghcr.io) echo '{"ServerURL":"ghcr.io","Username":"helper-user","Secret":"helper-secret"}' ;;
myregistry.azurecr.io) echo '{"ServerURL":"myregistry.azurecr.io","Username":"<token>","Secret":"refresh"}' ;;`,
    );
    const storeLog = await fakeHelper(bin, 'store', `https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"hub","Secret":"hubsecret"}' ;;`);
    await writeJson(dir.path, 'config.json', {
      auths: { 'ghcr.io': {}, 'quay.io': { auth: b64('ignored:because-credsStore') } },
      credHelpers: { 'ghcr.io': 'test', 'myregistry.azurecr.io': 'test' },
      credsStore: 'store',
    });
    const docker = createDockerConfigCredentials({ configDir: dir.path, env: { PATH: `${bin}:/usr/bin:/bin` } });

    expect(await docker('ghcr.io').get()).toEqual({ kind: 'basic', username: 'helper-user', password: 'helper-secret' });
    expect(await docker('myregistry.azurecr.io').get()).toEqual({ kind: 'identity-token', token: 'refresh' });
    expect(await docker('docker.io').get()).toEqual({ kind: 'basic', username: 'hub', password: 'hubsecret' });
    // credsStore holds nothing for quay.io; like Docker, the file's auths are not consulted once a store is set.
    expect(await docker('quay.io').get()).toBeUndefined();

    const { readFile } = await import('node:fs/promises');
    expect((await readFile(testLog, 'utf8')).trim().split('\n')).toEqual(['ghcr.io', 'myregistry.azurecr.io']);
    expect((await readFile(storeLog, 'utf8')).trim().split('\n')).toEqual(['https://index.docker.io/v1/', 'quay.io']);
  });

  test('a failing or missing helper is a credentials error naming the helper, not its output', async () => {
    await using dir = await tempDir();
    const bin = join(dir.path, 'bin');
    await mkdir(bin);
    await fakeHelper(bin, 'broken', `*) echo "Pl4ntedHelperOutput"; exit 2 ;;`);
    await writeJson(dir.path, 'config.json', { credHelpers: { 'ghcr.io': 'broken', 'quay.io': 'absent' } });
    const docker = createDockerConfigCredentials({ configDir: dir.path, env: { PATH: bin } });
    const broken: unknown = await docker('ghcr.io').get().catch((error: unknown) => error);
    expect((broken as { code?: unknown }).code).toBe('credentials');
    expect((broken as Error).message).toContain('docker-credential-broken get exited with status 2');
    expect((broken as Error).message).not.toContain('Pl4ntedHelperOutput');
    await expectFailure(docker('quay.io').get(), 'credentials', 'docker-credential-absent');
  });

  test('a helper that prints something other than the protocol JSON is rejected', async () => {
    await using dir = await tempDir();
    const bin = join(dir.path, 'bin');
    await mkdir(bin);
    await fakeHelper(bin, 'odd', `ghcr.io) echo 'Pl4nted not json' ;;\nquay.io) echo '{"Secret":"Pl4nted"}' ;;`);
    await writeJson(dir.path, 'config.json', { credsStore: 'odd' });
    const docker = createDockerConfigCredentials({ configDir: dir.path, env: { PATH: bin } });
    for (const host of ['ghcr.io', 'quay.io']) {
      const error: unknown = await docker(host).get().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'credentials' });
      expect((error as Error).message).not.toContain('Pl4nted');
    }
  });

  test('a helper name with a path is refused', async () => {
    await using dir = await tempDir();
    await writeJson(dir.path, 'config.json', { credsStore: '../../bin/evil' });
    await expectFailure(createDockerConfigCredentials({ configDir: dir.path, env: {} })('ghcr.io').get(), 'credentials', 'not a plain name');
  });
});

describe('createDockerConfigJsonCredentials (Kubernetes pull secret file)', () => {
  test('reads auths, and the legacy .dockercfg shape', async () => {
    await using dir = await tempDir();
    const modern = await writeJson(dir.path, '.dockerconfigjson', { auths: { 'https://index.docker.io/v1/': { username: 'k8s', password: 'pw' } } });
    const legacy = await writeJson(dir.path, '.dockercfg', { 'quay.io': { auth: b64('old:style') } });
    expect(await createDockerConfigJsonCredentials(modern, 'docker.io').get()).toEqual({ kind: 'basic', username: 'k8s', password: 'pw' });
    expect(await createDockerConfigJsonCredentials(modern, 'ghcr.io').get()).toBeUndefined();
    expect(await createDockerConfigJsonCredentials(legacy, 'quay.io').get()).toEqual({ kind: 'basic', username: 'old', password: 'style' });
  });

  test('a missing file is an error, since it was named explicitly', async () => {
    await using dir = await tempDir();
    const path = join(dir.path, 'absent.json');
    await expectFailure(createDockerConfigJsonCredentials(path, 'ghcr.io').get(), 'credentials', `dockerconfigjson:${path} for ghcr.io: cannot read the file (ENOENT)`);
  });
});
