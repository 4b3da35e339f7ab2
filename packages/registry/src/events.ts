import { channel } from 'node:diagnostics_channel';
import type { RateLimitInfo } from './rate-limit.ts';

/** What a request is for; request counts per kind are a first-class figure for scanners. */
export type RequestKind = 'tags' | 'manifest' | 'blob' | 'token' | 'upload' | 'mount' | 'referrers';

/** Fields shared by the request and response events. `url` never carries credentials. */
export interface RequestEventBase {
  readonly method: string;
  readonly url: string;
  /** Registry host as in references, e.g. `ghcr.io`. */
  readonly registry: string;
  readonly repository: string | undefined;
  readonly kind: RequestKind;
  /** 1 for the first try, 2 for the first retry… */
  readonly attempt: number;
  /** How many redirects were followed before this exchange (0 for the first hop). */
  readonly redirect: number;
}

/** Sent before every HTTP exchange, retries and redirect hops included. */
export interface RequestEvent extends RequestEventBase {
  readonly type: 'request';
  /** Size of the request body, when known. */
  readonly bytes: number | undefined;
}

/** Sent when the response headers of an exchange arrived (or the exchange failed without a response). */
export interface ResponseEvent extends RequestEventBase {
  readonly type: 'response';
  /** HTTP status; 0 when the exchange failed without a response (then `error` says why). */
  readonly status: number;
  /** Time from sending to response headers. */
  readonly durationMs: number;
  /** The declared response size (`Content-Length`), when the registry sent one. */
  readonly bytes: number | undefined;
  /** The registry's rate-limit headers on this response (Docker Hub `RateLimit-*`), when present. */
  readonly rateLimit: RateLimitInfo | undefined;
  /** The transport error code when `status` is 0. */
  readonly error: string | undefined;
}

/** Sent before the client waits to retry. */
export interface RetryEvent extends RequestEventBase {
  readonly type: 'retry';
  readonly delayMs: number;
  /** `status 503`, `network`, `timeout`… */
  readonly reason: string;
}

/**
 * Something the client worked around but the caller should know about: a registry bug (a pagination loop),
 * an incomplete result (the page cap), an adjustment it made (page size capped), credentials withheld.
 */
export interface WarningEvent {
  readonly type: 'warning';
  readonly code:
    | 'pagination_loop'
    | 'pagination_stalled'
    | 'page_cap'
    | 'page_size_capped'
    | 'credentials_withheld'
    | 'blob_resumed'
    /** Manifest GETs to the registry wait: `RateLimit-Remaining` fell below its `rateLimitFloor` (once per pause). */
    | 'ratelimit_pause'
    /** A source mirror lacked the content, failed or served other bytes; the next mirror or the registry is read. */
    | 'mirror_fallthrough'
    /** A scan left one tag out (not an image, unreadable, gone between listing and HEAD); `tag` and `reason` say which and why. */
    | 'tag_skipped'
    /** A tag list held names that are not valid tags (control characters, spaces, `/`, non-strings); they are left out, counted in the message. */
    | 'invalid_tags_dropped';
  readonly message: string;
  readonly registry: string;
  readonly repository: string | undefined;
  /** For `tag_skipped`: the tag left out. */
  readonly tag?: string | undefined;
  /** For `tag_skipped`: the error code that made the scan leave the tag out, e.g. `not_an_image`. */
  readonly reason?: string | undefined;
}

/** Everything `onEvent` receives. */
export type RegistryEvent = RequestEvent | ResponseEvent | RetryEvent | WarningEvent;

/**
 * `node:diagnostics_channel` names the client publishes on, for metrics without wiring `onEvent`:
 * `scanner:registry:request`, `scanner:registry:response`, `scanner:registry:retry`, `scanner:registry:warning`.
 */
export const REGISTRY_CHANNELS = {
  request: 'scanner:registry:request',
  response: 'scanner:registry:response',
  retry: 'scanner:registry:retry',
  warning: 'scanner:registry:warning',
} as const;

const channels = {
  request: channel(REGISTRY_CHANNELS.request),
  response: channel(REGISTRY_CHANNELS.response),
  retry: channel(REGISTRY_CHANNELS.retry),
  warning: channel(REGISTRY_CHANNELS.warning),
};

/** Delivers one event to the channel and the caller's hook; a throwing hook never breaks a request. */
export function createEmitter(onEvent: ((event: RegistryEvent) => void) | undefined): (event: RegistryEvent) => void {
  return (event) => {
    const target = channels[event.type];
    if (target.hasSubscribers) target.publish(event);
    if (onEvent === undefined) return;
    try {
      onEvent(event);
    } catch {
      // Metrics hooks are observers; their bugs must not fail a pull.
    }
  };
}

/**
 * The emitter of each client `createRegistryClient` made, so that the scanner reports its warnings on the same
 * `onEvent` hook and channels as the client it scans with.
 */
export const clientEmitters = new WeakMap<object, (event: RegistryEvent) => void>();
