import { randomUUID } from 'node:crypto';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { createRegistryClient, createScanner } from '@scanner/registry';
import type { CacheStrategy } from '@scanner/registry';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Cache } from '@scanner/registry';
import type { CacheFactory } from './conformance.ts';

/**
 * Registers scans through a backend with both cache strategies, counting the registry requests a cold and a
 * warm scan make: the figures the scanner promises (a warm semver scan with the tag strategy makes none; a
 * warm newest-build scan with the digest strategy makes the tag list and one HEAD per tag, no GET). The
 * registry is the in-memory one; the backend is real.
 */
export function describeScannerWithCache(name: string, createCache: CacheFactory): void {
  describe(`${name}: scans with both cache strategies`, () => {
    let registry: MemoryRegistry;
    let host: string;
    const caches: Cache[] = [];

    beforeAll(async () => {
      registry = createMemoryRegistry();
      registry.seedImage('team/app', ['1.0.0', '1.1.0'], { created: '2024-01-01T00:00:00Z', seed: 'a' });
      registry.seedImage('team/app', ['1.2.0', 'build-7'], { created: '2024-02-01T00:00:00Z', platforms: ['linux/amd64', 'linux/arm64'], seed: 'b' });
      registry.seedImage('team/app', ['build-8'], { created: '2024-03-01T00:00:00Z', seed: 'c' });
      ({ host } = await registry.listen());
    });

    afterAll(async () => {
      await registry.close();
    });

    afterEach(async () => {
      for (const cache of caches.splice(0)) await cache.close?.();
    });

    async function twoScanners(strategy: CacheStrategy) {
      const cache = await createCache({ namespace: `scan-${randomUUID()}` });
      caches.push(cache);
      // Two scanners on one cache: what the first learns, the second (a later run, another replica) reuses.
      const first = createScanner({ client: createRegistryClient(), cache, cacheStrategy: strategy, onCacheError: (error) => { throw error; } });
      const second = createScanner({ client: createRegistryClient(), cache, cacheStrategy: strategy, onCacheError: (error) => { throw error; } });
      return { cache, first, second };
    }

    function requestsSince(mark: number) {
      const made = registry.requests().slice(mark).filter((entry) => entry.route !== 'base');
      return { total: made.length, head: made.filter((entry) => entry.method === 'HEAD').length, get: made.filter((entry) => entry.method === 'GET' && entry.route !== 'tags').length };
    }

    test('tag strategy: a warm semver and a warm newest-build scan make no request', async () => {
      const { first, second } = await twoScanners('tag');
      const semver = await first.select(`${host}/team/app`, { strategy: 'semver', constraint: '^1.0' });
      const newest = await first.select(`${host}/team/app`, { strategy: 'newest-build' });
      const mark = registry.requests().length;
      expect(await second.select(`${host}/team/app`, { strategy: 'semver', constraint: '^1.0' })).toEqual(semver);
      expect(await second.select(`${host}/team/app`, { strategy: 'newest-build' })).toEqual(newest);
      expect(newest.selected?.tag).toBe('build-8');
      expect(requestsSince(mark).total).toBe(0);
    });

    test('digest strategy: a warm newest-build scan makes one HEAD per tag and no GET', async () => {
      const { first, second } = await twoScanners('digest');
      const cold = await first.select(`${host}/team/app`, { strategy: 'newest-build', platforms: ['linux/arm64'] });
      expect(cold.selected?.tag).toBe('build-7');
      const mark = registry.requests().length;
      expect(await second.select(`${host}/team/app`, { strategy: 'newest-build', platforms: ['linux/arm64'] })).toEqual(cold);
      // The tag list is still cached; every tag is resolved again, and every image comes from the cache.
      expect(requestsSince(mark)).toEqual({ total: 5, head: 5, get: 0 });
    });
  });
}
