import { createRequire } from 'node:module';
import { finished } from 'node:stream';
import type { Readable } from 'node:stream';
import type * as Tls from 'node:tls';
import { isLoopbackHost } from './endpoint.ts';
import { RegistryError, isRegistryError } from './errors.ts';
import type { RegistryEvent, RequestKind } from './events.ts';
import { ENGINE_TIMEOUT_PHASES, loadHttpEngine } from './http-engine.ts';
import type { EngineResponse, HttpEngineName, HttpPool, PoolOptions, ResponseBody, ResponseHeaders } from './http-engine.ts';
import { createSemaphore, createTokenBucket, parseRateLimitHeaders } from './rate-limit.ts';
import { waitForRateLimitFloor } from './rate-limit-floor.ts';
import type { RateLimitInfo, Semaphore, Sleep, TokenBucket } from './rate-limit.ts';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from './retry.ts';
import type { RetryOptions } from './retry.ts';
import type { RegistrySettings } from './settings.ts';

export type { ResponseBody } from './http-engine.ts';

// node:tls (and with it node:crypto) is required only for a configured CA: a run against a plain-HTTP registry
// never loads it, and one against HTTPS loads it with node:https when it connects.
const require = createRequire(import.meta.url);

/** What the transport shares across registries of one client. */
export interface Runtime {
  readonly retry: RetryOptions;
  readonly maxRedirects: number;
  readonly userAgent: string;
  /** The HTTP client under every registry's pools. */
  readonly httpEngine: HttpEngineName;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly now: () => number;
  readonly emit: (event: RegistryEvent) => void;
  /** Secrets seen by this client (passwords, tokens); scrubbed from every message we build. */
  readonly secrets: Set<string>;
}

/** Per-registry state: settings, connection pools, limits, learned quirks. */
export interface RegistryContext {
  readonly registry: string;
  readonly settings: RegistrySettings;
  readonly origin: URL;
  readonly timeoutMs: number;
  /** The registry's connection pool and, for hosts other than the registry's (blob storage, token realms), one with the custom CA but never `insecure`; created on first use. */
  readonly pools: ConnectionPools;
  readonly semaphore: Semaphore;
  readonly bucket: TokenBucket | undefined;
  rateLimit: RateLimitInfo | undefined;
  /** A smaller `n` the registry insisted on (ECR rejects n > 1000). */
  pageSizeCap: number | undefined;
  /** How the registry asked us to authenticate, learned from its first 401. */
  challenge: KnownChallenge | undefined;
}

export type KnownChallenge =
  | { readonly scheme: 'bearer'; readonly realm: string; readonly service: string | undefined }
  | { readonly scheme: 'basic' };

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
export type Headers = ResponseHeaders;

export interface SendRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly kind: RequestKind;
  readonly repository: string | undefined;
  readonly headers?: Record<string, string>;
  /** A `Uint8Array` is replayable (retries, redirects); a stream is sent once. */
  readonly body?: Uint8Array | Readable | undefined;
  /** Whether 429/5xx/connection errors may be retried. Only for idempotent requests with a replayable body. */
  readonly retry: boolean;
  readonly authorization?: string | undefined;
  /**
   * The body carries a secret (the identity-token form POST): a redirect to another origin is refused
   * instead of replaying the body there, the way `authorization` is dropped.
   */
  readonly secretBody?: boolean;
  readonly signal?: AbortSignal | undefined;
  /** @default true */
  readonly followRedirects?: boolean;
  /**
   * Free the concurrency slot once headers arrive instead of when the body ends. For blob streams, whose
   * reader may be slow or may itself be feeding a request to the same registry (a copy).
   */
  readonly releaseOnHeaders?: boolean;
}

export interface SendResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: ResponseBody;
  /** The URL that answered, after redirects. */
  readonly url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH/;

/** A registry's connection pools, created by its first request to each kind of host. */
export interface ConnectionPools {
  readonly engine: HttpEngineName;
  readonly options: PoolOptions;
  readonly foreignOptions: PoolOptions;
  pool: HttpPool | undefined;
  foreignPool: HttpPool | undefined;
  closed: boolean;
}

/** The pool for a request to `sameHost` (the registry) or another host, created on first use. */
async function poolFor(pools: ConnectionPools, sameHost: boolean): Promise<HttpPool> {
  const engine = await loadHttpEngine(pools.engine);
  const create = (options: PoolOptions): HttpPool => {
    const pool = engine.createPool(options);
    // After close(), a request fails as it did when the pools were made up front.
    if (pools.closed) void pool.close();
    return pool;
  };
  if (sameHost) {
    pools.pool ??= create(pools.options);
    return pools.pool;
  }
  pools.foreignPool ??= create(pools.foreignOptions);
  return pools.foreignPool;
}

/** Creates the connection pools (lazily) and limiters for one registry. */
export function createRegistryContext(settings: RegistrySettings, runtime: Runtime): RegistryContext {
  const origin = new URL(settings.origin);
  const ca = settings.ca === undefined ? undefined : [...(require('node:tls') as typeof Tls).rootCertificates, settings.ca];
  const timeoutMs = settings.timeoutMs ?? 30_000;
  const concurrency = settings.concurrency ?? 8;
  // No connection cap on the pools: the semaphore bounds requests, and a blob being copied within one
  // registry needs a second connection while the first is still streaming.
  const timeouts = { headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs };
  const pools: ConnectionPools = {
    engine: runtime.httpEngine,
    options: { ...timeouts, ca, rejectUnauthorized: settings.insecure !== true },
    foreignOptions: { ...timeouts, ca },
    pool: undefined,
    foreignPool: undefined,
    closed: false,
  };
  const rps = settings.requestsPerSecond ?? 0;
  return {
    registry: settings.registry,
    settings,
    origin,
    timeoutMs,
    pools,
    semaphore: createSemaphore(concurrency),
    bucket: rps > 0 ? createTokenBucket(rps, runtime.now, runtime.sleep) : undefined,
    rateLimit: undefined,
    pageSizeCap: undefined,
    challenge: undefined,
  };
}

/** A URL fit for events and messages: no user info. Queries stay (tag cursors, upload state), they hold no secrets. */
export function displayUrl(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/** Replaces every secret this client has seen with `***`. */
export function redact(runtime: Runtime, text: string): string {
  let result = text;
  for (const secret of runtime.secrets) {
    if (secret.length >= 4) result = result.split(secret).join('***');
  }
  return result;
}

export function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * One logical request: retries (429, 5xx, connection errors, with full-jitter backoff and `Retry-After`),
 * redirects followed by hand so that `Authorization` never reaches another origin, rate and concurrency
 * limits, events. Resolves with any final status; the caller decides what a status means.
 */
export async function send(context: RegistryContext, runtime: Runtime, request: SendRequest): Promise<SendResponse> {
  for (let attempt = 1; ; attempt++) {
    const canRetry = request.retry && attempt <= runtime.retry.retries;
    let response: SendResponse;
    try {
      response = await followRedirects(context, runtime, request, attempt);
    } catch (error) {
      const mapped = transportError(context, runtime, request, error);
      if (!canRetry || (mapped.code !== 'network' && mapped.code !== 'timeout') || isTlsError(error)) throw mapped;
      const delayMs = backoffDelayMs(attempt, runtime.retry, runtime.random);
      runtime.emit({ type: 'retry', ...eventBase(context, request, request.url, attempt, 0), delayMs, reason: mapped.code });
      await pause(context, runtime, request, delayMs);
      continue;
    }
    if (!canRetry || !isRetryableStatus(response.status)) return response;
    const retryAfterMs = parseRetryAfterMs(response.headers['retry-after'], runtime.now());
    // Waiting less than the registry asked would only earn another 429; waiting longer than the cap is the
    // caller's decision, so hand the response back and let it become a `rate_limited` error.
    if (retryAfterMs !== undefined && retryAfterMs > runtime.retry.retryAfterMaxMs) return response;
    await discard(response.body);
    const delayMs = retryAfterMs ?? backoffDelayMs(attempt, runtime.retry, runtime.random);
    runtime.emit({
      type: 'retry',
      ...eventBase(context, request, request.url, attempt, 0),
      delayMs,
      reason: `status ${response.status}`,
    });
    await pause(context, runtime, request, delayMs);
  }
}

async function pause(context: RegistryContext, runtime: Runtime, request: SendRequest, delayMs: number): Promise<void> {
  try {
    await runtime.sleep(delayMs, request.signal);
  } catch (error) {
    throw transportError(context, runtime, request, error);
  }
}

/** Reads and drops a body so its connection can be reused; never throws. */
export async function discard(body: ResponseBody): Promise<void> {
  try {
    await body.dump();
  } catch {
    // The connection is gone anyway.
  }
}

async function followRedirects(
  context: RegistryContext,
  runtime: Runtime,
  request: SendRequest,
  attempt: number,
): Promise<SendResponse> {
  let url = request.url;
  let method = request.method;
  let body = request.body;
  let authorization = request.authorization;
  for (let hop = 0; ; hop++) {
    const response = await exchange(context, runtime, { ...request, method, url, body, authorization }, attempt, hop);
    const location = headerValue(response.headers, 'location');
    if (request.followRedirects === false || !REDIRECTS.has(response.status) || location === undefined) return response;
    await discard(response.body);
    if (hop >= runtime.maxRedirects) {
      throw new RegistryError('invalid_response', `more than ${runtime.maxRedirects} redirects from ${displayUrl(request.url)}; the registry or its storage is misconfigured`, {
        status: response.status,
        registry: context.registry,
        repository: request.repository,
      });
    }
    const next = new URL(location, url);
    const downgrade = url.protocol === 'https:' && next.protocol === 'http:' && !isLoopbackHost(next.host) && context.settings.insecure !== true;
    if ((next.protocol !== 'https:' && next.protocol !== 'http:') || downgrade) {
      throw new RegistryError('invalid_response', `refusing a redirect from ${displayUrl(url)} to ${displayUrl(next)}; set insecure: true to allow plain HTTP`, {
        status: response.status,
        registry: context.registry,
        repository: request.repository,
      });
    }
    if (next.origin !== url.origin && request.secretBody === true && body !== undefined && !(response.status === 303 && method !== 'HEAD')) {
      throw new RegistryError('cross_origin', `refusing a redirect from ${displayUrl(url)} to another origin (${next.origin}): the request body holds credentials; point the configuration at ${next.origin} directly if it is trusted`, {
        status: response.status,
        registry: context.registry,
        repository: request.repository,
      });
    }
    // Storage backends (S3, GCS) reject a second credential, and a token must never leave its origin.
    if (next.origin !== url.origin) authorization = undefined;
    if (response.status === 303 && method !== 'HEAD') {
      method = 'GET';
      body = undefined;
    }
    if (body !== undefined && !(body instanceof Uint8Array)) {
      throw new RegistryError('invalid_response', `${method} ${displayUrl(url)} was redirected but its streamed body cannot be sent twice; upload from bytes instead`, {
        status: response.status,
        registry: context.registry,
        repository: request.repository,
      });
    }
    url = next;
  }
}

function eventBase(context: RegistryContext, request: SendRequest, url: URL, attempt: number, redirect: number) {
  return {
    method: request.method,
    url: displayUrl(url),
    registry: context.registry,
    repository: request.repository,
    kind: request.kind,
    attempt,
    redirect,
  };
}

async function exchange(
  context: RegistryContext,
  runtime: Runtime,
  request: SendRequest,
  attempt: number,
  redirect: number,
): Promise<SendResponse> {
  const { url, body } = request;
  await waitForRateLimitFloor(context, runtime, request);
  const release = await context.semaphore.acquire(request.signal);
  try {
    await context.bucket?.take(request.signal);
  } catch (error) {
    release();
    throw error;
  }
  const headers: Record<string, string> = { 'user-agent': runtime.userAgent, ...request.headers };
  if (request.authorization !== undefined) headers['authorization'] = request.authorization;
  if (body instanceof Uint8Array) headers['content-length'] = String(body.byteLength);
  const base = eventBase(context, request, url, attempt, redirect);
  const declared = headers['content-length'];
  runtime.emit({ type: 'request', ...base, bytes: body instanceof Uint8Array ? body.byteLength : declared === undefined ? undefined : Number(declared) });
  const started = performance.now();
  const sameHost = url.hostname === context.origin.hostname;
  let data: EngineResponse;
  try {
    const pool = await poolFor(context.pools, sameHost);
    data = await pool.request({ origin: url.origin, path: `${url.pathname}${url.search}`, method: request.method, headers, body, signal: request.signal });
  } catch (error) {
    release();
    const mapped = transportError(context, runtime, request, error);
    runtime.emit({
      type: 'response',
      ...base,
      status: 0,
      durationMs: performance.now() - started,
      bytes: undefined,
      rateLimit: undefined,
      error: mapped.code,
    });
    throw error;
  }
  // The permit is held until the body is consumed or destroyed, so `concurrency` bounds open bodies too.
  if (request.releaseOnHeaders === true) release();
  else {
    finished(data.body, () => {
      release();
    });
  }
  const responseHeaders: Headers = data.headers;
  const rateLimit = sameHost ? parseRateLimitHeaders(responseHeaders, runtime.now()) : undefined;
  if (rateLimit !== undefined) context.rateLimit = rateLimit;
  const length = headerValue(responseHeaders, 'content-length');
  runtime.emit({
    type: 'response',
    ...base,
    status: data.statusCode,
    durationMs: performance.now() - started,
    bytes: length === undefined ? undefined : Number(length),
    rateLimit,
    error: undefined,
  });
  return { status: data.statusCode, headers: responseHeaders, body: data.body, url };
}

function isTlsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TLS_CODES.test(code);
}

/** Maps a thrown transport failure to a `RegistryError` (`aborted`, `timeout`, `network`). */
export function transportError(
  context: RegistryContext,
  runtime: Runtime,
  request: Pick<SendRequest, 'method' | 'url' | 'repository' | 'signal'>,
  error: unknown,
): RegistryError {
  if (isRegistryError(error)) return error;
  const where = `${request.method} ${displayUrl(request.url)}`;
  const details = { registry: context.registry, repository: request.repository, cause: error };
  if (request.signal?.aborted === true) return new RegistryError('aborted', `${where} was aborted by the caller`, details);
  const code = (error as { code?: unknown } | null)?.code;
  // node:http says a response cut short is "aborted" (code ECONNRESET), which reads like the caller's doing.
  const cutShort = code === 'ECONNRESET' && error instanceof Error && error.message === 'aborted';
  const reason = cutShort ? 'the connection closed before the response ended' : redact(runtime, error instanceof Error ? error.message : String(error));
  const registry = context.registry;
  const phase = typeof code === 'string' ? ENGINE_TIMEOUT_PHASES[code] : undefined;
  if (phase !== undefined) {
    // In our words, not the engine's error name ("Headers Timeout Error"), which stays in `cause`.
    const sources = context.settings.sources;
    // The registries config set this per-request time-out: name its key, which no flag changes.
    const key = sources?.timeoutMs === undefined ? undefined : `${sources.timeoutMs}${sources.file === undefined ? '' : ` in ${sources.file}`}`;
    return new RegistryError('timeout', `${where} got no answer within ${context.timeoutMs} ms (${phase})`, {
      ...details,
      ...(sources?.timeoutMs === undefined ? {} : { field: sources.timeoutMs }),
      hints: {
        library: `raise settings.timeoutMs for ${registry} (per request) if it is slow, or check that it answers`,
        config: `raise ${key ?? `timeout of the registries entry for ${registry}`} if it is slow, or check that it answers`,
        cli: key === undefined ? `raise --timeout if ${registry} is slow, or check that it answers` : `raise ${key} (the per-request time-out) if ${registry} is slow, or check that it answers`,
      },
    });
  }
  if (isTlsError(error)) {
    return new RegistryError('network', `TLS failure on ${where} (${reason})`, {
      ...details,
      hints: {
        library: `set settings.ca for ${registry} to trust its certificate, or settings.insecure: true`,
        config: `set ca_file or ca_data on the registries entry for ${registry} to trust its certificate, or insecure: true`,
        cli: `give ${registry} a ca_file in the file passed with --registries-config, or pass --insecure`,
      },
    });
  }
  const reachable = `check that ${registry} is reachable from here (name, port, proxy, firewall)`;
  return new RegistryError('network', `${where} failed (${reason})`, { ...details, hints: { library: reachable, config: reachable, cli: reachable } });
}

/** Releases the connection pools of one registry. */
export async function closeRegistryContext(context: RegistryContext): Promise<void> {
  const { pools } = context;
  pools.closed = true;
  await Promise.all([pools.pool?.close(), pools.foreignPool?.close()]);
}
