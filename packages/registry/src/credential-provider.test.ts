import { describe, expect, test } from 'vitest';
import { createCachedCredentialProvider, parseUserPass } from './credential-provider.ts';
import { RegistryError } from './errors.ts';
import type { Credential } from './settings.ts';

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const basic = (password: string): Credential => ({ kind: 'basic', username: 'u', password });

describe('createCachedCredentialProvider', () => {
  test('without expiry the source is read once', async () => {
    let reads = 0;
    const provider = createCachedCredentialProvider({
      description: 'test',
      read: () => Promise.resolve(basic(`p${++reads}`)),
    });
    expect(await provider.get()).toEqual(basic('p1'));
    expect(await provider.get()).toEqual(basic('p1'));
    expect(reads).toBe(1);
  });

  test('re-reads once expireMs has passed on the injected clock', async () => {
    let nowMs = 1_000;
    let reads = 0;
    const provider = createCachedCredentialProvider({
      description: 'test',
      read: () => Promise.resolve(basic(`p${++reads}`)),
      expireMs: 300_000,
      now: () => nowMs,
    });
    expect(await provider.get()).toEqual(basic('p1'));
    nowMs += 299_999;
    expect(await provider.get()).toEqual(basic('p1'));
    nowMs += 1;
    expect(await provider.get()).toEqual(basic('p2'));
    nowMs += 100;
    expect(await provider.get()).toEqual(basic('p2'));
    expect(reads).toBe(2);
  });

  test('an undefined result is kept like any other', async () => {
    let reads = 0;
    const provider = createCachedCredentialProvider({
      description: 'test',
      read: () => {
        reads += 1;
        return Promise.resolve(undefined);
      },
    });
    expect(await provider.get()).toBeUndefined();
    expect(await provider.get()).toBeUndefined();
    expect(reads).toBe(1);
  });

  test('concurrent callers share the read in flight', async () => {
    const gate = deferred<Credential>();
    let reads = 0;
    const provider = createCachedCredentialProvider({
      description: 'test',
      read: () => {
        reads += 1;
        return gate.promise;
      },
    });
    const pending = Array.from({ length: 5 }, () => provider.get());
    expect(reads).toBe(1);
    gate.resolve(basic('shared'));
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 5 }, () => basic('shared')));
    expect(reads).toBe(1);
  });

  test('a failed read is shared by its waiters but not kept', async () => {
    const attempts = [deferred<Credential>(), deferred<Credential>()];
    let reads = 0;
    const provider = createCachedCredentialProvider({
      description: 'test',
      read: () => attempts[reads++]!.promise,
    });
    const first = provider.get();
    const second = provider.get();
    attempts[0]!.reject(new RegistryError('credentials', 'boom'));
    await expect(first).rejects.toMatchObject({ code: 'credentials' });
    await expect(second).rejects.toMatchObject({ code: 'credentials' });
    const third = provider.get();
    attempts[1]!.resolve(basic('recovered'));
    expect(await third).toEqual(basic('recovered'));
    expect(reads).toBe(2);
  });

  test('an aborted caller stops waiting without cancelling the shared read', async () => {
    const gate = deferred<Credential>();
    const provider = createCachedCredentialProvider({ description: 'env:X', read: () => gate.promise });
    const controller = new AbortController();
    const aborted = provider.get({ signal: controller.signal });
    const patient = provider.get();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'aborted' });
    gate.resolve(basic('late'));
    expect(await patient).toEqual(basic('late'));
    await expect(provider.get({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('parseUserPass', () => {
  test('splits at the first colon and trims the line', () => {
    expect(parseUserPass('bob:pa:ss:word\n', 'env:X')).toEqual({ kind: 'basic', username: 'bob', password: 'pa:ss:word' });
  });

  test.each(['N0colonValue', ':Pz9qValue', 'Uq7Value:', ''])('rejects %j without quoting it', (value) => {
    expect(() => parseUserPass(value, 'env:X')).toThrow(RegistryError);
    try {
      parseUserPass(value, 'env:X');
    } catch (error) {
      if (value !== '') expect((error as Error).message).not.toContain(value);
    }
  });
});
