import { Redis } from 'ioredis';
import { startRedis } from '@scanner/test-lab/redis';
import { describe, expect, it } from 'vitest';
import type { StatusDocument } from './status.ts';
import { eventually, logSink, seedSource, startMirrorLab, startTestWorker } from './worker.fixture.ts';

describe('the worker on Redis', () => {
  it('keeps serving HTTP while Redis is down, reports not ready, and resumes when it returns; every key it writes expires', async () => {
    await using redis = await startRedis();
    await using lab = await startMirrorLab();
    const digest = await seedSource(lab, 'library/busybox', ['1.36']);
    await lab.write('team-base.yaml', `owner: team-base\nimages:\n  - source: ${lab.source.host}/library/busybox\n    tags:\n      - names: ['1.36']\n`);
    const log = logSink();
    await using worker = await startTestWorker(lab, log, { redisUrl: redis.url, redisPrefix: 'down-test' });
    const status = async (): Promise<StatusDocument> => (await (await fetch(`${worker.url}/api/status`)).json()) as StatusDocument;
    const upToDate = async () => (await status()).teams[0]?.state === 'up_to_date';
    await eventually(upToDate, 30_000, 'the first run');
    expect(await lab.digest(`${lab.mainHost}/library/busybox:1.36`)).toBe(digest);

    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('down-test:*');
      const own = keys.filter((key) => !/^down-test:sync-[0-9a-f]+:/.test(key));
      expect(own.some((key) => key.startsWith('down-test:scan-cache:'))).toBe(true);
      expect(own).toContain('down-test:status');
      for (const key of own) expect(await client.pttl(key), key).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }

    await redis.kill();
    await eventually(async () => (await fetch(`${worker.url}/readyz`)).status === 503, 10_000, 'not ready');
    const readyz = await (await fetch(`${worker.url}/readyz`)).json();
    expect(readyz).toEqual({ ready: false, reasons: ['Redis not reachable'] });
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker.url}/`)).status).toBe(200);
    expect((await fetch(`${worker.url}/metrics`)).status).toBe(200);

    // A fresh, empty Redis: the worker reconnects, is ready again, and queues every image again.
    await redis.restart();
    await eventually(async () => (await fetch(`${worker.url}/readyz`)).status === 200, 20_000, 'ready again');
    await eventually(upToDate, 30_000, 'the run after Redis returned');
    expect(log.records().some((record) => record['msg'] === 'run of every image queued' && record['reason'] === 'resume')).toBe(true);
  }, 90_000);

  it('starts while Redis is down, serving HTTP and not ready, and goes to work once Redis is up', async () => {
    await using redis = await startRedis();
    await redis.stop();
    await using lab = await startMirrorLab();
    const digest = await seedSource(lab, 'library/busybox', ['1.37']);
    await lab.write('team-base.yaml', `owner: team-base\nimages:\n  - source: ${lab.source.host}/library/busybox\n    tags:\n      - names: ['1.37']\n`);
    await using worker = await startTestWorker(lab, logSink(), { redisUrl: redis.url, redisPrefix: 'late-test' });
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${worker.url}/api/status`)).status).toBe(200);
    await redis.restart();
    await eventually(async () => (await fetch(`${worker.url}/readyz`)).status === 200, 20_000, 'ready');
    await eventually(async () => (await lab.digest(`${lab.mainHost}/library/busybox:1.37`)) === digest, 30_000, 'mirrored');
  }, 90_000);
});
