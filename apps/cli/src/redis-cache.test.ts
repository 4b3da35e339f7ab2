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
});
