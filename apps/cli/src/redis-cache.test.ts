import { createMemoryRegistry } from '@scanner/memory-registry';
import { hasBinary } from '@scanner/test-lab';
import { startRedis } from '@scanner/test-lab/redis';
import { describe, expect, test } from 'vitest';
import { runCli } from './cli.fixture.ts';
import { DEMO_EXPECTED, DEMO_REPOSITORIES, seedDemoImages } from './demo-images.fixture.ts';
import type { SelectJson } from './output.ts';

describe.skipIf(!hasBinary('redis-server'))('--cache redis://', () => {
  test('separate runs share what they learnt through Redis', async () => {
    await using redis = await startRedis();
    await using registry = createMemoryRegistry();
    seedDemoImages(registry);
    const { host } = await registry.listen();
    const args = ['select', `${host}/${DEMO_REPOSITORIES.builds}`, '--strategy', 'newest-build', '--allow-tags', 'glob:main-*', '-o', 'json'];

    const counts: Record<string, number[]> = {};
    for (const strategy of ['tag', 'digest']) {
      counts[strategy] = [];
      // The Redis URL of each strategy's runs is its own database, so both start cold.
      const cache = `${redis.url}/${strategy === 'tag' ? 1 : 2}`;
      for (let pass = 0; pass < 2; pass += 1) {
        registry.resetRequests();
        const run = await runCli([...args, '--cache', cache, '--cache-strategy', strategy]);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect((JSON.parse(run.stdout) as SelectJson).selected?.tag).toBe(DEMO_EXPECTED.newestMainBuild);
        counts[strategy].push(registry.requests().length);
      }
    }
    expect(counts).toEqual({ tag: [10, 0], digest: [10, 3] });
  });

  // break-scan F4: the warning carried the package prefix, the method (`get()`) and option names the CLI has
  // not (`connectTimeoutMs`); it now says what failed and the CLI's hint.
  test('a failing Redis is one warning in the CLI\'s words: a wrong password, TLS on a plain-text port', async () => {
    await using redis = await startRedis();
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', 'pw-right');
    admin.disconnect();
    await using registry = createMemoryRegistry();
    seedDemoImages(registry);
    const { host } = await registry.listen();
    const args = ['tags', `${host}/${DEMO_REPOSITORIES.builds}`];
    const port = new URL(redis.url).port;
    const cases: Record<string, [string, RegExp]> = {
      wrongPassword: [`redis://:pw-wrong@127.0.0.1:${port}`, /Redis at 127\.0\.0\.1:\d+ refused the credentials of the url: it answered "WRONGPASS/],
      tlsOnPlain: [`rediss://:pw-wrong@127.0.0.1:${port}`, /TLS|handshake/],
    };
    for (const [name, [url, pattern]] of Object.entries(cases)) {
      const run = await runCli([...args, '--cache', url]);
      expect(run.code, name).toBe(0);
      const warnings = run.stderr.trimEnd().split('\n');
      expect(warnings, name).toHaveLength(1);
      expect(warnings[0], name).toMatch(/^scanner: warning: the cache failed and is skipped for this run: /);
      expect(warnings[0], name).toMatch(pattern);
      for (const term of ['@scanner/', 'get()', 'set()', 'TimeoutMs', 'pw-wrong']) expect(warnings[0], `${name}: ${term}`).not.toContain(term);
    }
  });
});
