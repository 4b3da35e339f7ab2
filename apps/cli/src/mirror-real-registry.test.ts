import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasBinary, seedImage, skopeoInspectRaw, startFaultProxy, startRegistry, tempDir } from '@scanner/test-lab';
import type { Registry, TempDir } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './cli.fixture.ts';
import type { PlanJson, SyncJson } from './mirror-output.ts';

// End to end on the CNCF distribution registry: an open source registry and two targets, one behind htpasswd
// (basic auth), one behind token auth with its token server; images pushed by skopeo, digests read back by
// skopeo (an independent client). Credentials reach the CLI only through the registries config's `env:`.
const BINARIES = ['docker-registry', 'skopeo', 'htpasswd', 'openssl'];
const missing = BINARIES.filter((binary) => !hasBinary(binary));
// Under CI a missing binary fails the run instead of skipping it.
if (process.env['CI'] === 'true' && missing.length > 0) throw new Error(`the mirror end-to-end tests need ${missing.join(', ')}`);

const packageDir = fileURLToPath(new URL('..', import.meta.url));

function sha256(bytes: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe.skipIf(missing.length > 0)('scanner plan and sync on real registries (open source, htpasswd and token targets)', () => {
  let source: Registry;
  let main: Registry;
  let regional: Registry;
  let dir: TempDir;
  let config: string;
  let env: Record<string, string>;
  let secrets: string[];
  const started: AsyncDisposable[] = [];

  /** The digest skopeo reads for `docker://reference` (raw manifest bytes), with the registry's credentials. */
  async function skopeoDigest(registry: Registry, reference: string): Promise<string> {
    const raw = await skopeoInspectRaw(`docker://${reference}`, registry.credentials === undefined ? {} : { creds: registry.credentials });
    return sha256(raw);
  }

  function registryOf(reference: string): Registry {
    const found = [source, main, regional].find((registry) => reference.startsWith(`${registry.host}/`));
    if (found === undefined) throw new Error(`test setup: no lab registry for ${reference}`);
    return found;
  }

  function expectNoSecret(text: string): void {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }

  beforeAll(async () => {
    [source, main, regional] = await Promise.all([startRegistry({ auth: 'none' }), startRegistry({ auth: 'basic' }), startRegistry({ auth: 'token' })]);
    started.push(source, main, regional);
    dir = await tempDir('scanner-cli-mirror-e2e-');
    started.push(dir);
    for (const tag of ['16.1.0', '16.2.0', '15.9.0']) await seedImage(source, `bitnami/postgresql:${tag}`, { seed: `pg-${tag}`, layers: 2 });
    await seedImage(source, 'bitnami/postgresql:latest', { seed: 'pg-latest' });
    await seedImage(source, 'library/nginx:1.27.0', { images: [{ platform: 'linux/amd64', seed: 'ngx' }, { platform: 'linux/arm64', seed: 'ngx' }] });

    config = join(dir.path, 'mirror');
    await mkdir(config);
    await writeFile(join(config, 'targets.yaml'), `targets:\n  - name: main\n    registry: ${main.host}\n  - name: regional\n    registry: ${regional.host}\n    prefix: acme\n`);
    await writeFile(
      join(config, 'team-storage.yaml'),
      `owner: team-storage\nprovenance: true\nimages:\n  - source: ${source.host}/bitnami/postgresql\n    tags:\n      - semver: '>=16.0.0'\n      - names: [latest]\n    mutable: [latest]\n`,
    );
    await writeFile(join(config, 'team-web.yaml'), `owner: team-web\ntargets: [main]\nimages:\n  - source: ${source.host}/library/nginx\n    tags:\n      - names: ['1.27.0']\n`);
    const registries = join(dir.path, 'registries.yaml');
    await writeFile(
      registries,
      `registries:\n  - name: main\n    prefix: ${main.host}\n    credentials: env:MAIN_CREDS\n  - name: regional\n    prefix: ${regional.host}\n    credentials: env:REGIONAL_CREDS\n`,
    );
    const mainCreds = main.credentials;
    const regionalCreds = regional.credentials;
    if (mainCreds === undefined || regionalCreds === undefined) throw new Error('test setup: the targets have credentials');
    env = {
      HOME: '/nonexistent',
      DOCKER_CONFIG: '/nonexistent/docker',
      SCANNER_REGISTRIES_CONFIG: registries,
      MAIN_CREDS: `${mainCreds.username}:${mainCreds.password}`,
      REGIONAL_CREDS: `${regionalCreds.username}:${regionalCreds.password}`,
    };
    secrets = [mainCreds.password, regionalCreds.password, Buffer.from(env['MAIN_CREDS'] ?? '').toString('base64'), Buffer.from(env['REGIONAL_CREDS'] ?? '').toString('base64')];
  });

  afterAll(async () => {
    await Promise.allSettled(started.map((resource) => resource[Symbol.asyncDispose]()));
  });

  test('sync mirrors every tag with the source digest; a second plan has nothing to do; a moved mutable tag is updated', async () => {
    const first = await runCli(['sync', '--config', config, '-o', 'json'], { env });
    expectNoSecret(first.stdout + first.stderr);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as SyncJson;
    expect(report.errors).toEqual([]);
    expect(report.items.map((item) => [item.targetName, item.target, item.result])).toEqual([
      ['main', `${main.host}/bitnami/postgresql:16.1.0`, 'copied'],
      ['main', `${main.host}/bitnami/postgresql:16.2.0`, 'copied'],
      ['main', `${main.host}/bitnami/postgresql:latest`, 'copied'],
      ['regional', `${regional.host}/acme/bitnami/postgresql:16.1.0`, 'copied'],
      ['regional', `${regional.host}/acme/bitnami/postgresql:16.2.0`, 'copied'],
      ['regional', `${regional.host}/acme/bitnami/postgresql:latest`, 'copied'],
      ['main', `${main.host}/library/nginx:1.27.0`, 'copied'],
    ]);
    for (const item of report.items) {
      const sourceDigest = await skopeoDigest(source, item.source);
      expect(await skopeoDigest(registryOf(item.target), item.target)).toBe(sourceDigest);
    }
    expect(report.stats.provenanceWritten).toBe(6);

    const again = await runCli(['plan', '--config', config, '-o', 'json'], { env });
    expectNoSecret(again.stdout + again.stderr);
    expect(again.code).toBe(0);
    const plan = JSON.parse(again.stdout) as PlanJson;
    expect(plan.items).toHaveLength(7);
    expect(plan.items.filter((item) => item.action !== 'skip')).toEqual([]);
    expect(plan.errors).toEqual([]);
    expect(plan.pulls).toEqual({});

    // The provenance of a copy at the token-auth target.
    const inspect = await runCli(['inspect', `${regional.host}/acme/bitnami/postgresql:16.2.0`], { env });
    expect(inspect.code).toBe(0);
    const sourceDigest = await skopeoDigest(source, `${source.host}/bitnami/postgresql:16.2.0`);
    expect(inspect.stdout).toContain(`\nprovenance  copy of ${source.host}/bitnami/postgresql@${sourceDigest}, owned by team-storage\n`);

    // The upstream moves `latest`: the plan says update at both targets, the sync moves both.
    const moved = await seedImage(source, 'bitnami/postgresql:latest', { seed: 'pg-latest-2' });
    const update = JSON.parse((await runCli(['plan', '--config', config, '-o', 'json'], { env })).stdout) as PlanJson;
    expect(update.items.filter((item) => item.action !== 'skip').map((item) => [item.target, item.action, item.sourceDigest])).toEqual([
      [`${main.host}/bitnami/postgresql:latest`, 'update', moved.digest],
      [`${regional.host}/acme/bitnami/postgresql:latest`, 'update', moved.digest],
    ]);
    const resync = await runCli(['sync', '--config', config], { env });
    expectNoSecret(resync.stdout + resync.stderr);
    expect(resync.code).toBe(0);
    expect(resync.stdout).toMatch(/\nsync: 0 copied, 2 updated, 5 already there, 0 failed\n$/);
    expect(await skopeoDigest(main, `${main.host}/bitnami/postgresql:latest`)).toBe(moved.digest);
    expect(await skopeoDigest(regional, `${regional.host}/acme/bitnami/postgresql:latest`)).toBe(moved.digest);
  });

  test('a target that rejects one manifest: that tag fails (exit 1, result failed, target tag absent), the others are copied; the re-run converges', async () => {
    const target = await startRegistry({ auth: 'basic' });
    started.push(target);
    const proxy = await startFaultProxy({ upstream: target.url });
    started.push(proxy);
    const credentials = target.credentials;
    if (credentials === undefined) throw new Error('test setup: a basic-auth registry has credentials');
    const faulty = join(dir.path, 'faulty');
    await mkdir(faulty);
    await writeFile(join(faulty, 'targets.yaml'), `targets:\n  - name: edge\n    registry: ${proxy.host}\n`);
    await writeFile(join(faulty, 'team-web.yaml'), `owner: team-web\nimages:\n  - source: ${source.host}/library/nginx\n    tags:\n      - names: ['1.27.0']\n  - source: ${source.host}/bitnami/postgresql\n    tags:\n      - names: ['16.1.0']\n`);
    const registries = join(dir.path, 'registries-faulty.yaml');
    await writeFile(registries, `registries:\n  - name: edge\n    prefix: ${proxy.host}\n    credentials: env:EDGE_CREDS\n`);
    const faultyEnv = { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent/docker', EDGE_CREDS: `${credentials.username}:${credentials.password}` };
    const rejected = proxy.inject({ method: 'PUT', path: /^\/v2\/library\/nginx\/manifests\/1\.27\.0$/, fault: { kind: 'status', status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"disk full"}]}' } });

    const run = await runCli(['sync', '--config', faulty, '--registries-config', registries, '-o', 'json'], { env: faultyEnv });
    for (const secret of [credentials.password, Buffer.from(faultyEnv.EDGE_CREDS).toString('base64')]) expect(run.stdout + run.stderr).not.toContain(secret);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as SyncJson;
    expect(report.items.map((item) => [item.target, item.result])).toEqual([
      [`${proxy.host}/bitnami/postgresql:16.1.0`, 'copied'],
      [`${proxy.host}/library/nginx:1.27.0`, 'failed'],
    ]);
    const failed = report.items[1];
    expect(failed?.error).toEqual({ code: expect.any(String) as unknown, message: expect.any(String) as unknown });
    // Tried twice (the item, then the retry at the end), and the tag never moved.
    expect(rejected.hits()).toBeGreaterThanOrEqual(2);
    expect(run.stderr).toMatch(/^scanner: \[retry\] failed .*library\/nginx:1\.27\.0/m);
    await expect(skopeoDigest(target, `${target.host}/library/nginx:1.27.0`)).rejects.toThrow(/manifest unknown|not found/i);
    expect(await skopeoDigest(target, `${target.host}/bitnami/postgresql:16.1.0`)).toBe(await skopeoDigest(source, `${source.host}/bitnami/postgresql:16.1.0`));

    rejected.remove();
    const again = await runCli(['sync', '--config', faulty, '--registries-config', registries], { env: faultyEnv });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\nsync: 1 copied, 0 updated, 1 already there, 0 failed\n$/);
    expect(await skopeoDigest(target, `${target.host}/library/nginx:1.27.0`)).toBe(await skopeoDigest(source, `${source.host}/library/nginx:1.27.0`));
  });

  test("the issue's examples, typed as a new user would (the scanner binary, relative paths, SCANNER_REGISTRIES_CONFIG)", async () => {
    const scanner = (args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['--conditions=@scanner/source', join(packageDir, 'src/bin.ts'), ...args],
          { cwd: dir.path, env: { PATH: process.env['PATH'], ...env }, timeout: 120_000 },
          (error, stdout, stderr) => {
            resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
          },
        );
      });

    const plan = await scanner(['plan', '--config', './mirror']);
    expectNoSecret(plan.stdout + plan.stderr);
    expect(plan).toMatchObject({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('team-storage → main: ');
    expect(plan.stdout).toContain('team-web → main: ');

    const json = await scanner(['plan', '--config', './mirror', '--owner', 'team-storage', '--target', 'main', '-o', 'json']);
    expect(json.code).toBe(0);
    const document = JSON.parse(json.stdout) as PlanJson;
    expect(new Set(document.items.map((item) => `${item.owner} ${item.targetName}`))).toEqual(new Set(['team-storage main']));

    const sync = await scanner(['sync', '--config', './mirror']);
    expectNoSecret(sync.stdout + sync.stderr);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/\nsync: \d+ copied, \d+ updated, \d+ already there, 0 failed\n$/);

    await writeFile(join(dir.path, 'sync.yaml'), `${source.host}:\n  images:\n    bitnami/postgresql: ['16.1.0']\n  tls-verify: false\n`);
    const convert = await scanner(['convert', 'skopeo', 'sync.yaml', '--owner', 'team-storage']);
    expect(convert.code).toBe(0);
    expect(convert.stdout).toMatch(/^owner: team-storage$/m);
    expect(convert.stdout).toContain(`source: ${source.host}/bitnami/postgresql`);
    // tls-verify is left to the registries config, with a warning naming where it was.
    expect(convert.stderr).toMatch(/^scanner: warning: sync\.yaml:\d+:\d+ /m);

    const help = await scanner(['help', 'sync']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: scanner sync --config DIR/);
  });
});
