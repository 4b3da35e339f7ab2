import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { freePort } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_REPOSITORIES, seedDemoImages } from './demo-images.fixture.ts';
import type { SelectJson } from './output.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Runs the executable entry as `pnpm scanner` does: Node strips the types, workspace packages resolve to src. */
function spawnScanner(args: readonly string[], entry = 'src/bin.ts'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@scanner/source', entry, ...args],
      { cwd: packageDir, env: { PATH: process.env['PATH'], HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent/docker' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the scanner binary (src/bin.ts)', () => {
  let registry: MemoryRegistry;
  let host: string;

  beforeAll(async () => {
    registry = createMemoryRegistry();
    seedDemoImages(registry);
    ({ host } = await registry.listen());
  });

  afterAll(async () => {
    await registry.close();
  });

  test('--version', async () => {
    expect(await spawnScanner(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  test('exit 0: the JSON document on stdout, nothing on stderr', async () => {
    const run = await spawnScanner(['select', `${host}/${DEMO_REPOSITORIES.app}`, '--constraint', '^1.2', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as SelectJson).selected?.tag).toBe('v1.2.3');
  });

  test('exit 3: the document still on stdout, the diagnostic on stderr', async () => {
    const run = await spawnScanner(['select', `${host}/${DEMO_REPOSITORIES.app}`, '--constraint', '>=9', '-o', 'json']);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toEqual({ image: `${host}/${DEMO_REPOSITORIES.app}`, selected: null, candidates: [] });
    expect(run.stderr).toBe(`scanner: no tag of ${host}/${DEMO_REPOSITORIES.app} matched the policy\n`);
  });

  test('exit 2 for a bad flag and exit 1 for an unreachable registry, stdout empty', async () => {
    const port = await freePort();
    const [usage, unreachable] = await Promise.all([
      spawnScanner(['select', `${host}/demo/app`, '--bogus']),
      spawnScanner(['digest', `127.0.0.1:${port}/demo/app:1.0.0`]),
    ]);
    expect(usage).toEqual({ code: 2, stdout: '', stderr: 'scanner: unknown flag "--bogus"; run scanner --help for the flags\n' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toBe('');
    expect(unreachable.stderr).toMatch(/^scanner: .*; check that 127\.0\.0\.1:\d+ is (?:up and )?reachable[^\n]*\n$/);
  });
});

describe('pnpm demo (src/demo.ts)', () => {
  test('runs every strategy against its own registry and exits 0', async () => {
    const run = await spawnScanner([], 'src/demo.ts');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const commands = run.stdout.split('\n').filter((line) => line.startsWith('$ scanner select'));
    for (const strategy of ['semver', 'newest-build', 'alphabetical', 'numerical', 'digest']) {
      expect(commands.some((line) => line.includes(`--strategy ${strategy}`))).toBe(true);
    }
    expect(run.stdout).not.toContain('✗');
    expect(run.stdout).toMatch(/warm: → main-0c4e8f2 .*· {2}0 requests\n/);
    expect(run.stdout).toContain('every strategy selected what it should; the registry is stopped');
  });
});
