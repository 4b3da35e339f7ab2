import { describe, expect, it } from 'vitest';
import { eventually, logSink, seedSource, startMirrorLab, startTestWorker } from './worker.fixture.ts';

describe('shutting down in the middle of a copy', () => {
  it('aborts running copies after the grace period without moving any target tag half-way', async () => {
    await using lab = await startMirrorLab();
    const digests = new Map([
      ['2.0', await seedSource(lab, 'team/slow', ['2.0'], 'slow-2.0', 64 * 1024)],
      ['2.1', await seedSource(lab, 'team/slow', ['2.1'], 'slow-2.1', 64 * 1024)],
    ]);
    await lab.write('team-slow.yaml', `owner: team-slow\nimages:\n  - source: ${lab.sourceHost}/team/slow\n    tags:\n      - names: ['2.0', '2.1']\n`);
    // Source blob reads take 3 s: the copies are still going when the worker is told to stop.
    lab.sourceProxy.inject({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'delay', ms: 3_000 } });
    const log = logSink();
    const worker = await startTestWorker(lab, log, { gracePeriodMs: 300 });
    await eventually(() => lab.sourceProxy.requests().some((request) => request.fault === 'delay'), 20_000, 'a copy in flight');
    const started = Date.now();
    await worker.close();
    // Closed after the grace period, not after the copies would have finished.
    expect(Date.now() - started).toBeLessThan(2_900);
    expect(log.records().some((record) => record['msg'] === 'run aborted at shutdown; its job is handed back')).toBe(true);
    expect(log.records().at(-1)?.['msg']).toBe('stopped');
    // The abort is expected: warnings, never an error a log-based alert would page on.
    expect(log.records().filter((record) => Number(record['level']) >= 50).map((record) => record['msg'])).toEqual([]);

    // Every target tag is absent or complete with the source's digest.
    for (const repository of [`${lab.main.host}/team/slow`, `${lab.regional.host}/acme/team/slow`]) {
      for (const [tag, digest] of digests) {
        const found = await lab.digest(`${repository}:${tag}`);
        expect([undefined, digest]).toContain(found);
      }
    }
  }, 60_000);
});
