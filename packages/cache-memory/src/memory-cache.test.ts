import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describeCacheConformance } from '@scanner/cache-conformance';
import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import { createMemoryCache, isMemoryCacheError } from './index.ts';

describeCacheConformance('memory', ({ namespace }) => createMemoryCache({ namespace }));

describe('createMemoryCache', () => {
  test('defaults the namespace', () => {
    expect(createMemoryCache().namespace).toBe('default');
  });

  test.each([
    [{ maxEntries: 0 }, /maxEntries must be a positive integer, got 0/],
    [{ maxEntries: 1.5 }, /maxEntries .* got 1\.5/],
    [{ maxBytes: -1 }, /maxBytes .* got -1/],
    [{ maxBytes: Number.NaN }, /maxBytes .* got NaN/],
    [{ ttlMs: 0 }, /ttlMs option must be a positive integer .* got 0/],
    [{ namespace: '' }, /namespace must be a non-empty string, got ""/],
  ])('rejects the options %o with a config error', (options, message) => {
    let caught: unknown;
    try {
      createMemoryCache(options);
    } catch (error) {
      caught = error;
    }
    expect(isMemoryCacheError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'config', message: expect.stringMatching(message) as unknown });
  });

  test('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = createMemoryCache({ maxEntries: 3 });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    await cache.get('a'); // a is now more recently used than b
    await cache.set('d', 4);
    await expect(cache.get('b')).resolves.toBeUndefined();
    expect(await Promise.all(['a', 'c', 'd'].map((key) => cache.get(key)))).toStrictEqual([1, 3, 4]);
    expect(cache.stats().entries).toBe(3);
  });

  test('counts the UTF-8 bytes of key and JSON value', async () => {
    const cache = createMemoryCache();
    await cache.set('ü', 'żó'); // key 2 bytes; JSON "żó" is 2 quotes + 4 bytes
    expect(cache.stats()).toStrictEqual({ entries: 1, bytes: 8 });
  });

  test('evicts least recently used entries beyond maxBytes', async () => {
    // Each entry: 2-byte key + 12-byte JSON string ("x" * 10 plus quotes) = 14 bytes.
    const cache = createMemoryCache({ maxBytes: 50 });
    for (const key of ['k1', 'k2', 'k3']) await cache.set(key, 'x'.repeat(10));
    expect(cache.stats()).toStrictEqual({ entries: 3, bytes: 42 });
    await cache.set('k4', 'x'.repeat(10));
    await expect(cache.get('k1')).resolves.toBeUndefined();
    await expect(cache.get('k4')).resolves.toBe('x'.repeat(10));
    expect(cache.stats()).toStrictEqual({ entries: 3, bytes: 42 });
  });

  test('rejects an entry larger than maxBytes with too_large and drops the value it would replace', async () => {
    const cache = createMemoryCache({ maxBytes: 100 });
    await cache.set('big', 'small');
    await cache.set('other', 'kept');
    await expect(cache.set('big', 'x'.repeat(200))).rejects.toMatchObject({
      code: 'too_large',
      message: expect.stringMatching(/"big" takes 205 bytes, more than maxBytes \(100\)/) as unknown,
    });
    await expect(cache.get('big')).resolves.toBeUndefined();
    await expect(cache.get('other')).resolves.toBe('kept');
  });

  test('applies the default ttlMs to sets without one, and a per-call ttlMs overrides it', async () => {
    const cache = createMemoryCache({ ttlMs: 30 });
    await cache.set('default-ttl', 1);
    await cache.set('own-ttl', 2, { ttlMs: 10 * 60_000 });
    await cache.set('sentinel', 3, { ttlMs: 30 });
    await vi.waitFor(async () => { expect(await cache.get('sentinel')).toBeUndefined(); }, { timeout: 10_000, interval: 10 });
    // default-ttl was set before the sentinel with the same TTL, so it has expired too.
    await expect(cache.get('default-ttl')).resolves.toBeUndefined();
    await expect(cache.get('own-ttl')).resolves.toBe(2);
  });

  test('any JSON value comes back as JSON would return it', async () => {
    const cache = createMemoryCache();
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.jsonValue(), async (key, value) => {
        await cache.set(key, value);
        // JSON itself turns -0 into 0, so compare with what a JSON round trip gives.
        expect(await cache.get(key)).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  test('close drops every entry', async () => {
    const cache = createMemoryCache();
    await cache.set('key', 'value');
    await cache.close();
    expect(cache.stats()).toStrictEqual({ entries: 0, bytes: 0 });
  });

  test('holds no timer that keeps the process alive', async () => {
    // A child process creates caches with TTLs and long-lived entries and then has nothing left to do: it must
    // exit by itself. If a timer held it, it would never exit and this test would fail on its timeout.
    const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
    const script = `
      import { createMemoryCache } from ${JSON.stringify(entry)};
      const withDefault = createMemoryCache({ ttlMs: 3_600_000 });
      await withDefault.set('a', { long: true });
      const plain = createMemoryCache();
      await plain.set('b', [1, 2, 3], { ttlMs: 3_600_000 });
      await plain.set('c', 'forever');
      await withDefault.get('a');
      await plain.get('b');
      process.stdout.write(JSON.stringify([await withDefault.get('a'), await plain.get('b'), await plain.get('c')]));
    `;
    const child = spawn(process.execPath, ['--conditions=@scanner/source', '--input-type=module', '--eval', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect({ code, signal, stderr }).toStrictEqual({ code: 0, signal: null, stderr: '' });
    expect(JSON.parse(stdout)).toStrictEqual([{ long: true }, [1, 2, 3], 'forever']);
  });
});
