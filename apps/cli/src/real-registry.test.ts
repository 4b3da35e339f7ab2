import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasBinary, seedImage, startRegistry, tempDir } from '@scanner/test-lab';
import type { BuiltArtifact, Registry } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './cli.fixture.ts';
import type { InspectJson, SelectJson, TagsJson } from './output.ts';

// End to end against the CNCF distribution registry, with images pushed by skopeo (an independent client).
describe.skipIf(!hasBinary('docker-registry') || !hasBinary('skopeo'))('every strategy against the real registry', () => {
  let registry: Registry;
  const seeded = new Map<string, BuiltArtifact>();

  async function seed(reference: string, spec: Parameters<typeof seedImage>[2]): Promise<void> {
    seeded.set(reference, await seedImage(registry, reference, spec));
  }

  const digestOf = (reference: string): string => {
    const artifact = seeded.get(reference);
    if (artifact === undefined) throw new Error(`test setup: ${reference} was not seeded`);
    return artifact.digest;
  };

  async function select(...args: string[]): Promise<SelectJson> {
    const run = await runCli(['select', ...args, '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as SelectJson;
  }

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    await Promise.all([
      (async () => {
        for (const tag of ['1.0.0', 'v1.2.0', 'v1.2.3', 'v1.3.0-rc.1']) await seed(`e2e/app:${tag}`, { labels: { version: tag } });
      })(),
      (async () => {
        await seed('e2e/multi:1.9.0', { images: [{ architecture: 'amd64' }, { architecture: 'arm64', variant: 'v8' }] });
        await seed('e2e/multi:2.0.0', { images: [{ architecture: 'amd64' }] });
      })(),
      (async () => {
        await seed('e2e/builds:main-bbb', { created: '2024-05-03T00:00:00Z' });
        await seed('e2e/builds:main-ccc', { created: '2024-05-01T00:00:00Z' });
        await seed('e2e/builds:main-aaa', { created: '2024-05-07T00:00:00Z' });
      })(),
      (async () => {
        for (const tag of ['9', '10', '100']) await seed(`e2e/numbered:${tag}`, {});
      })(),
    ]);
  });

  afterAll(async () => {
    await registry.stop();
  });

  const ref = (repository: string): string => `${registry.host}/${repository}`;

  test('tags', async () => {
    const run = await runCli(['tags', ref('e2e/app'), '-o', 'json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as TagsJson).tags).toEqual(['1.0.0', 'v1.2.0', 'v1.2.3', 'v1.3.0-rc.1']);
  });

  test('semver with a range', async () => {
    const json = await select(ref('e2e/app'), '--strategy', 'semver', '--constraint', '^1.2');
    expect(json.selected).toEqual({ tag: 'v1.2.3', digest: digestOf('e2e/app:v1.2.3'), createdAt: null, platforms: null });
  });

  test('semver with a platform filter', async () => {
    const json = await select(ref('e2e/multi'), '--strategy', 'semver', '--platform', 'linux/arm64');
    expect(json.selected).toMatchObject({ tag: '1.9.0', digest: digestOf('e2e/multi:1.9.0'), platforms: ['linux/amd64', 'linux/arm64/v8'] });
  });

  test('newest-build', async () => {
    const json = await select(ref('e2e/builds'), '--strategy', 'newest-build');
    expect(json.selected).toMatchObject({ tag: 'main-aaa', digest: digestOf('e2e/builds:main-aaa'), createdAt: '2024-05-07T00:00:00.000Z' });
    expect(json.candidates.map((candidate) => candidate.tag)).toEqual(['main-aaa', 'main-bbb', 'main-ccc']);
  });

  test('alphabetical', async () => {
    const json = await select(ref('e2e/numbered'), '--strategy', 'alphabetical');
    expect(json.selected).toMatchObject({ tag: '9', digest: digestOf('e2e/numbered:9') });
  });

  test('numerical', async () => {
    const json = await select(ref('e2e/numbered'), '--strategy', 'numerical');
    expect(json.selected).toMatchObject({ tag: '100', digest: digestOf('e2e/numbered:100') });
  });

  test('digest', async () => {
    const json = await select(ref('e2e/app'), '--strategy', 'digest', '--constraint', 'v1.2.0');
    expect(json.selected).toEqual({ tag: 'v1.2.0', digest: digestOf('e2e/app:v1.2.0'), createdAt: null, platforms: null });
  });

  test('digest and inspect commands', async () => {
    const digest = await runCli(['digest', `${ref('e2e/multi')}:1.9.0`]);
    expect(digest).toEqual({ code: 0, stdout: `${digestOf('e2e/multi:1.9.0')}\n`, stderr: '' });
    const inspect = await runCli(['inspect', `${ref('e2e/app')}:v1.2.3`, '-o', 'json']);
    expect(inspect.code).toBe(0);
    const json = JSON.parse(inspect.stdout) as InspectJson;
    expect(json).toMatchObject({ kind: 'manifest', digest: digestOf('e2e/app:v1.2.3'), labels: { version: 'v1.2.3' } });
    expect(json.platforms.map((entry) => entry.platform)).toEqual(['linux/amd64']);
  });

  test('digest of several images in one run: a line each, in the order given; a missing one is reported and the rest still print', async () => {
    const requests: string[] = [];
    const images = [`${ref('e2e/multi')}:2.0.0`, `${ref('e2e/app')}:1.0.0`, `${ref('e2e/app')}:9.9.9`, `${ref('e2e/numbered')}:10`, `${ref('e2e/app')}:1.0.0`];
    const run = await runCli(['digest', ...images], { onEvent: (event) => event.type === 'request' && requests.push(event.url) });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      [`${images[0]} ${digestOf('e2e/multi:2.0.0')}`, `${images[1]} ${digestOf('e2e/app:1.0.0')}`, `${images[3]} ${digestOf('e2e/numbered:10')}`, `${images[1]} ${digestOf('e2e/app:1.0.0')}`, ''].join('\n'),
    );
    expect(run.stderr).toMatch(new RegExp(`^scanner: ${images[2]?.replace(/[.]/g, '\\.')}: .*9\\.9\\.9.*\n$`));
    // The repeated image is resolved once.
    expect(requests.filter((url) => url.endsWith('/e2e/app/manifests/1.0.0'))).toHaveLength(1);

    const json = await runCli(['digest', images[1] ?? '', ref('e2e/app'), images[2] ?? '', '-o', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([
      { image: images[1], digest: digestOf('e2e/app:1.0.0') },
      // A bare repository means :latest, which e2e/app does not have.
      { image: `${ref('e2e/app')}:latest`, error: { code: 'MANIFEST_UNKNOWN', message: expect.stringContaining('latest') as unknown } },
      { image: images[2], error: { code: 'MANIFEST_UNKNOWN', message: expect.stringContaining('9.9.9') as unknown } },
    ]);
  });

  test('no match against the real registry exits 3', async () => {
    const run = await runCli(['select', ref('e2e/app'), '--constraint', '>=2']);
    expect(run).toEqual({ code: 3, stdout: '', stderr: `scanner: no tag of ${ref('e2e/app')} matched the policy\n` });
  });
});

describe.skipIf(!hasBinary('docker-registry') || !hasBinary('skopeo'))('basic auth on the real registry', () => {
  test('configured credentials work; rejected ones fail with exit 1 and are never printed', async () => {
    await using registry = await startRegistry({ auth: 'basic' });
    await using dir = await tempDir('scanner-cli-basic-');
    const credentials = registry.credentials;
    if (credentials === undefined) throw new Error('test setup: a basic-auth registry has credentials');
    const seeded = await seedImage(registry, 'team/app:1.4.0', {});
    const config = join(dir.path, 'registries.yaml');
    await writeFile(config, `registries:\n  - name: lab\n    prefix: ${registry.host}\n    credentials: env:LAB_CREDS\n`);
    const argv = ['select', `${registry.host}/team/app`, '--registries-config', config, '-o', 'json', '--debug'];

    const good = await runCli(argv, { env: { LAB_CREDS: `${credentials.username}:${credentials.password}` } });
    expect(good.code).toBe(0);
    expect((JSON.parse(good.stdout) as SelectJson).selected).toMatchObject({ tag: '1.4.0', digest: seeded.digest });

    const wrong = 'not-the-Passw0rd-42';
    const bad = await runCli(argv, { env: { LAB_CREDS: `${credentials.username}:${wrong}` } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    const output = good.stdout + good.stderr + bad.stderr;
    for (const secret of [wrong, credentials.password, Buffer.from(`${credentials.username}:${wrong}`).toString('base64')]) {
      expect(output).not.toContain(secret);
    }
  });
});

// The example: Argo CD Image Updater's `default: true` entry takes names without a registry.
describe.skipIf(!hasBinary('docker-registry') || !hasBinary('skopeo'))('the default registries config entry', () => {
  test('scanner tags lab/web --registries-config FILE goes to the default entry, not Docker Hub', async () => {
    await using registry = await startRegistry({ auth: 'none' });
    await using dir = await tempDir('scanner-cli-default-');
    const seeded = await seedImage(registry, 'lab/web:1.0.0', {});
    await seedImage(registry, 'lab/web:1.1.0', {});
    await seedImage(registry, 'library/nginx:1.27.0', {});
    const config = join(dir.path, 'registries.yaml');
    await writeFile(config, `registries:\n  - name: lab\n    prefix: ${registry.host}\n    api_url: ${registry.url}\n    default: true\n`);

    const tags = await runCli(['tags', 'lab/web', '--registries-config', config, '-o', 'json']);
    expect(tags.stderr).toBe('');
    expect(tags.code).toBe(0);
    expect(JSON.parse(tags.stdout)).toEqual({ image: `${registry.host}/lab/web`, tags: ['1.0.0', '1.1.0'] });

    // Also from SCANNER_REGISTRIES_CONFIG, for digest (a tag), select and inspect.
    const env = { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent/docker', SCANNER_REGISTRIES_CONFIG: config };
    expect(await runCli(['digest', 'lab/web:1.0.0'], { env })).toEqual({ code: 0, stdout: `${seeded.digest}\n`, stderr: '' });
    const select = await runCli(['select', 'lab/web', '-o', 'json'], { env });
    expect(select.code).toBe(0);
    expect((JSON.parse(select.stdout) as SelectJson).selected?.tag).toBe('1.1.0');
    const inspect = await runCli(['inspect', 'lab/web:1.0.0', '-o', 'json'], { env });
    expect((JSON.parse(inspect.stdout) as InspectJson).digest).toBe(seeded.digest);
    // A one-component name stays that repository on a registry that is not Docker Hub (no "library/").
    const nginx = await runCli(['tags', 'nginx', '-o', 'json'], { env });
    expect(nginx.stderr).toMatch(/NAME_UNKNOWN|not found|unknown/i);
    const official = await runCli(['tags', 'library/nginx', '-o', 'json'], { env });
    expect(JSON.parse(official.stdout)).toEqual({ image: `${registry.host}/library/nginx`, tags: ['1.27.0'] });
  });

  test('without a default entry, a name without a registry still means Docker Hub (no request is made there)', async () => {
    await using dir = await tempDir('scanner-cli-default-');
    const config = join(dir.path, 'registries.yaml');
    await writeFile(config, 'registries:\n  - name: other\n    prefix: registry.example:5000\n');
    // --timeout keeps this offline-safe: the network guard refuses Docker Hub, and the bound ends the run.
    const run = await runCli(['tags', 'lab/web', '--registries-config', config, '--timeout', '2s', '--debug']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('registry-1.docker.io');
  });
});
