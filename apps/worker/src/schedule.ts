import { createHash } from 'node:crypto';
import { Cron } from 'croner';

/** When an image runs: every interval at a fixed offset, or on a cron pattern. */
export type Schedule =
  | { readonly kind: 'interval'; readonly intervalMs: number; readonly offsetMs: number }
  | { readonly kind: 'cron'; readonly pattern: string; readonly cron: Cron };

/**
 * The schedule of an image: its cron `schedule` (croner syntax, 5 or 6 fields, UTC), else every `intervalMs`
 * at an offset derived from the image id. The offset spreads the images over the interval (the jitter), and is
 * the same on every replica and after every restart, so that replicas agree on each run's fire time.
 *
 * @throws Error (croner's message) for an invalid cron pattern.
 */
export function scheduleOf(image: { readonly id: string; readonly schedule: string | undefined }, intervalMs: number): Schedule {
  if (image.schedule !== undefined) {
    return { kind: 'cron', pattern: image.schedule, cron: new Cron(image.schedule, { paused: true, timezone: 'UTC' }) };
  }
  const hash = createHash('sha256').update(image.id).digest().readUInt32BE(0);
  return { kind: 'interval', intervalMs, offsetMs: hash % intervalMs };
}

/**
 * The first fire time (epoch ms) of `schedule` strictly after `afterMs`; for an interval schedule at least
 * half an interval after `notBeforeMs` too (an image that just ran at start-up waits for a slot that is
 * not right behind it). `undefined` when a cron pattern never fires again.
 */
export function nextFireMs(schedule: Schedule, afterMs: number, notBeforeMs = afterMs): number | undefined {
  if (schedule.kind === 'cron') return schedule.cron.nextRun(new Date(afterMs))?.getTime() ?? undefined;
  const { intervalMs, offsetMs } = schedule;
  const from = Math.max(afterMs, notBeforeMs + intervalMs / 2);
  const slot = Math.floor((from - offsetMs) / intervalMs) + 1;
  return slot * intervalMs + offsetMs;
}

/** A cron pattern's problem, or `undefined` when croner accepts it. */
export function cronProblem(pattern: string): string | undefined {
  try {
    new Cron(pattern, { paused: true, timezone: 'UTC' });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
