import { describeScannerWithCache } from '@scanner/cache-conformance';
import { createMemoryRegistry } from '@scanner/memory-registry';
import { createRegistryClient, createScanner } from '@scanner/registry';
import { hasBinary } from '@scanner/test-lab';
import { startRedis } from '@scanner/test-lab/redis';
import type { RedisServer } from '@scanner/test-lab/redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisCache } from './index.ts';

describe.skipIf(!hasBinary('redis-server'))('scans on a real redis-server', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis[Symbol.asyncDispose]();
  });

  describeScannerWithCache('redis', ({ namespace }) => createRedisCache({ url: redis.url, namespace }));

  test('Redis killed and restarted in the middle of a run of scans: every scan succeeds, and caching resumes', async () => {
    await using registry = createMemoryRegistry();
    registry.seedImage('team/app', ['1.0.0', '1.1.0', '1.2.0'], { seed: 'one' });
    const { host } = await registry.listen();
    const cache = createRedisCache({ url: redis.url, namespace: 'outage', commandTimeoutMs: 500 });
    const cacheErrors: unknown[] = [];
    const scanner = createScanner({ client: createRegistryClient(), cache, cacheStrategy: 'tag', onCacheError: (error) => cacheErrors.push(error) });
    const scan = async () => (await scanner.select(`${host}/team/app`, { strategy: 'semver', constraint: '^1.0' })).selected?.tag;
    const requestsOf = async (run: () => Promise<unknown>) => {
      const mark = registry.requests().length;
      await run();
      return registry.requests().length - mark;
    };

    expect(await scan()).toBe('1.2.0');
    expect(await requestsOf(scan)).toBe(0); // warm: everything came from Redis

    await redis.kill();
    for (let round = 0; round < 5; round++) expect(await scan()).toBe('1.2.0');
    expect(scanner.cacheFailures).toBeGreaterThan(0);
    expect(cacheErrors).toHaveLength(1); // reported once, then only counted

    await redis.restart();
    // Redis restarted empty (no persistence): the cache reconnects by itself, the next scan refills it, and
    // the one after is warm again, all through the same scanner and cache.
    await expect.poll(async () => { await scan(); return requestsOf(scan); }, { timeout: 10_000, interval: 100 }).toBe(0);
    await cache.close();
  });
});
