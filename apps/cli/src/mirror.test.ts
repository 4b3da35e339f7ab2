import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { tempDir } from '@scanner/test-lab';
import type { TempDir } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './cli.fixture.ts';
import { syncTable } from './mirror-output.ts';
import type { PlanJson, SyncJson } from './mirror-output.ts';
import { progressMode } from './progress.ts';

// Three in-memory registries: a source and two targets (the regional one keeps an org prefix), and a config
// directory per test so that each scenario starts from nothing at the targets.
let source: MemoryRegistry;
let dir: TempDir;
let sourceHost: string;

const APP_TAGS = ['1.0.0', '1.1.0', '2.0.0', 'latest'];
const DB_TAGS = ['16.1.0', '16.2.0', '15.9.0'];

interface Targets extends AsyncDisposable {
  readonly main: MemoryRegistry;
  readonly regional: MemoryRegistry;
  readonly mainHost: string;
  readonly regionalHost: string;
}

async function startTargets(): Promise<Targets> {
  const main = createMemoryRegistry();
  const regional = createMemoryRegistry();
  const [{ host: mainHost }, { host: regionalHost }] = await Promise.all([main.listen(), regional.listen()]);
  return {
    main,
    regional,
    mainHost,
    regionalHost,
    async [Symbol.asyncDispose]() {
      await Promise.all([main.close(), regional.close()]);
    },
  };
}

let configCount = 0;

/** Writes a config directory: targets.yaml for `targets`, and the given team files. */
async function writeConfig(targets: Targets, teams: Readonly<Record<string, string>>): Promise<string> {
  configCount += 1;
  const config = join(dir.path, `config-${configCount}`);
  await mkdir(config);
  await writeFile(
    join(config, 'targets.yaml'),
    `targets:\n  - name: main\n    registry: ${targets.mainHost}\n  - name: regional\n    registry: ${targets.regionalHost}\n    prefix: acme\n`,
  );
  for (const [file, text] of Object.entries(teams)) await writeFile(join(config, file), text);
  return config;
}

function teamStorage(): string {
  return `owner: team-storage
images:
  - source: ${sourceHost}/library/postgres
    tags:
      - semver: '>=16.0.0'
    targets: [main]
`;
}

function teamApps(extra = ''): string {
  return `owner: team-apps
${extra}images:
  - source: ${sourceHost}/apps/web
    tags:
      - semver: '^1.0.0'
      - names: [latest]
    mutable: [latest]
`;
}

function digest(registry: MemoryRegistry, repository: string, tag: string): string | undefined {
  return registry.getManifest(repository, tag)?.digest;
}

beforeAll(async () => {
  source = createMemoryRegistry();
  for (const [index, tag] of APP_TAGS.entries()) source.seedImage('apps/web', tag, { seed: `web-${index}`, layers: 2, platforms: ['linux/amd64', 'linux/arm64'] });
  for (const tag of DB_TAGS) source.seedImage('library/postgres', tag, { seed: `pg-${tag}` });
  ({ host: sourceHost } = await source.listen());
  dir = await tempDir('scanner-cli-mirror-');
});

afterAll(async () => {
  await source.close();
  await dir[Symbol.asyncDispose]();
});

describe('scanner plan', () => {
  test('-o json is the stable document: every (tag, target) with its action and digests, missing repositories, pulls', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, { 'team-storage.yaml': teamStorage(), 'team-apps.yaml': teamApps() });
    const run = await runCli(['plan', '--config', config, '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as PlanJson;
    expect(Object.keys(json)).toEqual(['items', 'errors', 'repositories', 'pulls']);
    for (const item of json.items) expect(Object.keys(item)).toEqual(['owner', 'targetName', 'source', 'target', 'action', 'sourceDigest', 'targetDigest']);
    const rows = json.items.map((item) => [item.owner, item.targetName, item.source, item.target, item.action]);
    expect(rows).toEqual([
      ['team-apps', 'main', `${sourceHost}/apps/web:1.0.0`, `${targets.mainHost}/apps/web:1.0.0`, 'copy'],
      ['team-apps', 'main', `${sourceHost}/apps/web:1.1.0`, `${targets.mainHost}/apps/web:1.1.0`, 'copy'],
      ['team-apps', 'main', `${sourceHost}/apps/web:latest`, `${targets.mainHost}/apps/web:latest`, 'copy'],
      ['team-apps', 'regional', `${sourceHost}/apps/web:1.0.0`, `${targets.regionalHost}/acme/apps/web:1.0.0`, 'copy'],
      ['team-apps', 'regional', `${sourceHost}/apps/web:1.1.0`, `${targets.regionalHost}/acme/apps/web:1.1.0`, 'copy'],
      ['team-apps', 'regional', `${sourceHost}/apps/web:latest`, `${targets.regionalHost}/acme/apps/web:latest`, 'copy'],
      ['team-storage', 'main', `${sourceHost}/library/postgres:16.1.0`, `${targets.mainHost}/library/postgres:16.1.0`, 'copy'],
      ['team-storage', 'main', `${sourceHost}/library/postgres:16.2.0`, `${targets.mainHost}/library/postgres:16.2.0`, 'copy'],
    ]);
    // The mutable tag was resolved (HEAD); missing targets have no digest.
    const latest = json.items.find((item) => item.target.endsWith('/apps/web:latest'));
    expect(latest?.sourceDigest).toBe(digest(source, 'apps/web', 'latest'));
    expect(json.items.every((item) => item.targetDigest === null)).toBe(true);
    expect(json.errors).toEqual([]);
    expect(json.repositories).toEqual([
      { targetName: 'main', repository: `${targets.mainHost}/apps/web`, exists: false },
      { targetName: 'main', repository: `${targets.mainHost}/library/postgres`, exists: false },
      { targetName: 'regional', repository: `${targets.regionalHost}/acme/apps/web`, exists: false },
    ]);
    expect(Object.keys(json.pulls)).toEqual([sourceHost]);
    expect(json.pulls[sourceHost]).toBeGreaterThanOrEqual(5);
    // A dry run: nothing was written anywhere.
    expect(targets.main.repositories()).toEqual([]);
    expect(targets.regional.repositories()).toEqual([]);
  });

  test('the table groups by team and target, names missing repositories and the pulls per source registry', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, { 'team-storage.yaml': teamStorage(), 'team-apps.yaml': teamApps() });
    const run = await runCli(['plan', '--config', config]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const headings = run.stdout.split('\n').filter((line) => line.includes(' → '));
    expect(headings).toEqual([
      'team-apps → main: 3 tags to copy, 0 to update, 0 present',
      'team-apps → regional: 3 tags to copy, 0 to update, 0 present',
      'team-storage → main: 2 tags to copy, 0 to update, 0 present',
    ]);
    expect(run.stdout).toContain(`  ! ${targets.regionalHost}/acme/apps/web does not exist yet: create it first`);
    expect(run.stdout).toMatch(new RegExp(`manifest GETs \\(pulls\\) the sync will make, per source registry:\\n +${sourceHost.replaceAll('.', '\\.')} +\\d+\\n`));
    expect(run.stdout).toMatch(/\nplan: 8 to copy, 0 to update, 0 present; 3 target repositories to create first\n$/);
  });

  test('--owner and --target plan only that part; unknown ones are usage errors naming the known ones', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, { 'team-storage.yaml': teamStorage(), 'team-apps.yaml': teamApps() });
    const owner = JSON.parse((await runCli(['plan', '--config', config, '--owner', 'team-apps', '-o', 'json'])).stdout) as PlanJson;
    expect(new Set(owner.items.map((item) => item.owner))).toEqual(new Set(['team-apps']));
    expect(owner.items).toHaveLength(6);
    const target = JSON.parse((await runCli(['plan', '--config', config, '--target', 'regional', '-o', 'json'])).stdout) as PlanJson;
    expect(target.items.map((item) => item.target)).toEqual(['1.0.0', '1.1.0', 'latest'].map((tag) => `${targets.regionalHost}/acme/apps/web:${tag}`));
    const both = JSON.parse((await runCli(['plan', '--config', config, '--owner', 'team-storage', '--target', 'regional', '-o', 'json'])).stdout) as PlanJson;
    expect(both.items).toEqual([]);

    const badOwner = await runCli(['plan', '--config', config, '--owner', 'team-nobody']);
    expect(badOwner).toEqual({ code: 2, stdout: '', stderr: `scanner: --owner "team-nobody" owns no image in ${config}; the owners there: team-apps, team-storage\n` });
    const image = JSON.parse((await runCli(['plan', '--config', config, '--image', `${sourceHost}/library/postgres`, '-o', 'json'])).stdout) as PlanJson;
    expect(image.items.map((item) => item.source)).toEqual([`${sourceHost}/library/postgres:16.1.0`, `${sourceHost}/library/postgres:16.2.0`]);
    const badImage = await runCli(['plan', '--config', config, '--image', `${sourceHost}/library/nginx`]);
    expect(badImage.code).toBe(2);
    expect(badImage.stderr).toMatch(/^scanner: --image ".*\/library\/nginx" is no source repository of /);
    const badTarget = await runCli(['plan', '--config', config, '--target', 'moon']);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toBe(`scanner: --target "moon" is not a target of ${join(config, 'targets.yaml')}; its targets: main, regional\n`);
  });

  test('config errors exit 2 and print every problem of every file as file:line:column path: message; nothing is planned', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, {
      'team-a.yaml': `owner: team-a\nimages:\n  - source: ${sourceHost}/apps/web\n    tags:\n      - regexp: '(unclosed'\n`,
      'team-b.yaml': `images:\n  - source: ${sourceHost}/library/postgres\n    tags:\n      - names: [latest]\n`,
      'team-c.yaml': `owner: team-c\nimages:\n  - source: ${sourceHost}/library/postgres\n    tags:\n      - names: [latest]\n    targets: [nowhere]\n`,
    });
    source.resetRequests();
    const run = await runCli(['plan', '--config', config, '-o', 'json']);
    expect(run.code).toBe(2);
    // -o json: a document with no items and every issue, so a machine reader gets JSON on exit 2 too.
    const document = JSON.parse(run.stdout) as { items: unknown[]; errors: unknown[]; issues: { file: string; line: number | null; column: number | null; path: string; message: string }[] };
    expect(Object.keys(document)).toEqual(['items', 'errors', 'issues']);
    expect(document.items).toEqual([]);
    expect(document.issues).toContainEqual(expect.objectContaining({ file: join(config, 'team-c.yaml'), line: 6, path: 'images[0].targets', message: expect.stringContaining('nowhere') as string }));
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^scanner: invalid mirror config ${config} \\(\\d+ problems\\); nothing was planned or copied:$`));
    const issues = lines.slice(1);
    expect(issues.length).toBeGreaterThanOrEqual(3);
    for (const issue of issues) expect(issue).toMatch(/^ {2}\S+\.yaml(:\d+:\d+)?( \S+)?: .+/);
    expect(issues.some((issue) => issue.startsWith(`  ${join(config, 'team-a.yaml')}:5:`) && issue.includes('images[0].tags[0].regexp: '))).toBe(true);
    expect(issues.some((issue) => issue.startsWith(`  ${join(config, 'team-b.yaml')}`) && issue.includes('owner'))).toBe(true);
    expect(issues.some((issue) => issue.startsWith(`  ${join(config, 'team-c.yaml')}:6:`) && issue.includes('nowhere'))).toBe(true);
    expect(source.requests()).toEqual([]);

    const sync = await runCli(['sync', '--config', config]);
    expect(sync.code).toBe(2);
    expect(sync.stdout).toBe('');
    expect(sync.stderr).toBe(run.stderr);
    expect(targets.main.repositories()).toEqual([]);
  });

  test('--image with a tag or digest is a usage error (exit 2): tags are chosen by the rules', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, { 'team-apps.yaml': teamApps() });
    const run = await runCli(['plan', '--config', config, '--image', `${sourceHost}/apps/web:1.0.0`]);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toBe(`scanner: --image names a source repository, not a tag: use --image ${sourceHost}/apps/web (the team file's rules choose the tags)\n`);
  });

  test('a missing config directory or targets.yaml is a config error (exit 2)', async () => {
    const run = await runCli(['plan', '--config', join(dir.path, 'no-such-dir')]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^scanner: .*no-such-dir/);
  });

  test('an image that cannot be planned is listed with its code; the others are planned; exit 1', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, {
      'team-storage.yaml': teamStorage(),
      'team-ghost.yaml': `owner: team-ghost\ntargets: [main]\nimages:\n  - source: ${sourceHost}/ghost/none\n    tags:\n      - names: ['1.0']\n`,
    });
    const run = await runCli(['plan', '--config', config, '-o', 'json']);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as PlanJson;
    expect(json.items.map((item) => item.owner)).toEqual(['team-storage', 'team-storage']);
    expect(json.errors).toHaveLength(1);
    expect(Object.keys(json.errors[0] ?? {})).toEqual(['owner', 'source', 'targetName', 'code', 'message']);
    expect(json.errors[0]).toMatchObject({ owner: 'team-ghost', source: `${sourceHost}/ghost/none`, targetName: 'main' });

    const table = await runCli(['plan', '--config', config]);
    expect(table.code).toBe(1);
    expect(table.stdout).toContain(`team-ghost → main: 0 tags to copy, 0 to update, 0 present\n  ✗ ${sourceHost}/ghost/none: ${json.errors[0]?.code ?? ''}: `);
    expect(table.stdout).toMatch(/; 1 image could not be planned\n$/);
  });

  test('usage errors: missing --config, extra arguments, flags of other commands', async () => {
    expect(await runCli(['plan'])).toEqual({ code: 2, stdout: '', stderr: 'scanner: --config is required, e.g. scanner plan --config ./mirror\n' });
    expect((await runCli(['plan', 'mirror'])).stderr).toBe('scanner: scanner plan takes no arguments, got "mirror"; name the config directory with --config DIR\n');
    expect((await runCli(['plan', '--config', 'x', '--progress', 'plain'])).stderr).toBe('scanner: --progress does not apply to scanner plan (only to scanner sync)\n');
    expect((await runCli(['sync', '--config', 'x', '--strategy', 'semver'])).stderr).toBe('scanner: unknown flag "--strategy" for scanner sync; run scanner sync --help for its flags\n');
    expect((await runCli(['plan', '--config', 'x', '-o', 'yaml'])).code).toBe(2);
    expect(await runCli(['sync', '--config', 'x', '--timeout', '10 minutes'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'scanner: --timeout takes a duration such as 30s, 2m or 1m30s, got "10 minutes"\n',
    });
  });
});

describe('scanner sync', () => {
  test('copies every planned tag with the source digest, prints results; a re-plan has nothing to do and a re-sync moves no bytes', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, { 'team-storage.yaml': teamStorage(), 'team-apps.yaml': teamApps() });
    const run = await runCli(['sync', '--config', config, '-o', 'json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as SyncJson;
    expect(Object.keys(json)).toEqual(['items', 'errors', 'stats']);
    expect(json.items).toHaveLength(8);
    for (const item of json.items) {
      expect(Object.keys(item)).toEqual(['owner', 'targetName', 'source', 'target', 'action', 'sourceDigest', 'targetDigest', 'result', 'error']);
      expect(item).toMatchObject({ action: 'copy', result: 'copied', error: null });
    }
    for (const tag of ['1.0.0', '1.1.0', 'latest']) {
      expect(digest(targets.main, 'apps/web', tag)).toBe(digest(source, 'apps/web', tag));
      expect(digest(targets.regional, 'acme/apps/web', tag)).toBe(digest(source, 'apps/web', tag));
    }
    for (const tag of ['16.1.0', '16.2.0']) expect(digest(targets.main, 'library/postgres', tag)).toBe(digest(source, 'library/postgres', tag));
    expect(targets.main.tags('apps/web')).toEqual(['1.0.0', '1.1.0', 'latest']);
    expect(targets.main.tags('library/postgres')).toEqual(['16.1.0', '16.2.0']);
    expect(targets.regional.repositories()).toEqual(['acme/apps/web']);
    expect(json.stats.bytesUploaded).toBeGreaterThan(0);
    // Plain progress lines on stderr (not a terminal): one per tag.
    const progress = run.stderr.split('\n').filter((line) => /^scanner: \[\d+\/8\] copied /.test(line));
    expect(progress).toHaveLength(8);
    expect(run.stderr).toMatch(/^scanner: syncing 8 tags \(0 already there\)\n/);

    const plan = await runCli(['plan', '--config', config, '-o', 'json']);
    expect(plan.code).toBe(0);
    const planned = JSON.parse(plan.stdout) as PlanJson;
    expect(planned.items.map((item) => item.action)).toEqual(Array(8).fill('skip'));
    expect(planned.repositories.every((repository) => repository.exists)).toBe(true);
    expect(planned.pulls).toEqual({});
    expect((await runCli(['plan', '--config', config])).stdout).toMatch(/\nplan: 0 to copy, 0 to update, 8 present \(nothing to do\)\n$/);

    targets.main.resetRequests();
    const again = await runCli(['sync', '--config', config]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\nblobs: 0 uploaded \(0 B\), 0 mounted, 0 already there; 0 manifests put\n/);
    expect(again.stdout).toMatch(/\nsync: 0 copied, 0 updated, 8 already there, 0 failed\n$/);
    expect(targets.main.requests().filter((request) => request.method !== 'GET' && request.method !== 'HEAD')).toEqual([]);
  });

  test('--timeout running out during the copy names the bound: every unfinished item and a closing line (exit 1)', { timeout: 30_000 }, async () => {
    await using targets = await startTargets();
    // The main target answers everything but blob uploads, which hang: the plan finishes, the copy cannot.
    const upstream = new URL(`http://${targets.mainHost}`);
    const stall = createServer((incoming, outgoing) => {
      if ((incoming.url ?? '').includes('/blobs/uploads/')) return;
      const forward = request({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      incoming.pipe(forward);
    });
    await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
    try {
      const stallHost = `127.0.0.1:${(stall.address() as AddressInfo).port}`;
      const config = await writeConfig({ ...targets, mainHost: stallHost }, { 'team-storage.yaml': teamStorage() });
      const run = await runCli(['sync', '--config', config, '-o', 'json', '--timeout', '2s']);
      expect(run.code).toBe(1);
      const json = JSON.parse(run.stdout) as SyncJson;
      expect(json.items.length).toBeGreaterThan(0);
      for (const item of json.items) {
        expect(item).toMatchObject({ result: 'failed', error: { code: 'timeout', message: '--timeout 2s ran out before this item finished; its target tag was not moved (raise --timeout or SCANNER_TIMEOUT)' } });
      }
      expect(run.stderr).toContain('scanner: scanner sync did not finish within --timeout 2s; unfinished tags were not moved; raise --timeout (or SCANNER_TIMEOUT)');
      expect(targets.main.tags('library/postgres')).toEqual([]);
    } finally {
      stall.closeAllConnections();
      await new Promise((resolve) => stall.close(resolve));
    }
  });

  test('a missing target repository is one line per repository in the table, naming its tags', () => {
    const base = { owner: 'team-a', targetName: 'main', action: 'copy' as const, sourceDigest: null, targetDigest: null, imageId: 'a.yaml#x', file: 'a.yaml', mutable: false, referrers: true, provenance: false };
    const message = 'mirror.example.io/ecr/nginx does not exist and mirror.example.io does not create repositories on push; create the repository ecr/nginx …';
    const items = ['1.25.0', '1.26.0', '1.27.0'].map((tag) => ({
      ...base,
      source: `docker.io/library/nginx:${tag}`,
      target: `mirror.example.io/ecr/nginx:${tag}`,
      result: 'failed' as const,
      error: { code: 'repository_missing', message },
    }));
    const stats = { manifestsPut: 0, blobsUploaded: 0, blobsMounted: 0, blobsExisting: 0, blobsKnown: 0, bytesUploaded: 0, referrersCopied: 0, provenanceWritten: 0, pulls: {}, mirrorPulls: {} };
    const text = syncTable({ items, errors: [], stats });
    const lines = text.split('\n').filter((line) => line.includes('✗'));
    expect(lines).toEqual([`  ✗ mirror.example.io/ecr/nginx (3 tags: 1.25.0, 1.26.0, 1.27.0): repository_missing: ${message}`]);
  });

  test('a moved mutable tag is updated', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, { 'team-apps.yaml': teamApps('targets: [main]\n') });
    expect((await runCli(['sync', '--config', config])).code).toBe(0);
    const before = digest(targets.main, 'apps/web', 'latest');
    source.seedImage('apps/web', 'latest', { seed: 'web-moved' });
    try {
      const plan = JSON.parse((await runCli(['plan', '--config', config, '-o', 'json'])).stdout) as PlanJson;
      expect(plan.items.filter((item) => item.action !== 'skip')).toEqual([
        expect.objectContaining({ target: `${targets.mainHost}/apps/web:latest`, action: 'update', sourceDigest: digest(source, 'apps/web', 'latest'), targetDigest: before }),
      ]);
      const run = await runCli(['sync', '--config', config]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('team-apps → main: 0 copied, 1 updated, 2 already there, 0 failed\n');
      expect(digest(targets.main, 'apps/web', 'latest')).toBe(digest(source, 'apps/web', 'latest'));
    } finally {
      source.seedImage('apps/web', 'latest', { seed: 'web-3', layers: 2 });
    }
  });

  test('a target refusing credentials fails its part (exit 1) while the other target is mirrored; no credential is printed', async () => {
    await using regional = createMemoryRegistry({ auth: { username: 'mirror', password: 'S3cret-regional-pw' } });
    await using main = createMemoryRegistry();
    const [{ host: regionalHost }, { host: mainHost }] = await Promise.all([regional.listen(), main.listen()]);
    const targets: Targets = { main, regional, mainHost, regionalHost, [Symbol.asyncDispose]: () => Promise.resolve() };
    const config = await writeConfig(targets, { 'team-storage.yaml': teamStorage().replace('targets: [main]', 'targets: [main, regional]') });
    const registries = join(dir.path, `registries-${configCount}.yaml`);
    await writeFile(registries, `registries:\n  - name: regional\n    prefix: ${regionalHost}\n    credentials: env:REGIONAL_CREDS\n`);
    const env = { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent/docker', REGIONAL_CREDS: 'mirror:wrong-Passw0rd-xyz' };
    const run = await runCli(['sync', '--config', config, '--registries-config', registries, '-o', 'json'], { env });
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as SyncJson;
    expect(json.items.map((item) => [item.targetName, item.result])).toEqual([
      ['main', 'copied'],
      ['main', 'copied'],
    ]);
    expect(json.errors).toEqual([expect.objectContaining({ owner: 'team-storage', targetName: 'regional', code: expect.stringMatching(/unauthori[sz]ed|auth/) as unknown })]);
    expect(main.tags('library/postgres')).toEqual(['16.1.0', '16.2.0']);
    expect(regional.repositories()).toEqual([]);
    for (const secret of ['wrong-Passw0rd-xyz', 'S3cret-regional-pw', Buffer.from('mirror:wrong-Passw0rd-xyz').toString('base64')]) {
      expect(run.stdout + run.stderr).not.toContain(secret);
    }

    // With the right password the same command mirrors the rest.
    const fixed = await runCli(['sync', '--config', config, '--registries-config', registries], { env: { ...env, REGIONAL_CREDS: 'mirror:S3cret-regional-pw' } });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('team-storage → regional: 2 copied, 0 updated, 0 already there, 0 failed\n');
    expect(fixed.stdout + fixed.stderr).not.toContain('S3cret-regional-pw');
    expect(regional.tags('acme/library/postgres')).toEqual(['16.1.0', '16.2.0']);
  });

  test('with provenance: true, scanner inspect of a copy says whose copy of what it is (table and JSON)', async () => {
    await using targets = await startTargets();
    const config = await writeConfig(targets, { 'team-storage.yaml': teamStorage().replace('owner: team-storage\n', 'owner: team-storage\nprovenance: true\n') });
    const run = await runCli(['sync', '--config', config, '--progress', 'none']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(', 2 provenance artifacts\n');
    const sourceDigest = digest(source, 'library/postgres', '16.2.0') ?? '';
    const table = await runCli(['inspect', `${targets.mainHost}/library/postgres:16.2.0`]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`\nprovenance  copy of ${sourceHost}/library/postgres@${sourceDigest}, owned by team-storage\n`);
    const json = JSON.parse((await runCli(['inspect', `${targets.mainHost}/library/postgres:16.2.0`, '-o', 'json'])).stdout) as { provenance: unknown };
    expect(json.provenance).toMatchObject({
      summary: `copy of ${sourceHost}/library/postgres@${sourceDigest}, owned by team-storage`,
      owner: 'team-storage',
      source: `${sourceHost}/library/postgres:16.2.0`,
      sourceDigest,
      config: 'team-storage.yaml',
      targetName: 'main',
    });
    // The source itself is no copy.
    const plain = JSON.parse((await runCli(['inspect', `${sourceHost}/library/postgres:16.2.0`, '-o', 'json'])).stdout) as { provenance: unknown };
    expect(plain.provenance).toBeNull();
    expect((await runCli(['inspect', `${sourceHost}/library/postgres:16.2.0`])).stdout).not.toContain('provenance');
  });
});

describe('scanner convert', () => {
  test('skopeo: prints a team file that plans the same tags', async () => {
    await using targets = await startTargets();
    const input = join(dir.path, 'skopeo-sync.yaml');
    await writeFile(input, `${sourceHost}:\n  images:\n    apps/web: ['1.0.0', latest]\n  images-by-semver:\n    library/postgres: '>= 16.1'\n`);
    const run = await runCli(['convert', 'skopeo', input, '--owner', 'team-storage']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^owner: team-storage$/m);
    const json = await runCli(['convert', 'skopeo', input, '--owner', 'team-storage', '-o', 'json']);
    expect(json.code).toBe(0);
    const document = JSON.parse(json.stdout) as { teamFile: { owner: string; images: { source: string }[] }; warnings: unknown[] };
    expect(Object.keys(document)).toEqual(['teamFile', 'warnings']);
    const team = document.teamFile;
    expect(team.owner).toBe('team-storage');
    expect(team.images.map((image) => image.source).sort()).toEqual([`${sourceHost}/apps/web`, `${sourceHost}/library/postgres`]);

    const config = await writeConfig(targets, { 'team-storage.yaml': run.stdout });
    const plan = JSON.parse((await runCli(['plan', '--config', config, '--target', 'main', '-o', 'json'])).stdout) as PlanJson;
    expect(plan.items.map((item) => item.source)).toEqual([
      `${sourceHost}/apps/web:1.0.0`,
      `${sourceHost}/apps/web:latest`,
      `${sourceHost}/library/postgres:16.1.0`,
      `${sourceHost}/library/postgres:16.2.0`,
    ]);
  });

  test('retagger: the rename list becomes a team file with renames and target tags', async () => {
    const input = join(dir.path, 'retagger.yaml');
    await writeFile(input, `- image: ${sourceHost}/apps/web\n  semver: '>= 1.0'\n  override_repo_name: web-app\n`);
    const run = await runCli(['convert', 'retagger', input, '--owner', 'team-apps']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ {4}rename: web-app$/m);
    const json = await runCli(['convert', 'retagger', input, '--owner', 'team-apps', '-o', 'json']);
    const team = (JSON.parse(json.stdout) as { teamFile: { owner: string; images: { source: string; rename?: string }[] } }).teamFile;
    expect(team).toMatchObject({ owner: 'team-apps', images: [{ source: `${sourceHost}/apps/web`, rename: 'web-app' }] });
  });

  test('what a team file cannot express is an error naming the entry (exit 2); usage errors name the fix', async () => {
    const input = join(dir.path, 'retagger-bad.yaml');
    await writeFile(input, `- image: ${sourceHost}/apps/web\n  tag_or_pattern: '(unclosed'\n- image: ${sourceHost}/apps/db\n  dockerfile_extras: ['RUN true']\n`);
    const run = await runCli(['convert', 'retagger', input, '--owner', 'team-apps']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^scanner: cannot convert /);
    expect(lines.slice(1).some((line) => line.includes('[0].tag_or_pattern'))).toBe(true);
    expect(lines.slice(1).some((line) => line.includes('[1].dockerfile_extras'))).toBe(true);

    expect(await runCli(['convert', 'skopeo', input])).toEqual({ code: 2, stdout: '', stderr: 'scanner: --owner is required, e.g. scanner convert skopeo FILE --owner team-storage\n' });
    expect((await runCli(['convert', 'quay', input, '--owner', 'x'])).stderr).toMatch(/^scanner: scanner convert needs the input format first: skopeo .* or retagger .*; got "quay"\n$/);
    expect((await runCli(['convert', 'skopeo', join(dir.path, 'absent.yaml'), '--owner', 'x'])).stderr).toBe(`scanner: cannot read "${join(dir.path, 'absent.yaml')}": not found\n`);
  });
});

describe('help', () => {
  test('each mirror command has its help; the general help lists them', async () => {
    for (const command of ['plan', 'sync', 'convert']) {
      const viaFlag = await runCli([command, '--help']);
      expect(viaFlag.code).toBe(0);
      expect(viaFlag.stdout).toMatch(new RegExp(`^Usage: scanner ${command} `));
      expect(await runCli(['help', command])).toEqual(viaFlag);
    }
    const general = await runCli(['--help']);
    for (const command of ['plan', 'sync', 'convert']) expect(general.stdout).toContain(`scanner ${command} `);
  });
});

describe('pnpm demo', () => {
  test('the mirroring part plans, syncs with identical digests, and re-syncs without moving a byte', async () => {
    const { runSyncDemo } = await import('./demo-sync.ts');
    let out = '';
    expect(await runSyncDemo((text) => (out += text))).toBe(0);
    expect(out).toMatch(/\nsync: 8 copied, 0 updated, 0 already there, 0 failed\n/);
    expect(out).toContain('→ 8 of 8 tags already there, 0 B of blobs moved, 0 manifests put\n');
  });
});

describe('progress display', () => {
  test('auto is plain lines unless stderr is a terminal (with a width) and CI is unset; plain and none are kept', () => {
    const collector = { write: () => true };
    expect(progressMode('auto', collector, {})).toBe('plain');
    expect(progressMode('auto', process.stderr, { CI: 'true' })).toBe('plain');
    expect(progressMode('none', process.stderr, {})).toBe('none');
    expect(progressMode('plain', process.stderr, {})).toBe('plain');
  });
});
