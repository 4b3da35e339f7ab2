/** A registry's advertised request quota, from Docker Hub-style `RateLimit-Limit`/`RateLimit-Remaining`. */
export interface RateLimitInfo {
  /** Requests allowed per window, e.g. 100. */
  readonly limit: number | undefined;
  /** Requests left in the current window. */
  readonly remaining: number | undefined;
  /** Window length in seconds (`w=21600`). */
  readonly windowSeconds: number | undefined;
  /** Seconds until the quota resets (`RateLimit-Reset`, IETF draft), when sent. */
  readonly resetSeconds?: number | undefined;
  /** `Docker-RateLimit-Source` (the IP or account the quota applies to), when sent. */
  readonly source: string | undefined;
  /** When the response carrying these headers arrived, in epoch milliseconds. */
  readonly observedAtMs: number;
}

type HeaderValue = string | string[] | undefined;

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

// `100;w=21600` → { value: 100, window: 21600 }
function parseQuota(value: string | undefined): { value: number; window: number | undefined } | undefined {
  if (value === undefined) return undefined;
  const [head = '', ...params] = value.split(';');
  const parsed = Number.parseInt(head.trim(), 10);
  if (!Number.isFinite(parsed) || parsed < 0) return undefined;
  let window: number | undefined;
  for (const param of params) {
    const match = /^\s*w\s*=\s*(\d+)\s*$/i.exec(param);
    if (match) window = Number(match[1]);
  }
  return { value: parsed, window };
}

/** Reads `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and `Docker-RateLimit-Source`; undefined when absent. */
export function parseRateLimitHeaders(headers: Record<string, HeaderValue>, nowMs: number): RateLimitInfo | undefined {
  const limit = parseQuota(first(headers['ratelimit-limit']));
  const remaining = parseQuota(first(headers['ratelimit-remaining']));
  if (limit === undefined && remaining === undefined) return undefined;
  return {
    limit: limit?.value,
    remaining: remaining?.value,
    windowSeconds: limit?.window ?? remaining?.window,
    resetSeconds: parseQuota(first(headers['ratelimit-reset']))?.value,
    source: first(headers['docker-ratelimit-source']),
    observedAtMs: nowMs,
  };
}

/** Sleeps `ms` milliseconds, rejecting when `signal` aborts. Injected in tests. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A token bucket: `requestsPerSecond` steady rate with bursts up to `max(1, requestsPerSecond)`. */
export interface TokenBucket {
  take(signal?: AbortSignal): Promise<void>;
}

export function createTokenBucket(requestsPerSecond: number, now: () => number, sleep: Sleep): TokenBucket {
  const capacity = Math.max(1, requestsPerSecond);
  let tokens = capacity;
  let last = now();
  // Waiters are served in order so a burst of callers cannot starve an early one.
  let queue: Promise<void> = Promise.resolve();
  const refill = (): void => {
    const current = now();
    tokens = Math.min(capacity, tokens + ((current - last) / 1000) * requestsPerSecond);
    last = current;
  };
  return {
    take(signal) {
      const turn = queue.then(async () => {
        refill();
        while (tokens < 1) {
          await sleep(Math.ceil(((1 - tokens) / requestsPerSecond) * 1000), signal);
          refill();
        }
        tokens -= 1;
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

/** Limits concurrent requests; `acquire` resolves with a release function that is safe to call twice. */
export interface Semaphore {
  acquire(signal?: AbortSignal): Promise<() => void>;
  readonly active: number;
}

export function createSemaphore(limit: number): Semaphore {
  let active = 0;
  const waiters: { resolve: () => void; reject: (reason: unknown) => void; signal?: AbortSignal }[] = [];
  const releaser = (): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      active--;
      const next = waiters.shift();
      if (next) {
        active++;
        next.resolve();
      }
    };
  };
  return {
    get active() {
      return active;
    },
    async acquire(signal) {
      signal?.throwIfAborted();
      if (active < limit) {
        active++;
        return releaser();
      }
      await new Promise<void>((resolve, reject) => {
        const waiter = { resolve, reject };
        waiters.push(waiter);
        signal?.addEventListener(
          'abort',
          () => {
            const index = waiters.indexOf(waiter);
            if (index !== -1) {
              waiters.splice(index, 1);
              reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
            }
          },
          { once: true },
        );
      });
      return releaser();
    },
  };
}
