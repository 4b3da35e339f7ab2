import { describeCacheConformance } from '@scanner/cache-conformance';
import { hasBinary } from '@scanner/test-lab';
import { startRedis } from '@scanner/test-lab/redis';
import type { RedisServer } from '@scanner/test-lab/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisCache, isRedisCacheError, REDIS_CACHE_CONNECTION_NAME } from './index.ts';
import type { RedisCache } from './index.ts';

describe('createRedisCache options', () => {
  test.each([
    [{ namespace: '' }, /namespace must be a non-empty string, got ""/],
    [{ commandTimeoutMs: 0 }, /commandTimeoutMs must be a positive integer number of milliseconds, got 0/],
    [{ connectTimeoutMs: 1.5 }, /connectTimeoutMs .* got 1\.5/],
    [{ maxReconnectDelayMs: -1 }, /maxReconnectDelayMs .* got -1/],
    [{ url: 'http://127.0.0.1:6379' }, /url "http:\/\/127\.0\.0\.1:6379" must start with redis:\/\/ or rediss:\/\//],
    [{ url: 'not a url' }, /url "not a url" is not a URL/],
    [{ url: 'redis://127.0.0.1:6379', client: new Redis({ lazyConnect: true }) }, /give either client or url, not both/],
  ])('rejects %o with a config error', (options, message) => {
    let caught: unknown;
    try {
      createRedisCache(options);
    } catch (error) {
      caught = error;
    }
    expect(isRedisCacheError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'config', message: expect.stringMatching(message) as unknown });
  });

  test('never quotes the password of a URL', () => {
    let caught: unknown;
    try {
      createRedisCache({ url: 'http://user:hunter2@127.0.0.1:6379' });
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toContain('//***@127.0.0.1');
    expect((caught as Error).message).not.toContain('hunter2');
  });

  test('validates the value and ttl before talking to Redis', async () => {
    // Nothing listens on the URL's port, and validation answers first anyway.
    const cache = createRedisCache({ url: 'redis://127.0.0.1:1' });
    await expect(cache.set('key', 'value', { ttlMs: 0 })).rejects.toMatchObject({ code: 'invalid_ttl' });
    await expect(cache.set('key', 10n)).rejects.toMatchObject({ code: 'invalid_value' });
    await cache.close();
  });
});

describe.skipIf(!hasBinary('redis-server'))('against a real redis-server', () => {
  let redis: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { lazyConnect: true, connectionName: 'test-admin' });
    await admin.connect();
  });

  afterAll(async () => {
    admin.disconnect();
    await redis[Symbol.asyncDispose]();
  });

  async function cacheConnections(): Promise<number> {
    const list = await admin.client('LIST');
    return String(list).split('\n').filter((line) => line.includes(` name=${REDIS_CACHE_CONNECTION_NAME} `)).length;
  }

  describeCacheConformance('redis', ({ namespace }) => createRedisCache({ url: redis.url, namespace }), { sharedStore: true });

  test('does not connect before the first call, and shares one connection among concurrent first calls', async () => {
    const before = await cacheConnections();
    const cache = createRedisCache({ url: redis.url, namespace: 'lazy' });
    expect(await cacheConnections()).toBe(before);
    await Promise.all([cache.get('a'), cache.get('b'), cache.set('c', 1), cache.delete('d')]);
    expect(await cacheConnections()).toBe(before + 1);
    await cache.close();
    // Redis drops the connection right after answering QUIT; CLIENT LIST may lag by a moment.
    await eventuallySucceeds(async () => {
      expect(await cacheConnections()).toBe(before);
    });
  });

  test('stores keys as keyPrefix + namespace + ":" + key, with the TTL in Redis', async () => {
    const cache = createRedisCache({ url: redis.url, keyPrefix: 'test-prefix:', namespace: 'ns' });
    await cache.set('ghcr.io/owner/image:tag', { digest: 'sha256:abc' }, { ttlMs: 60_000 });
    await cache.set('no-ttl', 1);
    expect((await admin.keys('test-prefix:*')).sort()).toStrictEqual(['test-prefix:ns:ghcr.io/owner/image:tag', 'test-prefix:ns:no-ttl']);
    expect(await admin.get('test-prefix:ns:ghcr.io/owner/image:tag')).toBe('{"digest":"sha256:abc"}');
    const pttl = await admin.pttl('test-prefix:ns:ghcr.io/owner/image:tag');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await admin.pttl('test-prefix:ns:no-ttl')).toBe(-1);
    await cache.close();
  });

  test('one prefix: keys are namespace + ":" + key, the namespace defaulting to "scanner"', async () => {
    const named = createRedisCache({ url: redis.url, namespace: 'default-prefix' });
    await named.set('key', true);
    expect(await admin.get('default-prefix:key')).toBe('true');
    await named.close();
    const plain = createRedisCache({ url: redis.url });
    expect(plain.namespace).toBe('scanner');
    await plain.set('v1:key', true);
    expect(await admin.get('scanner:v1:key')).toBe('true');
    expect(await admin.exists('scanner:scanner:v1:key')).toBe(0);
    await plain.close();
  });

  test('rejects a stored value that is not JSON with invalid_response', async () => {
    const cache = createRedisCache({ url: redis.url, namespace: 'foreign' });
    await admin.set('foreign:key', 'not json {');
    await expect(cache.get('key')).rejects.toMatchObject({ code: 'invalid_response', message: expect.stringContaining('"foreign:key"') as unknown });
    await cache.close();
  });

  test('reports a Redis error reply as server_error', async () => {
    const cache = createRedisCache({ url: redis.url, namespace: 'wrongtype' });
    await admin.lpush('wrongtype:list', 'x');
    await expect(cache.get('list')).rejects.toMatchObject({ code: 'server_error', message: expect.stringContaining('WRONGTYPE') as unknown });
    await cache.close();
  });

  test('uses an injected client as it is and leaves it open on close', async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    const cache = createRedisCache({ client, namespace: 'injected' });
    await cache.set('key', [1, 2]);
    await expect(cache.get('key')).resolves.toStrictEqual([1, 2]);
    await cache.close();
    expect(client.status).toBe('ready');
    expect(await client.get('injected:key')).toBe('[1,2]');
    await expect(cache.get('key')).rejects.toMatchObject({ code: 'closed' });
    client.disconnect();
  });

  test('waits for an injected client that is still connecting', async () => {
    const client = new Redis(redis.url); // connects at construction, as ioredis does by default
    const cache = createRedisCache({ client, namespace: 'injected-connecting' });
    await cache.set('key', 'value');
    await expect(cache.get('key')).resolves.toBe('value');
    await cache.close();
    client.disconnect();
  });

  test('an abort after the call started rejects with aborted', async () => {
    const cache = createRedisCache({ url: redis.url, namespace: 'abort-started' });
    await cache.get('warm-up');
    const controller = new AbortController();
    const pending = cache.get('key', { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    await cache.close();
  });

  describe('while Redis hangs (SIGSTOP)', () => {
    async function stalled(check: (cache: RedisCache) => Promise<void>): Promise<void> {
      const cache = createRedisCache({ url: redis.url, namespace: 'stalled', commandTimeoutMs: 200 });
      await cache.get('warm-up');
      redis.pause();
      try {
        await check(cache);
      } finally {
        redis.resume();
      }
      // The connection survives the stall: the same cache answers again.
      await cache.set('after', 'resumed');
      await expect(cache.get('after')).resolves.toBe('resumed');
      await cache.close();
    }

    test('a command that gets no answer rejects with timeout', async () => {
      await stalled(async (cache) => {
        await expect(cache.get('key')).rejects.toMatchObject({ code: 'timeout', message: expect.stringContaining('commandTimeoutMs (200)') as unknown });
      });
    });

    test('an abort while the command waits for its answer rejects with aborted', async () => {
      await stalled(async (cache) => {
        const controller = new AbortController();
        const pending = cache.get('key', { signal: controller.signal });
        setTimeout(() => { controller.abort(new Error('caller gave up')); }, 20);
        await expect(pending).rejects.toMatchObject({ code: 'aborted' });
      });
    });
  });
});

describe.skipIf(!hasBinary('redis-server'))('when Redis goes away', () => {
  test('rejects promptly with unavailable when Redis is down at first use, and recovers once it starts', async () => {
    await using redis = await startRedis();
    await redis.stop();
    const cache = createRedisCache({ url: redis.url, namespace: 'down-at-start', maxReconnectDelayMs: 100 });
    await expect(cache.get('key')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining(`127.0.0.1:${redis.port}`) as unknown });
    await expect(cache.set('key', 1)).rejects.toMatchObject({ code: 'unavailable' });
    await redis.restart();
    await eventuallySucceeds(() => cache.set('key', 'after start'));
    await expect(cache.get('key')).resolves.toBe('after start');
    await cache.close();
  });

  test('fails calls during a crash (SIGKILL) and serves again after restart, with the same cache', async () => {
    await using redis = await startRedis();
    const cache = createRedisCache({ url: redis.url, namespace: 'crash', maxReconnectDelayMs: 100 });
    const run = async (round: number): Promise<PromiseSettledResult<unknown>[]> =>
      Promise.allSettled([cache.set(`key-${round}`, { round }), cache.get(`key-${round - 1}`), cache.delete(`key-${round - 2}`)]);

    for (let round = 0; round < 20; round++) {
      expect((await run(round)).every((result) => result.status === 'fulfilled')).toBe(true);
    }

    await redis.kill();
    // Calls made while Redis is gone reject with a transport code instead of hanging in a queue.
    for (let round = 20; round < 40; round++) {
      for (const result of await run(round)) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as { code?: unknown };
        expect(isRedisCacheError(reason)).toBe(true);
        expect(['unavailable', 'timeout']).toContain(reason.code);
      }
    }

    await redis.restart(); // same port, empty data set: --save '' and no append-only file
    await eventuallySucceeds(() => cache.set('probe', 'back'));
    for (let round = 40; round < 60; round++) {
      expect((await run(round)).every((result) => result.status === 'fulfilled')).toBe(true);
    }
    await expect(cache.get('key-59')).resolves.toStrictEqual({ round: 59 });
    await expect(cache.get('key-10')).resolves.toBeUndefined(); // lost with the crash
    await cache.close();
  });

  test('close while Redis is down resolves, is idempotent, and later calls reject with closed', async () => {
    await using redis = await startRedis();
    const cache: RedisCache = createRedisCache({ url: redis.url, namespace: 'close-while-down', maxReconnectDelayMs: 100 });
    await cache.set('key', 1);
    await redis.kill();
    await expect(cache.get('key')).rejects.toMatchObject({ code: 'unavailable' });
    await cache.close();
    await cache.close();
    await expect(cache.get('key')).rejects.toMatchObject({ code: 'closed' });
  });
});

/** Retries `operation` until it resolves; fails after 15 s, which is only a bound, not an assertion. */
async function eventuallySucceeds(operation: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await operation();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
