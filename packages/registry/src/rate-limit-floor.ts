// The `ratelimit_floor` pause: keep a registry's advertised quota from being spent to the last request.
import type { RateLimitInfo } from './rate-limit.ts';
import type { RegistryContext, Runtime, SendRequest } from './transport.ts';
import { transportError } from './transport.ts';

/** How long to pause when the registry sent neither `w=` nor `RateLimit-Reset`. */
export const DEFAULT_QUOTA_WINDOW_SECONDS = 60;

/**
 * Paused requests look again this often, so that a newer `RateLimit-Remaining` (from HEADs and blob reads,
 * which go on) ends the pause early when the quota has recovered, as Docker Hub's sliding window does.
 */
export const QUOTA_RECHECK_MS = 60_000;

/** Registries currently paused; a pause is announced once, when it starts. */
const paused = new WeakSet<RegistryContext>();

/**
 * The requests a `RateLimit-*` quota counts: manifest GETs. Docker Hub counts a pull per manifest GET and
 * not HEADs, tag lists or blob reads ("Docker Hub usage and limits"), so those go on during a pause and let
 * a plan, or the blobs of manifests already read, finish.
 */
export function isCountedRequest(request: Pick<SendRequest, 'method' | 'kind'>): boolean {
  return request.method === 'GET' && request.kind === 'manifest';
}

/** When the quota of `info` resets: `RateLimit-Reset`, else the `w=` window, else a minute, after it was seen. */
export function quotaResetAtMs(info: RateLimitInfo): number {
  return info.observedAtMs + (info.resetSeconds ?? info.windowSeconds ?? DEFAULT_QUOTA_WINDOW_SECONDS) * 1000;
}

/**
 * Waits, before a counted request to the registry's own origin, while the registry's last `RateLimit-Remaining`
 * is below its `rateLimitFloor` and its window has not reset. Emits one `ratelimit_pause` warning per pause.
 * Holds no concurrency slot while waiting, so other requests (and other registries) go on. The request's
 * `signal` ends the wait with `aborted`.
 */
export async function waitForRateLimitFloor(context: RegistryContext, runtime: Runtime, request: SendRequest): Promise<void> {
  const floor = context.settings.rateLimitFloor;
  if (floor === undefined || !isCountedRequest(request) || request.url.origin !== context.origin.origin) return;
  let waited = false;
  for (;;) {
    const info = context.rateLimit;
    const remaining = info?.remaining;
    const waitMs = info === undefined || remaining === undefined || remaining >= floor ? 0 : quotaResetAtMs(info) - runtime.now();
    if (waitMs <= 0) {
      if (waited) paused.delete(context);
      return;
    }
    if (!paused.has(context)) {
      paused.add(context);
      runtime.emit({
        type: 'warning',
        code: 'ratelimit_pause',
        message: `${context.registry} has ${remaining} requests left of its quota, below the floor of ${floor}; manifest GETs wait ${Math.ceil(waitMs / 1000)} s for the window to reset (ratelimit_floor)`,
        registry: context.registry,
        repository: request.repository,
      });
    }
    waited = true;
    try {
      await runtime.sleep(Math.min(waitMs, QUOTA_RECHECK_MS), request.signal);
    } catch (error) {
      throw transportError(context, runtime, request, error);
    }
  }
}
