/** Retry policy knobs; all optional on the client. */
export interface RetryOptions {
  /** Retries after the first attempt. @default 3 */
  readonly retries: number;
  /** Base of the exponential backoff. @default 250 */
  readonly retryBaseMs: number;
  /** Upper bound of one backoff delay. @default 10000 */
  readonly retryMaxMs: number;
  /** Longest `Retry-After` the client waits; a longer one fails at once with `rate_limited`. @default 60000 */
  readonly retryAfterMaxMs: number;
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, base·2^(attempt-1))). */
export function backoffDelayMs(attempt: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Statuses worth another try for an idempotent request. 501 and 505 will not change on retry. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}
