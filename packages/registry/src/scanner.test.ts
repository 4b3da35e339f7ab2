import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import type { Cache } from './cache.ts';
import { createRegistryClient } from './client.ts';
import { isScannerError } from '@scanner/image';
import { startServer } from './http.fixture.ts';
import { scanKeys } from './scan-cache.ts';
import { createScanner } from './scanner.ts';
import type { ScannerOptions } from './scanner.ts';

/** A plain Map behind the cache contract, with the TTLs ignored: these tests control expiry by deleting keys. */
function mapCache(): Cache & { readonly entries: Map<string, unknown> } {
  const entries = new Map<string, unknown>();
  return {
    namespace: 'test',
    entries,
    get: (key) => Promise.resolve(structuredClone(entries.get(key)) as never),
    set: (key, value) => {
      entries.set(key, structuredClone(value));
      return Promise.resolve();
    },
    delete: (key) => {
      entries.delete(key);
      return Promise.resolve();
    },
  };
}

let registry: MemoryRegistry;
let host: string;

// library/app: semver tags; 1.2.0 and 1.2.1 share one image, v1.3.0 is arm64-only, 2.0.0-rc.1 is a prerelease.
// library/builds: twelve build tags over three images, so newest-build must fetch metadata three times, not twelve.
beforeAll(async () => {
  registry = createMemoryRegistry();
  registry.seedImage('library/app', ['1.0.0', '1.1.0'], { created: '2024-01-01T00:00:00Z', seed: 'old' });
  registry.seedImage('library/app', ['1.2.0', '1.2.1'], { created: '2024-02-01T00:00:00Z', platforms: ['linux/amd64', 'linux/arm64/v8'], seed: 'mid' });
  registry.seedImage('library/app', ['v1.3.0'], { created: '2024-03-01T00:00:00Z', platforms: ['linux/arm64/v8'], seed: 'arm' });
  registry.seedImage('library/app', ['2.0.0-rc.1', 'latest'], { created: '2024-04-01T00:00:00Z', seed: 'rc' });
  for (const [index, day] of ['2024-05-01', '2024-05-03', '2024-05-02'].entries()) {
    const tags = [0, 1, 2, 3].map((n) => `main-${index}${n}`);
    registry.seedImage('library/builds', tags, { created: `${day}T00:00:00Z`, seed: `build-${index}` });
  }
  ({ host } = await registry.listen());
});

afterAll(async () => {
  await registry.close();
});

beforeEach(() => {
  registry.resetRequests();
});

function counts(): { tags: number; head: number; get: number; total: number } {
  const requests = registry.requests().filter((entry) => entry.route !== 'base');
  return {
    tags: requests.filter((entry) => entry.route === 'tags').length,
    head: requests.filter((entry) => entry.method === 'HEAD').length,
    get: requests.filter((entry) => entry.method === 'GET' && entry.route !== 'tags').length,
    total: requests.length,
  };
}

function scanner(options: ScannerOptions = {}) {
  return createScanner({ client: createRegistryClient(), ...options });
}

describe('semver, alphabetical, numerical', () => {
  test('a cold semver scan lists the tags and makes one HEAD for the selected tag', async () => {
    const result = await scanner().select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0' });
    expect(result.image).toBe(`${host}/library/app`);
    expect(result.selected?.tag).toBe('v1.3.0');
    expect(result.selected?.digest).toBe(registry.getManifest('library/app', 'v1.3.0')?.digest);
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['v1.3.0', '1.2.1', '1.2.0', '1.1.0', '1.0.0']);
    expect(result.candidates.slice(1).every((candidate) => candidate.digest === undefined)).toBe(true);
    expect(counts()).toEqual({ tags: 1, head: 1, get: 0, total: 2 });
  });

  test('limit caps the candidates', async () => {
    const result = await scanner().select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0', limit: 2 });
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['v1.3.0', '1.2.1']);
  });

  test('alphabetical and numerical rank by name and resolve one digest', async () => {
    const alphabetical = await scanner().select(`${host}/library/builds`, { strategy: 'alphabetical' });
    expect(alphabetical.selected?.tag).toBe('main-23');
    const numerical = await scanner().select(`${host}/library/app`, { strategy: 'numerical', allowTags: ['regexp:^\\d+\\.\\d+$'] });
    expect(numerical.selected).toBeNull();
    expect(counts().head).toBe(1);
  });

  test('a warm semver scan with the tag strategy inside the TTL makes no request', async () => {
    const cache = mapCache();
    const warm = scanner({ cache, cacheStrategy: 'tag' });
    const cold = await warm.select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0' });
    registry.resetRequests();
    const again = await warm.select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0' });
    expect(again).toEqual(cold);
    expect(counts().total).toBe(0);
  });

  test('a warm semver scan with the digest strategy makes exactly one HEAD', async () => {
    const cache = mapCache();
    const warm = scanner({ cache, cacheStrategy: 'digest' });
    await warm.select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0' });
    registry.resetRequests();
    await warm.select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0' });
    expect(counts()).toEqual({ tags: 0, head: 1, get: 0, total: 1 });
  });

  test('a tag the registry lists without a manifest is passed over', async () => {
    const cache = mapCache();
    await cache.set(scanKeys.tagList(`${host}/library/app`), ['1.0.0', '9.9.9']);
    const result = await scanner({ cache }).select(`${host}/library/app`, { strategy: 'semver' });
    expect(result.selected?.tag).toBe('1.0.0');
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['1.0.0']);
    // The client confirms a 404 HEAD with a GET, because some registries refuse HEAD on manifests they have.
    expect(counts()).toEqual({ tags: 0, head: 2, get: 1, total: 3 });
  });
});

describe('platform filter', () => {
  test('fetches metadata in rank order only until limit candidates pass', async () => {
    const result = await scanner().select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0', platforms: ['linux/amd64'] });
    // v1.3.0 is arm64-only and fails; 1.2.1 (an index with amd64) passes; 1.2.0 and older are never fetched.
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['1.2.1']);
    expect(result.selected?.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    // Only the index was read, which says nothing of when its images were built.
    expect(result.selected?.createdAt).toBeUndefined();
    const fetched = registry.requests().filter((entry) => entry.method === 'HEAD').map((entry) => entry.path.split('/').pop());
    expect(fetched).toEqual(['v1.3.0', '1.2.1']);
    // A platform filter needs only each index's platform list: one GET per index, no child manifest or config.
    expect(counts().get).toBe(2);
  });

  test('a single-platform image is read from its config, and a later newest-build scan reads an index in full', async () => {
    const cache = mapCache();
    const cached = scanner({ cache });
    const single = await cached.select(`${host}/library/app`, { strategy: 'semver', constraint: '~1.1', platforms: ['linux/amd64'] });
    expect(single.selected).toMatchObject({ tag: '1.1.0', platforms: ['linux/amd64'], createdAt: '2024-01-01T00:00:00.000Z' });
    await cached.select(`${host}/library/app`, { strategy: 'semver', constraint: '~1.2', platforms: ['linux/amd64'] });
    registry.resetRequests();
    // The index of 1.2.x is cached without dates, so ranking by creation time reads it again in full.
    const newest = await cached.select(`${host}/library/app`, { strategy: 'newest-build', allowTags: ['1.2.1'] });
    expect(newest.selected?.createdAt).toBe('2024-02-01T00:00:00.000Z');
    expect(counts().get).toBe(5);
  });

  test('a requested variant-less platform matches any variant', async () => {
    const result = await scanner().select(`${host}/library/app`, { strategy: 'semver', platforms: ['linux/arm64'], limit: 2 });
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['v1.3.0', '1.2.1']);
  });
});

describe('newest-build', () => {
  test('cold: one HEAD per tag and metadata once per distinct digest', async () => {
    const result = await scanner().select(`${host}/library/builds`, { strategy: 'newest-build' });
    expect(result.selected?.tag).toBe('main-13');
    expect(result.selected?.createdAt).toBe('2024-05-03T00:00:00.000Z');
    expect(result.candidates.slice(0, 4).map((candidate) => candidate.tag)).toEqual(['main-13', 'main-12', 'main-11', 'main-10']);
    expect(result.candidates).toHaveLength(12);
    // Three distinct images: one manifest GET and one config GET each.
    expect(counts()).toEqual({ tags: 1, head: 12, get: 6, total: 19 });
  });

  test('warm with the digest strategy: the tag list and one HEAD per tag, no GET', async () => {
    const cache = mapCache();
    const warm = scanner({ cache, cacheStrategy: 'digest' });
    const cold = await warm.select(`${host}/library/builds`, { strategy: 'newest-build' });
    await cache.delete(scanKeys.tagList(`${host}/library/builds`));
    registry.resetRequests();
    const again = await warm.select(`${host}/library/builds`, { strategy: 'newest-build' });
    expect(again).toEqual(cold);
    expect(counts()).toEqual({ tags: 1, head: 12, get: 0, total: 13 });
  });

  test('warm with the tag strategy inside the TTL makes no request', async () => {
    const warm = scanner({ cache: mapCache(), cacheStrategy: 'tag' });
    await warm.select(`${host}/library/builds`, { strategy: 'newest-build' });
    registry.resetRequests();
    await warm.select(`${host}/library/builds`, { strategy: 'newest-build' });
    expect(counts().total).toBe(0);
  });

  test('an index ranks by its newest matching platform image', async () => {
    const result = await scanner().select(`${host}/library/app`, { strategy: 'newest-build', allowTags: ['1.2.*', '1.0.0'] });
    expect(result.candidates.map((candidate) => [candidate.tag, candidate.createdAt])).toEqual([
      ['1.2.1', '2024-02-01T00:00:00.000Z'],
      ['1.2.0', '2024-02-01T00:00:00.000Z'],
      ['1.0.0', '2024-01-01T00:00:00.000Z'],
    ]);
  });
});

describe('digest', () => {
  test('one HEAD of the tracked tag and no listing', async () => {
    const result = await scanner().select(`${host}/library/app`, { strategy: 'digest', constraint: 'latest' });
    expect(result.selected).toEqual({ tag: 'latest', digest: registry.getManifest('library/app', 'latest')?.digest, createdAt: undefined, platforms: undefined });
    expect(counts()).toEqual({ tags: 0, head: 1, get: 0, total: 1 });
  });

  test('a tracked tag that does not exist selects nothing', async () => {
    const result = await scanner().select(`${host}/library/app`, { strategy: 'digest', constraint: 'nope' });
    expect(result).toEqual({ image: `${host}/library/app`, selected: null, candidates: [], skipped: [{ tag: 'nope', code: 'MANIFEST_UNKNOWN', reason: expect.stringContaining('library/app:nope') as string }] });
  });
});

describe('sharing and failure', () => {
  test('concurrent scans of one repository share their requests', async () => {
    const shared = scanner();
    const [first, second] = await Promise.all([
      shared.select(`${host}/library/builds`, { strategy: 'newest-build' }),
      shared.select(`${host}/library/builds`, { strategy: 'newest-build' }),
    ]);
    expect(second).toEqual(first);
    expect(counts()).toEqual({ tags: 1, head: 12, get: 6, total: 19 });
  });

  test('a failing cache counts as misses, is reported once and never fails a scan', async () => {
    const broken: Cache = {
      namespace: 'broken',
      get: () => Promise.reject(new Error('connection refused')),
      set: () => Promise.reject(new Error('connection refused')),
      delete: () => Promise.reject(new Error('connection refused')),
    };
    const onCacheError = vi.fn();
    const withBrokenCache = scanner({ cache: broken, cacheStrategy: 'tag', onCacheError });
    const result = await withBrokenCache.select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0' });
    await withBrokenCache.select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0' });
    expect(result.selected?.tag).toBe('v1.3.0');
    expect(onCacheError).toHaveBeenCalledTimes(1);
    expect(withBrokenCache.cacheFailures).toBeGreaterThanOrEqual(4);
  });

  test('a cache entry of the wrong shape is a miss', async () => {
    const cache = mapCache();
    await cache.set(scanKeys.tagList(`${host}/library/app`), { not: 'a list' });
    const result = await scanner({ cache }).select(`${host}/library/app`, { strategy: 'semver', constraint: '^1.0' });
    expect(result.selected?.tag).toBe('v1.3.0');
    expect(counts().tags).toBe(1);
  });

  test('an aborted scan rejects with the abort reason', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(scanner().select(`${host}/library/app`, { strategy: 'semver' }, { signal: controller.signal })).rejects.toThrow('stop');
  });

  // break-scan F6: the signal's DOMException escaped select/tags, so isScannerError missed it.
  test('aborting select or tags, before or during the scan, is a RegistryError with code aborted', async () => {
    await using hung = await startServer(() => undefined);
    const failureOf = (scan: Promise<unknown>): Promise<unknown> => scan.then(() => undefined, (caught: unknown) => caught);
    const scans = (signal: AbortSignal) => [
      failureOf(scanner().select(`${hung.host}/h/app`, { strategy: 'semver' }, { signal })),
      failureOf(scanner().tags(`${hung.host}/h/app`, { signal })),
      failureOf(scanner().select(`${host}/library/app`, { strategy: 'newest-build' }, { signal })),
    ];
    const controller = new AbortController();
    const during = [...scans(AbortSignal.timeout(300)), ...scans(controller.signal)];
    setTimeout(() => {
      controller.abort();
    }, 100);
    const before = new AbortController();
    before.abort();
    for (const scan of [...during, ...scans(before.signal)]) {
      const error = await scan;
      if (error === undefined) continue; // the loopback memory registry may answer before the abort
      expect(isScannerError(error)).toBe(true);
      expect(error).toMatchObject({ name: 'RegistryError', code: 'aborted' });
    }
  });

  test('tags() lists through the tag-list cache', async () => {
    const cache = mapCache();
    const cached = scanner({ cache });
    expect(await cached.tags(`${host}/library/app:ignored`)).toEqual(registry.tags('library/app'));
    expect(await cached.tags(`${host}/library/app`)).toEqual(registry.tags('library/app'));
    expect(counts().tags).toBe(1);
  });
});
