import { describe, expect, test } from 'vitest';
import { createBlobLedger } from './ledger.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('createBlobLedger', () => {
  test('one upload per (registry, digest); copies in flight elsewhere wait and then mount from it', async () => {
    const ledger = createBlobLedger();
    const gate = deferred();
    const calls: (string | undefined)[] = [];
    const transfer = (repository: string) => async (mountFrom: string | undefined) => {
      calls.push(`${repository}<-${mountFrom ?? 'upload'}`);
      if (mountFrom === undefined) {
        await gate.promise;
        return 'uploaded' as const;
      }
      return 'mounted' as const;
    };
    const a = ledger.blob('r.io', 'team/a', 'sha256:1', transfer('team/a'));
    const b = ledger.blob('r.io', 'team/b', 'sha256:1', transfer('team/b'));
    const c = ledger.blob('r.io', 'team/c', 'sha256:1', transfer('team/c'));
    const other = ledger.blob('s.io', 'team/a', 'sha256:1', transfer('s.io team/a'));
    await Promise.resolve();
    expect(calls).toEqual(['team/a<-upload', 's.io team/a<-upload']);
    gate.resolve();
    expect(await Promise.all([a, b, c, other])).toEqual(['uploaded', 'mounted', 'mounted', 'uploaded']);
    expect(calls.slice(2).sort()).toEqual(['team/b<-team/a', 'team/c<-team/a']);
    expect(await ledger.blob('r.io', 'team/b', 'sha256:1', transfer('again'))).toBe('known');
    expect(ledger.holders('r.io', 'sha256:1')).toEqual(['team/a', 'team/b', 'team/c']);
  });

  test('a failed upload is forgotten: a waiting copy makes its own attempt', async () => {
    const ledger = createBlobLedger();
    const gate = deferred();
    const first = ledger.blob('r.io', 'team/a', 'sha256:2', async () => {
      await gate.promise;
      return 'uploaded';
    });
    const second = ledger.blob('r.io', 'team/b', 'sha256:2', (mountFrom) => Promise.resolve(mountFrom === undefined ? 'uploaded' : 'mounted'));
    gate.reject(new Error('connection reset'));
    await expect(first).rejects.toThrow('connection reset');
    expect(await second).toBe('uploaded');
    expect(ledger.holders('r.io', 'sha256:2')).toEqual(['team/b']);
  });

  test('remember() makes later copies mount from what a plan saw', async () => {
    const ledger = createBlobLedger();
    ledger.remember('r.io', 'seen/app', 'sha256:3');
    expect(await ledger.blob('r.io', 'team/a', 'sha256:3', (mountFrom) => Promise.resolve(mountFrom === 'seen/app' ? 'mounted' : 'uploaded'))).toBe('mounted');
  });

  test('once() shares work in flight and remembers success only', async () => {
    const ledger = createBlobLedger();
    let runs = 0;
    const work = async (): Promise<void> => {
      runs++;
      await Promise.resolve();
    };
    await Promise.all([ledger.once('k', work), ledger.once('k', work)]);
    await ledger.once('k', work);
    expect(runs).toBe(1);
    await expect(ledger.once('bad', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await ledger.once('bad', work);
    expect(runs).toBe(2);
  });
});
