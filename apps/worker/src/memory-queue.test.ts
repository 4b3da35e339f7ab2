import { describe, expect, it } from 'vitest';
import type { JobData, JobOutcome } from './job.ts';
import { jobId } from './job.ts';
import { createMemoryQueue } from './memory-queue.ts';

const job = (imageId: string, targetName = 'main', registry = 'mirror.example.io'): JobData => ({ imageId, targetName, registry, reason: 'startup' });
const ok: JobOutcome = { result: 'succeeded', rateLimitedMs: undefined };

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the in-memory queue', () => {
  it('never holds a job id twice, waiting or running', async () => {
    const gate = deferred();
    const runs: string[] = [];
    const queue = createMemoryQueue({ limits: { concurrency: 1, registryConcurrency: () => 1 }, onRunnerError: () => undefined });
    await queue.start(async (data) => {
      runs.push(data.imageId);
      await gate.promise;
      return ok;
    });
    expect(await queue.add([job('a'), job('b'), job('a')])).toBe(2);
    await tick();
    expect(queue.running()).toEqual(new Set([jobId(job('a'))]));
    // a is running, b waiting: both are refused again; another target of a is another job.
    expect(await queue.add([job('a'), job('b'), job('a', 'regional')])).toBe(1);
    expect(await queue.counts()).toEqual({ waiting: 2, active: 1 });
    gate.resolve();
    await queue.close(1_000);
    expect(runs).toEqual(['a']);
  });

  it('runs again a job id that finished', async () => {
    const runs: string[] = [];
    const queue = createMemoryQueue({ limits: { concurrency: 2, registryConcurrency: () => 2 }, onRunnerError: () => undefined });
    await queue.start((data) => {
      runs.push(data.imageId);
      return Promise.resolve(ok);
    });
    await queue.add([job('a')]);
    await tick();
    await queue.add([job('a')]);
    await tick();
    expect(runs).toEqual(['a', 'a']);
    await queue.close(0);
  });

  it('keeps the concurrency per target registry and overall', async () => {
    const gate = deferred();
    let running = 0;
    let peak = 0;
    const peakPerRegistry = new Map<string, number>();
    const perRegistry = new Map<string, number>();
    const queue = createMemoryQueue({ limits: { concurrency: 3, registryConcurrency: (registry) => (registry === 'slow.example' ? 1 : 5) }, onRunnerError: () => undefined });
    await queue.start(async (data) => {
      running += 1;
      peak = Math.max(peak, running);
      perRegistry.set(data.registry, (perRegistry.get(data.registry) ?? 0) + 1);
      peakPerRegistry.set(data.registry, Math.max(peakPerRegistry.get(data.registry) ?? 0, perRegistry.get(data.registry) ?? 0));
      await gate.promise;
      running -= 1;
      perRegistry.set(data.registry, (perRegistry.get(data.registry) ?? 0) - 1);
      return ok;
    });
    await queue.add(['a', 'b', 'c'].map((id) => job(id, 'slow', 'slow.example')));
    await queue.add(['d', 'e', 'f', 'g'].map((id) => job(id, 'fast', 'fast.example')));
    await tick();
    expect(queue.running().size).toBe(3);
    gate.resolve();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await queue.counts()).waiting).toBe(0);
    expect(peak).toBe(3);
    expect(peakPerRegistry.get('slow.example')).toBe(1);
    await queue.close(100);
  });

  it('on close drops waiting jobs, lets running ones finish within the grace period, then aborts them', async () => {
    const signals: AbortSignal[] = [];
    const queue = createMemoryQueue({ limits: { concurrency: 1, registryConcurrency: () => 1 }, onRunnerError: () => undefined });
    let finished = 0;
    await queue.start(async (_data, signal) => {
      signals.push(signal);
      await new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve(); }, { once: true }); });
      finished += 1;
      return ok;
    });
    await queue.add([job('a'), job('b')]);
    await tick();
    const started = Date.now();
    await queue.close(150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(finished).toBe(1);
    expect(await queue.add([job('c')])).toBe(0);
    expect(queue.ready()).toBe(false);
  });

  it('reports a runner that rejects and goes on', async () => {
    const errors: unknown[] = [];
    const queue = createMemoryQueue({ limits: { concurrency: 1, registryConcurrency: () => 1 }, onRunnerError: (_job, error) => errors.push(error) });
    const runs: string[] = [];
    await queue.start((data) => {
      runs.push(data.imageId);
      return data.imageId === 'a' ? Promise.reject(new Error('boom')) : Promise.resolve(ok);
    });
    await queue.add([job('a'), job('b')]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toEqual(['a', 'b']);
    expect(errors).toHaveLength(1);
    await queue.close(0);
  });
});

describe('the in-memory queue after a 429', () => {
  it('pauses only the target registry that answered it', async () => {
    const starts = new Map<string, number>();
    const queue = createMemoryQueue({ limits: { concurrency: 4, registryConcurrency: () => 4 }, onRunnerError: () => undefined });
    await queue.start((data) => {
      starts.set(data.imageId, Date.now());
      return Promise.resolve({ result: 'succeeded', rateLimitedMs: data.imageId === 'limited' ? 400 : undefined });
    });
    await queue.add([job('limited', 'main', 'busy.example')]);
    await tick();
    const pausedAt = Date.now();
    await queue.add([job('after', 'main', 'busy.example'), job('elsewhere', 'main', 'calm.example')]);
    await tick();
    expect(starts.has('elsewhere')).toBe(true);
    expect(starts.has('after')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((starts.get('after') ?? Number.NaN) - pausedAt).toBeGreaterThanOrEqual(350);
    await queue.close(0);
  });
});

describe('jobId', () => {
  it('is stable, distinct per (image, target) and free of ":"', () => {
    const id = jobId({ imageId: 'team.yaml#docker.io/library/nginx', targetName: 'main' });
    expect(id).toBe(jobId({ imageId: 'team.yaml#docker.io/library/nginx', targetName: 'main' }));
    expect(id).not.toBe(jobId({ imageId: 'team.yaml#docker.io/library/nginx', targetName: 'regional' }));
    expect(id).not.toBe(jobId({ imageId: 'team.yaml#docker.io/library/nginxm', targetName: 'ain' }));
    expect(id).toMatch(/^[0-9a-f]{40}$/);
  });
});
