import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryRegistry } from '@scanner/memory-registry';
import { hasBinary } from '@scanner/test-lab';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_EXPECTED, DEMO_REPOSITORIES, seedDemoImages } from './demo-images.fixture.ts';
import type { SelectJson } from './output.ts';

// The executable as it is published: build.mjs's esbuild bundle (chunks, lazy imports, externals), not the
// sources the other tests run. Built here from the workspace sources into a directory under this package's
// node_modules, so that the external dependencies (undici, ioredis, listr2, re2js) resolve as they do when
// installed.
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };

let root: string;
let registry: MemoryRegistry;
let host: string;

/** Runs the built executable; without `codeCache` (a directory for $NODE_COMPILE_CACHE), with caching off. */
function scanner(args: readonly string[], codeCache?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const caching = codeCache === undefined ? { NODE_DISABLE_COMPILE_CACHE: '1' } : { NODE_COMPILE_CACHE: codeCache };
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'dist', 'bin.cjs'), ...args], { env: { PATH: process.env['PATH'], HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent/docker', ...caching }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  const cache = join(packageDir, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  root = mkdtempSync(join(cache, 'dist-test-'));
  copyFileSync(join(packageDir, 'package.json'), join(root, 'package.json'));
  execFileSync(process.execPath, [join(packageDir, 'build.mjs'), join(root, 'dist'), '--from-source'], { cwd: packageDir, stdio: ['ignore', 'ignore', 'inherit'] });
  registry = createMemoryRegistry();
  seedDemoImages(registry);
  ({ host } = await registry.listen());
}, 120_000);

afterAll(async () => {
  await registry.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the built scanner (build.mjs bundle)', () => {
  test('--version, and a usage error loads nothing else', async () => {
    expect(await scanner(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const usage = await scanner(['digest']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^scanner: scanner digest needs an image/);
  });

  test('digest, several digests, tags and select against a registry', async () => {
    const image = `${host}/${DEMO_REPOSITORIES.app}`;
    const tags = await scanner(['tags', image, '-o', 'json']);
    expect(tags.code).toBe(0);
    const listed = (JSON.parse(tags.stdout) as { tags: string[] }).tags;
    expect(listed.length).toBeGreaterThan(1);
    const select = await scanner(['select', image, '--strategy', 'alphabetical', '-o', 'json']);
    expect(select.code).toBe(0);
    const selected = (JSON.parse(select.stdout) as SelectJson).selected;
    expect(selected?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const digest = await scanner(['digest', `${image}:${selected?.tag ?? ''}`]);
    expect(digest).toEqual({ code: 0, stdout: `${selected?.digest ?? ''}\n`, stderr: '' });
    const many = await scanner(['digest', ...listed.map((tag) => `${image}:${tag}`)]);
    expect(many.code).toBe(0);
    expect(many.stdout.trim().split('\n').map((line) => line.split(' ')[0])).toEqual(listed.map((tag) => `${image}:${tag}`));
  });

  test('plan: the mirror commands, zod, yaml and undici load from the bundle', async () => {
    await using target = createMemoryRegistry();
    const { host: targetHost } = await target.listen();
    const config = join(root, 'mirror-config');
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'targets.yaml'), `targets:\n  - name: main\n    registry: ${targetHost}\n`);
    writeFileSync(join(config, 'team.yaml'), `owner: team-apps\nimages:\n  - source: ${host}/${DEMO_REPOSITORIES.app}\n    tags:\n      - semver: '>=0.0.0'\n    targets: [main]\n`);
    const plan = await scanner(['plan', '--config', config, '-o', 'json']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ items: expect.any(Array) as unknown });
  });

  test('the code cache: written after the first successful run of a command (this user only), read by the next, rewritten when unusable', async () => {
    const codeCache = join(root, 'code-cache');
    const reference = `${host}/${DEMO_REPOSITORIES.app}:${DEMO_EXPECTED.semverCaret12}`;
    // A usage error compiles a fraction of the command: it writes nothing.
    expect((await scanner(['digest'], codeCache)).code).toBe(2);
    expect(existsSync(join(codeCache, 'scanner'))).toBe(false);
    const first = await scanner(['digest', reference], codeCache);
    expect(first.code).toBe(0);
    const [key] = readdirSync(join(codeCache, 'scanner'));
    const keyDirectory = join(codeCache, 'scanner', key ?? '');
    // Keyed by the Node that runs it and a hash of the build.
    expect(key).toMatch(new RegExp(`^${process.version}-${process.arch}-[0-9a-f]{16}$`));
    const [name] = readdirSync(keyDirectory);
    expect(name).toMatch(/^digest\.cli\.\d+-\d+\.bin$/);
    const file = join(keyDirectory, name ?? '');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(keyDirectory).mode & 0o777).toBe(0o700);
    const written = statSync(file);
    expect(await scanner(['digest', reference], codeCache)).toEqual(first);
    // Accepted by V8, so not written again; flags before the command word do not change whose cache it is.
    expect(await scanner(['--debug', 'digest', reference], codeCache)).toMatchObject({ code: 0, stdout: first.stdout });
    expect(statSync(file).mtimeMs).toBe(written.mtimeMs);
    // Another command keeps its own, for the bundle and each vendored library it loaded (select: zod, semver).
    expect((await scanner(['select', `${host}/${DEMO_REPOSITORIES.app}`], codeCache)).code).toBe(0);
    expect(readdirSync(keyDirectory).map((entry) => entry.replace(/\.\d+-\d+\.bin$/, '')).sort()).toEqual(['digest.cli', 'select.cli', 'select.semver', 'select.zod']);
    // A damaged cache is rejected by V8's checks: the run is the same, and a good cache replaces it.
    writeFileSync(file, Buffer.alloc(64, 7));
    expect(await scanner(['digest', reference], codeCache)).toEqual(first);
    expect(statSync(file).size).toBeGreaterThan(written.size / 2);
  });

  test.runIf(hasBinary('mkfifo') || process.env['CI'] === 'true')('a cache that is not a regular file, or in a directory others can write, is never read (break-launcher 3)', async () => {
    const codeCache = join(root, 'code-cache-hostile');
    const reference = `${host}/${DEMO_REPOSITORIES.app}:${DEMO_EXPECTED.semverCaret12}`;
    const first = await scanner(['digest', reference], codeCache);
    const [key] = readdirSync(join(codeCache, 'scanner'));
    const keyDirectory = join(codeCache, 'scanner', key ?? '');
    const [name] = readdirSync(keyDirectory);
    // A FIFO in place of the cache: reading it would wait for a writer forever.
    rmSync(join(keyDirectory, name ?? ''));
    execFileSync('mkfifo', [join(keyDirectory, name ?? '')]);
    expect(await scanner(['digest', reference], codeCache)).toEqual(first);
    // A group- and world-writable key directory: not trusted, neither read nor written.
    rmSync(join(keyDirectory, name ?? ''));
    writeFileSync(join(keyDirectory, name ?? ''), Buffer.alloc(64, 7), { mode: 0o600 });
    chmodSync(keyDirectory, 0o777);
    expect(await scanner(['digest', reference], codeCache)).toEqual(first);
    expect(statSync(join(keyDirectory, name ?? '')).size).toBe(64);
  });
});
