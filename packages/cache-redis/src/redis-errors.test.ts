import { hasBinary } from '@scanner/test-lab';
import { startRedis } from '@scanner/test-lab/redis';
import type { RedisServer } from '@scanner/test-lab/redis';
import { isScannerError } from '@scanner/registry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisCache } from './index.ts';
import type { RedisCacheError } from './index.ts';

const PASSWORD = 's3cret-redis-pass';

async function failureOf(action: Promise<unknown>): Promise<RedisCacheError> {
  try {
    await action;
  } catch (error) {
    return error as RedisCacheError;
  }
  throw new Error('expected a failure');
}

// A real redis-server with `requirepass` set: the messages quote what Redis said, never a password.
describe.skipIf(!hasBinary('redis-server'))('Redis authentication and TLS failures say what Redis said', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', PASSWORD);
    admin.disconnect();
  });

  afterAll(async () => {
    await redis[Symbol.asyncDispose]();
  });

  test('a wrong password is auth_failed quoting WRONGPASS, on the first call and while reconnecting', async () => {
    const cache = createRedisCache({ url: `redis://:wrong-${PASSWORD}@127.0.0.1:${redis.port}` });
    for (let call = 0; call < 3; call++) {
      const error = await failureOf(cache.get('key'));
      expect(error.code).toBe('auth_failed');
      expect(error.message).toContain('WRONGPASS');
      expect(error.message).toContain(`127.0.0.1:${redis.port}`);
      expect(error.message).not.toContain(PASSWORD);
      expect(error.message).not.toContain('Connection is closed');
      expect(isScannerError(error)).toBe(true);
      expect(error.fields.hints?.library).toContain('redis://[user]:PASSWORD@host:port');
    }
    await cache.close();
  });

  test('no password where one is required is auth_failed quoting NOAUTH', async () => {
    const cache = createRedisCache({ url: redis.url });
    const error = await failureOf(cache.set('key', 1, { ttlMs: 1000 }));
    expect(error.code).toBe('auth_failed');
    expect(error.message).toContain('NOAUTH');
    expect(error.message).toContain('requires a password');
    await cache.close();
  });

  test('the right password works', async () => {
    const cache = createRedisCache({ url: `redis://:${PASSWORD}@127.0.0.1:${redis.port}` });
    await cache.set('key', 'value', { ttlMs: 10_000 });
    expect(await cache.get('key')).toBe('value');
    await cache.close();
  });

  test('TLS against the plain-text port says the handshake never completed, without the password', async () => {
    const cache = createRedisCache({ url: `rediss://:${PASSWORD}@127.0.0.1:${redis.port}`, connectTimeoutMs: 500 });
    const error = await failureOf(cache.get('key'));
    expect(['timeout', 'tls']).toContain(error.code);
    expect(error.message).toMatch(/TLS/);
    expect(error.message).toContain('redis://');
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain('Connection is closed');
    // break-scan F4: the reason and the cli hint carry neither the method nor the option names.
    expect(error.fields.reason).toMatch(/TLS/);
    for (const text of [error.fields.reason, error.fields.hints?.cli]) {
      expect(text).not.toMatch(/get\(\)|TimeoutMs/);
    }
    await cache.close();
  });
});

// break-scan F13: the database number in the url's path is checked before ioredis sees it (ioredis sent
// `SELECT NaN` and its rejection escaped uncaught), and a number the server lacks fails instead of using db 0.
describe.skipIf(!hasBinary('redis-server'))('the database in the url', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis[Symbol.asyncDispose]();
  });

  test.each(['abc', '-1', '1.5', '0/x', '1e3'])('a path /%s that is not a database number is a config error at creation', (path) => {
    let error: RedisCacheError | undefined;
    try {
      createRedisCache({ url: `redis://:pw-secret@127.0.0.1:${redis.port}/${path}` });
    } catch (caught) {
      error = caught as RedisCacheError;
    }
    expect(error?.code).toBe('config');
    expect(error?.message).toContain('database number');
    expect(error?.message).not.toContain('pw-secret');
  });

  test('a database the server does not have fails with what Redis said, and nothing lands in db 0', async () => {
    const cache = createRedisCache({ url: `redis://127.0.0.1:${redis.port}/99` });
    for (let call = 0; call < 2; call++) {
      const error = await failureOf(cache.set('key', 1, { ttlMs: 60_000 }));
      expect(error.code).toBe('config');
      expect(error.message).toContain('database 99');
      expect(error.message).toContain('DB index is out of range');
    }
    await cache.close();
    const admin = new Redis(redis.url);
    expect(await admin.dbsize()).toBe(0);
    admin.disconnect();
  });

  test('a database the server has is used', async () => {
    const cache = createRedisCache({ url: `redis://127.0.0.1:${redis.port}/3` });
    await cache.set('key', 1, { ttlMs: 60_000 });
    expect(await cache.get('key')).toBe(1);
    await cache.close();
    const admin = new Redis(`${redis.url}/3`);
    expect(await admin.dbsize()).toBe(1);
    admin.disconnect();
  });
});
