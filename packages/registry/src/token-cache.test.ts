import { describe, expect, test } from 'vitest';
import { createTokenCache, credentialId, tokenCacheKey } from './token-cache.ts';

describe('token cache', () => {
  test('expires_in with the safety margin; 60 s when absent', async () => {
    let now = 1_000_000;
    const cache = createTokenCache({ now: () => now, marginMs: 10_000 });
    let fetches = 0;
    const fetch = (expiresInSeconds: number | undefined) => () => {
      fetches++;
      return Promise.resolve({ token: `t${fetches}`, expiresInSeconds, issuedAtMs: undefined });
    };
    expect(await cache.get('k', fetch(undefined))).toBe('t1');
    now += 49_999;
    expect(await cache.get('k', fetch(undefined))).toBe('t1');
    now += 1;
    expect(await cache.get('k', fetch(300))).toBe('t2');
    now += 289_999;
    expect(await cache.get('k', fetch(300))).toBe('t2');
    now += 1;
    expect(await cache.get('k', fetch(300))).toBe('t3');
  });

  test('issued_at in the past shortens the life; a future issued_at (clock skew) is ignored', async () => {
    let now = 1_000_000;
    const cache = createTokenCache({ now: () => now, marginMs: 0 });
    await cache.get('a', () => Promise.resolve({ token: 'a', expiresInSeconds: 100, issuedAtMs: now - 90_000 }));
    await cache.get('b', () => Promise.resolve({ token: 'b', expiresInSeconds: 100, issuedAtMs: now + 500_000 }));
    now += 10_000;
    expect(await cache.get('a', () => Promise.resolve({ token: 'a2', expiresInSeconds: 100, issuedAtMs: undefined }))).toBe('a2');
    expect(await cache.get('b', () => Promise.resolve({ token: 'b2', expiresInSeconds: 100, issuedAtMs: undefined }))).toBe('b');
  });

  test('a short-lived token is kept for at least half its life', async () => {
    let now = 0;
    const cache = createTokenCache({ now: () => now, marginMs: 10_000 });
    await cache.get('k', () => Promise.resolve({ token: 'x', expiresInSeconds: 4, issuedAtMs: undefined }));
    now = 1999;
    expect(await cache.get('k', () => Promise.resolve({ token: 'y', expiresInSeconds: 4, issuedAtMs: undefined }))).toBe('x');
  });

  test('one fetch in flight per key; failures are not cached', async () => {
    const cache = createTokenCache({ now: () => 0, marginMs: 0 });
    let fetches = 0;
    let release: (() => void) | undefined;
    const slow = () => {
      fetches++;
      return new Promise<{ token: string; expiresInSeconds: number; issuedAtMs: undefined }>((resolve) => {
        release = () => {
          resolve({ token: 'shared', expiresInSeconds: 60, issuedAtMs: undefined });
        };
      });
    };
    const all = Promise.all([cache.get('k', slow), cache.get('k', slow), cache.get('k', slow)]);
    release?.();
    expect(await all).toEqual(['shared', 'shared', 'shared']);
    expect(fetches).toBe(1);
    await expect(cache.get('other', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('other', () => Promise.resolve({ token: 'ok', expiresInSeconds: 60, issuedAtMs: undefined }))).toBe('ok');
  });

  test('invalidate drops only the refused token', async () => {
    const cache = createTokenCache({ now: () => 0, marginMs: 0 });
    await cache.get('k', () => Promise.resolve({ token: 'old', expiresInSeconds: 60, issuedAtMs: undefined }));
    cache.invalidate('k', 'other');
    expect(cache.size).toBe(1);
    cache.invalidate('k', 'old');
    expect(cache.size).toBe(0);
  });

  test('keys hold a hash of the credential, never the secret; scope order does not matter', () => {
    const id = credentialId({ kind: 'basic', username: 'u', password: 'hunter2-secret' });
    expect(id).not.toContain('hunter2');
    expect(id).not.toBe(credentialId({ kind: 'basic', username: 'u', password: 'other' }));
    expect(credentialId(undefined)).toBe('anonymous');
    const key = tokenCacheKey('https://r/t', 's', ['b', 'a'], id);
    expect(key).toBe(tokenCacheKey('https://r/t', 's', ['a', 'b'], id));
    expect(key).not.toContain('hunter2');
    expect(key).not.toBe(tokenCacheKey('https://r/t', 'other', ['a', 'b'], id));
  });
});
