import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryRegistry } from '@scanner/memory-registry';
import { hasBinary, runCommand } from '@scanner/test-lab';
import { startRedis } from '@scanner/test-lab/redis';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

/** The `ts` block that follows the `<!-- example: NAME` marker in the README. */
async function readmeExample(name: string): Promise<string> {
  const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
  const marker = readme.indexOf(`<!-- example: ${name}`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (marker === -1 || match?.[1] === undefined) throw new Error(`README.md has no example ${name}`);
  return match[1];
}

// The README's Redis example, run as a consumer would run it: its own Node process, against a real
// redis-server and a registry on loopback. It must print its result and end by itself (every connection closed);
// a leaked handle would keep it running until the time limit kills it and the test fails.
describe.skipIf(!hasBinary('redis-server'))('the README example', () => {
  test('scan-with-redis selects, caches with TTLs, and ends its process', { timeout: 60_000 }, async () => {
    await using redis = await startRedis();
    await using registry = createMemoryRegistry();
    registry.seedImage('lab/web', ['1.0.0', '1.4.2', '2.0.0'], { seed: 'readme' });
    const { host } = await registry.listen();
    // Beside package.json, so that the package names resolve the way they do for a consumer.
    const script = join(packageDir, `.readme-example-${process.pid}.mts`);
    await writeFile(script, await readmeExample('scan-with-redis'));
    try {
      const { stdout } = await runCommand(process.execPath, ['--conditions=@scanner/source', script], {
        cwd: packageDir,
        env: { PATH: process.env['PATH'] ?? '', HOME: packageDir, REDIS_URL: redis.url, IMAGE: `${host}/lab/web` },
        timeoutMs: 30_000,
      });
      expect(stdout.trim()).toBe(`1.4.2 ${registry.getManifest('lab/web', '1.4.2')?.digest ?? ''} 0 tags skipped`);
    } finally {
      await rm(script, { force: true });
    }
    const admin = new Redis(redis.url);
    const keys = await admin.keys('*');
    expect(keys).toContain(`scanner:v1:tags:${host}/lab/web`);
    for (const key of keys) expect(await admin.pttl(key)).toBeGreaterThan(0);
    admin.disconnect();
  });
});
