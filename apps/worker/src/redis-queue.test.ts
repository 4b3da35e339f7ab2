import { Redis } from 'ioredis';
import { startRedis } from '@scanner/test-lab/redis';
import { describe, expect, it } from 'vitest';
import type { JobData, JobOutcome } from './job.ts';
import { EVENTS_MAX_LEN, createRedisQueue } from './redis-queue.ts';
import { eventually } from './worker.fixture.ts';

const job = (imageId: string, registry = 'slow.example'): JobData => ({ imageId, targetName: 'main', registry, reason: 'schedule' });
const ok: JobOutcome = { result: 'succeeded', rateLimitedMs: undefined };

describe('the BullMQ queue on a real redis-server', () => {
  it('shares work between two replicas: one job per id, the target registry’s concurrency across both, one claim per tick', async () => {
    await using redis = await startRedis();
    const connections = [new Redis(redis.url, { maxRetriesPerRequest: null }), new Redis(redis.url, { maxRetriesPerRequest: null })];
    try {
      await Promise.all(connections.map((connection) => new Promise((resolve) => connection.once('ready', resolve))));
      let running = 0;
      let peak = 0;
      const runs: string[] = [];
      const runner = async (data: JobData): Promise<JobOutcome> => {
        running += 1;
        peak = Math.max(peak, running);
        runs.push(data.imageId);
        await new Promise((resolve) => setTimeout(resolve, 150));
        running -= 1;
        return ok;
      };
      const queues = connections.map((connection) =>
        createRedisQueue({
          connection,
          prefix: 'queue-test',
          limits: { concurrency: 4, registryConcurrency: (registry) => (registry === 'slow.example' ? 1 : 4) },
          onRunnerError: (_job, error) => {
            throw error;
          },
          onQueueError: () => undefined,
        }),
      );
      const [a, b] = queues as [ReturnType<typeof createRedisQueue>, ReturnType<typeof createRedisQueue>];
      await Promise.all(queues.map((queue) => queue.start(runner)));
      await Promise.all(queues.map((queue) => queue.serve(['slow.example'])));

      // Both replicas queue the same work at once: BullMQ keeps one job per id.
      await Promise.all([a.add(['i1', 'i2', 'i3'].map((id) => job(id))), b.add(['i1', 'i2', 'i3', 'i4'].map((id) => job(id)))]);
      await eventually(async () => (await a.counts()).waiting === 0 && (await a.counts()).active === 0 && runs.length === 4, 20_000, 'all jobs to run');
      expect([...runs].sort()).toEqual(['i1', 'i2', 'i3', 'i4']);
      // Once run, an id can be queued again (jobs are removed when they end).
      expect(await a.add([job('i1')])).toBe(1);
      await eventually(() => runs.length === 5, 10_000, 'the second run');
      // slow.example allows one job at a time, across both replicas.
      expect(peak).toBe(1);

      expect(await a.claimTick('img@1000', 10_000)).toBe(true);
      expect(await b.claimTick('img@1000', 10_000)).toBe(false);
      expect(await b.claimTick('img@2000', 10_000)).toBe(true);

      await Promise.all(queues.map((queue) => queue.close(1_000)));
    } finally {
      for (const connection of connections) connection.disconnect();
    }
  });

  it('bounds the keys BullMQ keeps without a TTL: the events stream is capped at EVENTS_MAX_LEN (approximately)', async () => {
    await using redis = await startRedis();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      await new Promise((resolve) => connection.once('ready', resolve));
      const queue = createRedisQueue({
        connection,
        prefix: 'bound-test',
        limits: { concurrency: 8, registryConcurrency: () => 8 },
        onRunnerError: (_job, error) => {
          throw error;
        },
        onQueueError: () => undefined,
      });
      let runs = 0;
      await queue.start(() => {
        runs += 1;
        return Promise.resolve(ok);
      });
      await queue.serve(['fast.example']);
      // Each job writes several events (added, waiting, active, completed, removed): far more than the cap.
      for (let round = 0; round < 4; round++) {
        await queue.add(Array.from({ length: 100 }, (_, index) => job(`img-${index}`, 'fast.example')));
        await eventually(() => runs === (round + 1) * 100, 20_000, `round ${round} to run`);
      }
      const [events] = await connection.keys('bound-test:*:events');
      expect(events).toBeDefined();
      const meta = (events ?? '').replace(/:events$/, ':meta');
      expect(await connection.hget(meta, 'opts.maxLenEvents')).toBe(String(EVENTS_MAX_LEN));
      // XADD MAXLEN ~ trims whole stream nodes (100 entries each): at most the cap plus one node.
      expect(await connection.xlen(events ?? '')).toBeLessThanOrEqual(EVENTS_MAX_LEN + 100);
      await queue.close(1_000);
    } finally {
      connection.disconnect();
    }
  });

  it('pauses only the target registry that answered 429 (the pause is kept in Redis, for every replica)', async () => {
    await using redis = await startRedis();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      await new Promise((resolve) => connection.once('ready', resolve));
      const events: { id: string; at: number; phase: 'start' | 'end' }[] = [];
      const queue = createRedisQueue({
        connection,
        prefix: 'rate-test',
        limits: { concurrency: 2, registryConcurrency: () => 2 },
        onRunnerError: () => undefined,
        onQueueError: () => undefined,
      });
      await queue.start(async (data) => {
        events.push({ id: data.imageId, at: Date.now(), phase: 'start' });
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push({ id: data.imageId, at: Date.now(), phase: 'end' });
        return { result: 'succeeded', rateLimitedMs: data.imageId === 'limited' ? 1_500 : undefined };
      });
      await queue.serve(['busy.example', 'calm.example']);
      await queue.add([job('limited', 'busy.example')]);
      await eventually(() => events.some((event) => event.id === 'limited' && event.phase === 'end'), 10_000, 'the limited job');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const pausedAt = Date.now();
      await queue.add([job('after', 'busy.example'), job('elsewhere', 'calm.example')]);
      await eventually(() => events.some((event) => event.id === 'after' && event.phase === 'start'), 10_000, 'the job after the pause');
      const started = (id: string) => events.find((event) => event.id === id && event.phase === 'start')?.at ?? Number.NaN;
      // The other registry's job ran during the pause; the paused registry's job only after it.
      expect(started('elsewhere')).toBeLessThan(started('after'));
      expect(started('after') - pausedAt).toBeGreaterThanOrEqual(1_000);
      await queue.close(1_000);
    } finally {
      connection.disconnect();
    }
  });
});
