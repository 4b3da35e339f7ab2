import { afterEach, describe, expect, it, vi } from 'vitest';
import { cronProblem, nextFireMs, scheduleOf } from './schedule.ts';
import { createScheduler } from './scheduler.ts';

const HOUR = 3_600_000;

describe('schedules', () => {
  it('spreads images over the interval at an offset derived from their id, the same on every replica', () => {
    const a = scheduleOf({ id: 'a.yaml#docker.io/library/nginx', schedule: undefined }, HOUR);
    const again = scheduleOf({ id: 'a.yaml#docker.io/library/nginx', schedule: undefined }, HOUR);
    expect(a).toEqual(again);
    const offsets = new Set(Array.from({ length: 50 }, (_, index) => (scheduleOf({ id: `f.yaml#img${index}`, schedule: undefined }, HOUR) as { offsetMs: number }).offsetMs));
    expect(offsets.size).toBeGreaterThan(45);
    for (const offset of offsets) expect(offset).toBeGreaterThanOrEqual(0);
    for (const offset of offsets) expect(offset).toBeLessThan(HOUR);
  });

  it('fires an interval image once per interval, the first slot at least half an interval after start', () => {
    const schedule = { kind: 'interval' as const, intervalMs: HOUR, offsetMs: 10 * 60_000 };
    const start = Date.UTC(2026, 10, 29, 20, 5);
    // 20:10 is only 5 minutes after the start-up run: the first scheduled run is 21:10.
    expect(new Date(nextFireMs(schedule, start) ?? 0).toISOString()).toBe('2026-11-29T21:10:00.000Z');
    const after = Date.UTC(2026, 10, 29, 21, 10);
    expect(new Date(nextFireMs(schedule, after, start) ?? 0).toISOString()).toBe('2026-11-29T22:10:00.000Z');
  });

  it('fires a cron image at its pattern, in UTC', () => {
    const schedule = scheduleOf({ id: 'x', schedule: '30 */6 * * *' }, HOUR);
    expect(new Date(nextFireMs(schedule, Date.UTC(2026, 10, 29, 20, 5)) ?? 0).toISOString()).toBe('2026-11-30T00:30:00.000Z');
  });

  it('says what is wrong with a cron pattern', () => {
    expect(cronProblem('0 */6 * * *')).toBeUndefined();
    expect(cronProblem('61 * * * *')).toMatch(/.+/);
    expect(() => scheduleOf({ id: 'x', schedule: 'not cron' }, HOUR)).toThrow();
  });
});

describe('the scheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires due images with their fire time, and keeps fire times of images whose schedule is unchanged', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 29, 20, 0, 0) });
    const fired: [readonly string[], number][] = [];
    const scheduler = createScheduler({ intervalMs: 1_000, fire: (ids, at) => { fired.push([ids, at]); return Promise.resolve(); }, onError: () => undefined });
    scheduler.update([{ id: 'a', schedule: undefined }, { id: 'b', schedule: '* * * * * *' }]);
    const nextA = scheduler.nextRunMs('a') ?? 0;
    expect(nextA).toBeGreaterThan(Date.now());
    await vi.advanceTimersByTimeAsync(200);
    scheduler.update([{ id: 'a', schedule: undefined }, { id: 'b', schedule: '* * * * * *' }]);
    expect(scheduler.nextRunMs('a')).toBe(nextA);
    await vi.advanceTimersByTimeAsync(nextA - Date.now());
    const firedA = fired.filter(([ids]) => ids.includes('a'));
    expect(firedA.map(([, at]) => at)).toEqual([nextA]);
    for (const [, at] of fired) expect(at).toBeLessThanOrEqual(Date.now());
    expect(scheduler.nextRunMs('a')).toBe(nextA + 1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired.filter(([ids]) => ids.includes('b')).length).toBeGreaterThanOrEqual(1);
    scheduler.update([{ id: 'b', schedule: '* * * * * *' }]);
    expect(scheduler.nextRunMs('a')).toBeUndefined();
    scheduler.close();
    const count = fired.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fired).toHaveLength(count);
  });
});
