import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildImage, hasBinary, seedTags, startRegistry, tempDir } from '@scanner/test-lab';
import type { Registry, TempDir } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRegistryClient } from './client.ts';
import { failure } from './failure.fixture.ts';
import { createRegistryClientFromConfig } from './from-config.ts';
import { namesRegistry, parseReference } from './reference-resolution.ts';
import { createScanner } from './scanner.ts';

describe('parseReference: a name without a registry goes to the default registry', () => {
  test.each([
    ['lab/web', 'registry.lab:5000', 'registry.lab:5000/lab/web'],
    ['lab/web:1.2', 'registry.lab:5000', 'registry.lab:5000/lab/web:1.2'],
    ['nginx', 'registry.lab:5000', 'registry.lab:5000/nginx'],
    ['ghcr.io/org/app', 'registry.lab:5000', 'ghcr.io/org/app'],
    ['localhost/app', 'registry.lab:5000', 'localhost/app'],
    ['127.0.0.1:5000/app:1', 'registry.lab:5000', '127.0.0.1:5000/app:1'],
    ['nginx', undefined, 'docker.io/library/nginx'],
    ['nginx', 'docker.io', 'docker.io/library/nginx'],
    ['lab/web', 'index.docker.io', 'docker.io/lab/web'],
  ])('%s with default %s is %s', (input, defaultRegistry, expected) => {
    expect(String(parseReference(input, { defaultRegistry }))).toBe(expected);
  });

  test("Docker's rule for a first component that is a registry", () => {
    expect([namesRegistry('nginx:1.25'), namesRegistry('lab/web'), namesRegistry('a.b/web'), namesRegistry('host:5000/web'), namesRegistry('localhost/web')]).toEqual([false, false, true, true, true]);
  });

  test('a bad reference is invalid_reference with the input as a field', async () => {
    const error = (await failure(() => parseReference('Lab/WEB', { defaultRegistry: 'registry.lab' }))) as unknown as { code: string; fields: { input?: string } };
    expect(error.code).toBe('invalid_reference');
    expect(error.fields.input).toBe('Lab/WEB');
  });
});

// The real distribution registry with htpasswd auth, reached through a registries config file the way a
// consumer (and the CLI) wires it: credentials from the file, names without a registry to its default entry.
describe.skipIf(!hasBinary('docker-registry') || !hasBinary('skopeo'))('createRegistryClientFromConfig on the real registry', () => {
  let registry: Registry;
  let dir: TempDir;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'basic' });
    dir = await tempDir('scanner-from-config-');
    await seedTags(registry, 'lab/web', ['1.0.0', '1.1.0'], buildImage({ seed: 'from-config' }));
    await seedTags(registry, 'team/api', ['2.0.0'], buildImage({ seed: 'api' }));
  }, 120_000);

  afterAll(async () => {
    await dir[Symbol.asyncDispose]();
    await registry.stop();
  });

  async function configFile(extra = ''): Promise<string> {
    const path = join(dir.path, `registries-${Math.random().toString(36).slice(2)}.conf`);
    const { username, password } = registry.credentials ?? { username: '', password: '' };
    await writeFile(path, `registries:\n  - name: lab\n    prefix: ${registry.host}\n    default: true\n    credentials:\n      username: ${username}\n      password: ${password}\n${extra}`);
    return path;
  }

  test('`lab/web` goes to the default: true entry (not Docker Hub), with the credentials of the file', async () => {
    await using client = await createRegistryClientFromConfig({ registriesConfig: await configFile(), env: {}, dockerConfig: false });
    expect((await client.listTags('lab/web')).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(String(await client.resolveReference('lab/web:1.0.0'))).toBe(`${registry.host}/lab/web:1.0.0`);
    await using scanner = createScanner({ client });
    expect((await scanner.tags('lab/web')).sort()).toEqual(['1.0.0', '1.1.0']);
    const result = await scanner.select('lab/web', { strategy: 'semver', constraint: '^1' });
    expect(result.image).toBe(`${registry.host}/lab/web`);
    expect(result.selected?.tag).toBe('1.1.0');
  });

  test("the default entry's defaultns applies to single-component names", async () => {
    await using client = await createRegistryClientFromConfig({ registriesConfig: await configFile('    defaultns: team\n'), env: {}, dockerConfig: false });
    expect(String(await client.resolveReference('api'))).toBe(`${registry.host}/team/api`);
    expect(await client.listTags('api')).toEqual(['2.0.0']);
  });

  test('without a config, Docker config.json credentials are used (DOCKER_CONFIG from env)', async () => {
    const { username, password } = registry.credentials ?? { username: '', password: '' };
    const dockerDir = join(dir.path, 'docker');
    await import('node:fs/promises').then(({ mkdir }) => mkdir(dockerDir, { recursive: true }));
    await writeFile(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }));
    await using client = await createRegistryClientFromConfig({ env: { DOCKER_CONFIG: dockerDir } });
    expect((await client.listTags(`${registry.host}/lab/web`)).sort()).toEqual(['1.0.0', '1.1.0']);
  });

  test('an invalid file fails up front with a config error naming file and key', async () => {
    const path = join(dir.path, 'bad.conf');
    await writeFile(path, 'registries:\n  - name: x\n    prefix: ghcr.io\n    operation_timeout: soon\n');
    const error = await failure(createRegistryClientFromConfig({ registriesConfig: path, env: {}, dockerConfig: false }));
    expect(error.code).toBe('config');
    expect(error.message).toContain(path);
    expect(error.message).toContain('registries[0].operation_timeout');
  });

  test('createRegistryClient honours defaultRegistry directly; clients and scanners close idempotently', async () => {
    const { username, password } = registry.credentials ?? { username: '', password: '' };
    const client = createRegistryClient({
      defaultRegistry: registry.host,
      settings: { [registry.host]: { credentials: { description: 'test', get: () => Promise.resolve({ kind: 'basic', username, password }) } } },
    });
    expect((await client.listTags('lab/web')).sort()).toEqual(['1.0.0', '1.1.0']);
    await client.close();
    await client[Symbol.asyncDispose]();
    const scanner = createScanner();
    await scanner.close();
    await scanner[Symbol.asyncDispose]();
  });
});
