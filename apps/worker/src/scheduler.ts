import type { Schedule } from './schedule.ts';
import { nextFireMs, scheduleOf } from './schedule.ts';

/** What the scheduler needs of an image. */
export interface SchedulableImage {
  readonly id: string;
  readonly schedule: string | undefined;
}

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  /** The worker's `--interval`, for images without a cron `schedule`. */
  readonly intervalMs: number;
  /** Called with the images due at `fireMs` (epoch ms); a rejection is reported to `onError`. */
  readonly fire: (imageIds: readonly string[], fireMs: number) => Promise<void>;
  readonly onError: (error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Fires images on their schedules; one timer for all of them. */
export interface Scheduler extends Disposable {
  /** Sets the images to schedule: new ones get a fire time, removed ones are dropped, others keep theirs. */
  update(images: readonly SchedulableImage[]): void;
  /** The next fire time of an image (epoch ms), if scheduled. */
  nextRunMs(imageId: string): number | undefined;
  /** Stops the timer. Idempotent. */
  close(): void;
}

interface Entry {
  readonly pattern: string | undefined;
  readonly schedule: Schedule;
  nextMs: number | undefined;
}

// setTimeout takes at most a signed 32-bit number of milliseconds.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One timer loop over every image's next fire time (cron via croner, or the interval). Invalid cron patterns
 * are rejected by the config store before they reach here.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const entries = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (closed) return;
    let earliest: number | undefined;
    for (const entry of entries.values()) {
      if (entry.nextMs !== undefined && (earliest === undefined || entry.nextMs < earliest)) earliest = entry.nextMs;
    }
    if (earliest === undefined) return;
    timer = setTimeout(tick, Math.min(MAX_TIMER_MS, Math.max(0, earliest - now())));
    timer.unref();
  };

  const tick = (): void => {
    const at = now();
    const due = new Map<number, string[]>();
    for (const [id, entry] of entries) {
      if (entry.nextMs === undefined || entry.nextMs > at) continue;
      const ids = due.get(entry.nextMs) ?? [];
      ids.push(id);
      due.set(entry.nextMs, ids);
      entry.nextMs = nextFireMs(entry.schedule, Math.max(at, entry.nextMs), startedMs);
    }
    for (const [fireMs, ids] of due) {
      options.fire(ids, fireMs).catch(options.onError);
    }
    arm();
  };

  return {
    update(images) {
      const seen = new Set<string>();
      for (const image of images) {
        seen.add(image.id);
        const existing = entries.get(image.id);
        if (existing !== undefined && existing.pattern === image.schedule) continue;
        const schedule = scheduleOf(image, options.intervalMs);
        entries.set(image.id, { pattern: image.schedule, schedule, nextMs: nextFireMs(schedule, now(), startedMs) });
      }
      for (const id of entries.keys()) if (!seen.has(id)) entries.delete(id);
      arm();
    },
    nextRunMs: (id) => entries.get(id)?.nextMs,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    [Symbol.dispose]() {
      this.close();
    },
  };
}
