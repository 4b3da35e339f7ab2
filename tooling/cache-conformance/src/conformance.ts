import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cache } from '@scanner/registry';
import { afterEach, describe, expect, test } from 'vitest';

/** What the suite asks a factory for. */
export interface CacheFactoryContext {
  /** A namespace unique to this test; the factory must create the cache in it, so tests never see each other's keys. */
  namespace: string;
}

/** Creates a fresh cache for one test; the suite closes it after the test. */
export type CacheFactory = (context: CacheFactoryContext) => Promise<Cache> | Cache;

/** Options of {@link describeCacheConformance}. */
export interface CacheConformanceOptions {
  /**
   * How long to keep polling for a short-TTL entry to disappear before failing. Only a failure bound: no test
   * asserts how quickly anything happens.
   * @default 10000
   */
  expiryTimeoutMs?: number;
  /**
   * Whether two caches created on the same namespace share one store (Redis), which the suite then checks.
   * In-process caches keep one store per instance.
   * @default false
   */
  sharedStore?: boolean;
}

/** A TTL short enough to watch expire in a test, long enough to be set reliably. */
const SHORT_TTL_MS = 50;
/** A TTL no test outlives. */
const LONG_TTL_MS = 10 * 60_000;

/**
 * Registers the shared vitest suite of the `Cache` contract (see `@scanner/registry`'s `cache.ts`). Every
 * backend calls it from its own test file, so all backends answer the same way:
 *
 * @example
 * describeCacheConformance('memory', ({ namespace }) => createMemoryCache({ namespace }));
 */
export function describeCacheConformance(name: string, createCache: CacheFactory, options: CacheConformanceOptions = {}): void {
  const expiryTimeoutMs = options.expiryTimeoutMs ?? 10_000;

  describe(`${name}: Cache contract`, () => {
    const open: Cache[] = [];
    const run = randomUUID().slice(0, 8);
    let count = 0;

    async function make(namespace = `conformance-${run}-${++count}`): Promise<Cache> {
      const cache = await createCache({ namespace });
      open.push(cache);
      return cache;
    }

    afterEach(async () => {
      await Promise.all(open.splice(0).map(async (cache) => { await cache.close?.(); }));
    });

    /** Polls until `key` is a miss; fails after `expiryTimeoutMs`. */
    async function waitForMiss(cache: Cache, key: string): Promise<void> {
      const deadline = Date.now() + expiryTimeoutMs;
      while ((await cache.get(key)) !== undefined) {
        if (Date.now() > deadline) throw new Error(`${name}: key ${JSON.stringify(key)} did not expire within ${expiryTimeoutMs} ms`);
        await sleep(10);
      }
    }

    /** Sets a sentinel with a short TTL and waits for it to go, so every TTL set before it has run out too. */
    async function letShortTtlsRunOut(cache: Cache): Promise<void> {
      const sentinel = `sentinel-${randomUUID()}`;
      await cache.set(sentinel, true, { ttlMs: SHORT_TTL_MS });
      await waitForMiss(cache, sentinel);
    }

    test('uses the namespace it was created with', async () => {
      const cache = await make('conformance-named');
      expect(cache.namespace).toBe('conformance-named');
    });

    test('get of a missing key resolves undefined', async () => {
      const cache = await make();
      await expect(cache.get('never-set')).resolves.toBeUndefined();
    });

    const values: [string, unknown][] = [
      ['an object', { name: 'nginx', tags: ['1.27', 'latest'], size: 1234 }],
      ['an array', [1, 'two', { three: 3 }, [4], null, true]],
      ['an empty object', {}],
      ['an empty array', []],
      ['a string', 'sha256:0123456789abcdef'],
      ['an empty string', ''],
      ['an integer', 42],
      ['zero', 0],
      ['a negative float', -12.5],
      ['true', true],
      ['false', false],
      ['null', null],
      ['a nested structure', { a: { b: { c: [{ d: [1, 2, { e: 'deep' }] }] } } }],
      ['unicode text', { text: 'żółć 漢字 😀 \u0000 \u2028 "quoted" \\ back' }],
      ['a 100 KB string', 'x'.repeat(100 * 1024)],
    ];
    test.each(values)('round-trips %s', async (_label, value) => {
      const cache = await make();
      await cache.set('value', value);
      await expect(cache.get('value')).resolves.toStrictEqual(value);
    });

    test('drops undefined object properties, as JSON does', async () => {
      const cache = await make();
      await cache.set('value', { kept: 1, dropped: undefined });
      await expect(cache.get('value')).resolves.toStrictEqual({ kept: 1 });
    });

    test('hands out copies, never the stored object', async () => {
      const cache = await make();
      const original = { list: [1, 2] };
      await cache.set('value', original);
      original.list.push(3);
      const first = await cache.get<{ list: number[] }>('value');
      expect(first).toStrictEqual({ list: [1, 2] });
      first?.list.push(99);
      await expect(cache.get('value')).resolves.toStrictEqual({ list: [1, 2] });
    });

    test('set overwrites an existing value', async () => {
      const cache = await make();
      await cache.set('key', 'first');
      await cache.set('key', { second: true });
      await expect(cache.get('key')).resolves.toStrictEqual({ second: true });
    });

    test('delete removes only the given key', async () => {
      const cache = await make();
      await cache.set('gone', 1);
      await cache.set('kept', 2);
      await cache.delete('gone');
      await expect(cache.get('gone')).resolves.toBeUndefined();
      await expect(cache.get('kept')).resolves.toBe(2);
    });

    test('delete of a missing key resolves', async () => {
      const cache = await make();
      await expect(cache.delete('never-set')).resolves.toBeUndefined();
    });

    test('a value set with ttlMs is there right after set and expires eventually', async () => {
      const cache = await make();
      await cache.set('long', 'still here', { ttlMs: LONG_TTL_MS });
      await expect(cache.get('long')).resolves.toBe('still here');
      await cache.set('short', 'soon gone', { ttlMs: SHORT_TTL_MS });
      await waitForMiss(cache, 'short');
      await expect(cache.get('long')).resolves.toBe('still here');
    });

    test('an expired entry is a miss on the very first read after it expired', async () => {
      const cache = await make();
      await cache.set('expired', 'stale', { ttlMs: SHORT_TTL_MS });
      await letShortTtlsRunOut(cache);
      await expect(cache.get('expired')).resolves.toBeUndefined();
    });

    test('a value set without ttlMs persists past other entries expiring', async () => {
      const cache = await make();
      await cache.set('forever', { kept: true });
      await letShortTtlsRunOut(cache);
      await expect(cache.get('forever')).resolves.toStrictEqual({ kept: true });
    });

    test('overwriting without ttlMs drops the earlier TTL', async () => {
      const cache = await make();
      await cache.set('key', 'short-lived', { ttlMs: SHORT_TTL_MS });
      await cache.set('key', 'permanent');
      await letShortTtlsRunOut(cache);
      await expect(cache.get('key')).resolves.toBe('permanent');
    });

    test('overwriting with a longer ttlMs extends the entry', async () => {
      const cache = await make();
      await cache.set('key', 'short-lived', { ttlMs: SHORT_TTL_MS });
      await cache.set('key', 'long-lived', { ttlMs: LONG_TTL_MS });
      await letShortTtlsRunOut(cache);
      await expect(cache.get('key')).resolves.toBe('long-lived');
    });

    test('namespaces are isolated: same key, different caches', async () => {
      const a = await make(`conformance-${run}-isolation-a`);
      const b = await make(`conformance-${run}-isolation-b`);
      await a.set('shared-key', 'from a');
      await expect(b.get('shared-key')).resolves.toBeUndefined();
      await b.set('shared-key', 'from b');
      await expect(a.get('shared-key')).resolves.toBe('from a');
      await expect(b.get('shared-key')).resolves.toBe('from b');
      await a.delete('shared-key');
      await expect(a.get('shared-key')).resolves.toBeUndefined();
      await expect(b.get('shared-key')).resolves.toBe('from b');
    });

    // Registered only for shared stores, rather than skipped, so an in-process backend reports no skipped test.
    if (options.sharedStore === true) test('two caches on one namespace share its entries', async () => {
      const a = await make(`conformance-${run}-shared`);
      const b = await make(`conformance-${run}-shared`);
      await a.set('key', 'written by a');
      await expect(b.get('key')).resolves.toBe('written by a');
      await b.delete('key');
      await expect(a.get('key')).resolves.toBeUndefined();
    });

    const oddKeys = [
      'with:colons:in:it',
      'docker.io/library/nginx',
      'ghcr.io/owner/image@sha256:abc',
      'with spaces  and\ttabs',
      'żółć/漢字/😀',
      '*?[glob]{chars}',
      'new\nline',
      '',
      'k'.repeat(1024),
      'ü'.repeat(1024),
    ];
    test('keys with odd characters are stored apart and read back', async () => {
      const cache = await make();
      await Promise.all(oddKeys.map((key, index) => cache.set(key, { index })));
      for (const [index, key] of oddKeys.entries()) {
        await expect(cache.get(key), `key ${JSON.stringify(key.slice(0, 20))}`).resolves.toStrictEqual({ index });
      }
      await cache.delete('*?[glob]{chars}');
      await expect(cache.get('*?[glob]{chars}')).resolves.toBeUndefined();
      await expect(cache.get('with:colons:in:it')).resolves.toStrictEqual({ index: 0 });
    });

    test.each([0, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY, '100' as unknown as number])(
      'set with ttlMs %s rejects with invalid_ttl and stores nothing',
      async (ttlMs) => {
        const cache = await make();
        const rejection = expect(cache.set('key', 'value', { ttlMs })).rejects;
        await rejection.toMatchObject({ code: 'invalid_ttl' });
        await expect(cache.set('key', 'value', { ttlMs })).rejects.toThrow(/ttlMs/);
        await expect(cache.get('key')).resolves.toBeUndefined();
      },
    );

    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    const notJson: [string, unknown][] = [
      ['a function', () => 1],
      ['a nested function', { ok: 1, callback: () => 1 }],
      ['a BigInt', 10n],
      ['a nested BigInt', { size: 10n }],
      ['a cycle', cyclic],
      ['a symbol', Symbol('s')],
      ['undefined', undefined],
      ['undefined in an array', [1, undefined]],
      ['NaN', Number.NaN],
      ['Infinity', { size: Number.POSITIVE_INFINITY }],
      ['a Map', new Map([['a', 1]])],
      ['a Set', { tags: new Set(['latest']) }],
    ];
    test.each(notJson)('set of %s rejects with invalid_value and stores nothing', async (_label, value) => {
      const cache = await make();
      await expect(cache.set('key', value)).rejects.toMatchObject({ code: 'invalid_value', message: expect.stringMatching(/\S/) as unknown });
      await expect(cache.get('key')).resolves.toBeUndefined();
    });

    test('concurrent sets and gets on distinct keys all land', async () => {
      const cache = await make();
      const keys = Array.from({ length: 200 }, (_, index) => `key-${index}`);
      await Promise.all(keys.map((key, index) => cache.set(key, { index })));
      const read = await Promise.all(keys.map((key) => cache.get(key)));
      expect(read).toStrictEqual(keys.map((_, index) => ({ index })));
    });

    test('concurrent sets of one key leave one of the written values', async () => {
      const cache = await make();
      const written = Array.from({ length: 50 }, (_, index) => index);
      await Promise.all(written.map((value) => cache.set('contended', value)));
      expect(written).toContain(await cache.get('contended'));
    });

    test('interleaved sets, gets and deletes never reject', async () => {
      const cache = await make();
      const operations = Array.from({ length: 300 }, (_, index) => {
        const key = `key-${index % 10}`;
        if (index % 3 === 0) return cache.set(key, index);
        if (index % 3 === 1) return cache.get(key);
        return cache.delete(key);
      });
      await expect(Promise.all(operations)).resolves.toHaveLength(300);
    });

    test('an already aborted signal rejects every call with aborted, and set stores nothing', async () => {
      const cache = await make();
      await cache.set('present', 'value');
      const signal = AbortSignal.abort(new Error('caller gave up'));
      await expect(cache.get('present', { signal })).rejects.toMatchObject({ code: 'aborted' });
      await expect(cache.set('absent', 'value', { signal })).rejects.toMatchObject({ code: 'aborted' });
      await expect(cache.delete('present', { signal })).rejects.toMatchObject({ code: 'aborted' });
      await expect(cache.get('absent')).resolves.toBeUndefined();
      await expect(cache.get('present')).resolves.toBe('value');
    });

    test('a signal that is not aborted changes nothing', async () => {
      const cache = await make();
      const { signal } = new AbortController();
      await cache.set('key', 'value', { signal, ttlMs: LONG_TTL_MS });
      await expect(cache.get('key', { signal })).resolves.toBe('value');
      await cache.delete('key', { signal });
      await expect(cache.get('key', { signal })).resolves.toBeUndefined();
    });

    test('close is idempotent, and calls after close reject with closed', async () => {
      const cache = await make();
      expect(typeof cache.close, `${name} must implement close()`).toBe('function');
      await cache.set('key', 'value');
      await cache.close?.();
      await expect(cache.close?.()).resolves.toBeUndefined();
      await expect(cache.get('key')).rejects.toMatchObject({ code: 'closed' });
      await expect(cache.set('key', 'value')).rejects.toMatchObject({ code: 'closed' });
      await expect(cache.delete('key')).rejects.toMatchObject({ code: 'closed' });
    });

    test('errors name their code and say what to do', async () => {
      const cache = await make();
      const error: unknown = await cache.set('key', 'value', { ttlMs: -5 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^@scanner\/[\w-]+: /);
      expect((error as Error).message).toContain('-5');
    });
  });
}
