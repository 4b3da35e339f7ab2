import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { CONTENT_SECURITY_POLICY, renderStatusPage } from './page.ts';
import type { StatusDocument } from './status.ts';

/** Which images `POST /api/sync` runs: every one, one team's (`owner`), or one source repository's (`image`). */
export interface TriggerFilter {
  readonly owner: string | undefined;
  /** A source repository (`docker.io/bitnami/postgresql`, or as written in team files) or an image id. */
  readonly image: string | undefined;
}

/** What the HTTP handlers read and do; they hold no state of their own. */
export interface HttpState {
  /** Why the worker cannot do its job now; empty when ready. */
  notReadyReasons(): readonly string[];
  status(): Promise<StatusDocument>;
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** Queues the matching images; `matched` 0 means nothing matched the filter. */
  trigger(filter: TriggerFilter): Promise<{ readonly matched: number; readonly queued: number }>;
  /** The bearer token of `POST /api/sync`; undefined turns the endpoint off. */
  readonly triggerToken: string | undefined;
  /** Told about a handler that threw (the client gets a 500 without details). */
  reportError(error: unknown): void;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Compares a presented bearer token with the configured one in constant time: both are hashed first, so
 * neither the content nor the length of the token leaks through timing.
 */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

const TRIGGER_PARAMS = new Set(['owner', 'image']);

/**
 * Why the query of `POST /api/sync` is refused, or undefined: only `owner` and `image`, each at most once and not
 * empty (a typo such as `?onwer=` must not run the whole config).
 */
function triggerParamsProblem(params: Readonly<Record<string, readonly string[]>>): string | undefined {
  for (const [name, values] of Object.entries(params)) {
    const shown = JSON.stringify(name.slice(0, 64));
    if (!TRIGGER_PARAMS.has(name)) return `unknown parameter ${shown}; use owner=TEAM or image=SOURCE (or none for every image)`;
    if (values.length > 1) return `parameter ${shown} given ${values.length} times; give it once`;
    if (values[0] === undefined || values[0] === '') return `parameter ${shown} is empty; give a value or leave it out`;
  }
  return undefined;
}

/**
 * The worker's HTTP API: `GET /healthz` (the process lives), `GET /readyz` (config loaded, queue reachable),
 * `GET /metrics` (Prometheus text), `GET /api/status` (JSON), `GET /` (the status page), `POST /api/sync`
 * (bearer token; off unless one is configured). Every response carries a strict CSP and `nosniff`.
 */
export function createHttpApp(state: HttpState): Hono {
  const app = new Hono();

  app.use(async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
  });

  app.get('/healthz', (c) => c.text('ok\n'));

  app.get('/readyz', (c) => {
    const reasons = state.notReadyReasons();
    return c.json({ ready: reasons.length === 0, reasons }, reasons.length === 0 ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    const { contentType, body } = await state.metrics();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  app.get('/api/status', async (c) => c.json(await state.status()));

  app.get('/', async (c) => c.html(renderStatusPage(await state.status())));

  app.post('/api/sync', async (c) => {
    const expected = state.triggerToken;
    if (expected === undefined) {
      return c.json({ error: 'trigger_disabled', message: 'POST /api/sync is off; set SCANNER_TRIGGER_TOKEN to turn it on' }, 403);
    }
    const presented = bearerOf(c.req.header('Authorization'));
    if (presented === undefined || !tokenMatches(presented, expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="scanner-worker"');
      return c.json({ error: 'unauthorized', message: 'send the trigger token as Authorization: Bearer <token>' }, 401);
    }
    const params = c.req.queries();
    const problem = triggerParamsProblem(params);
    if (problem !== undefined) return c.json({ error: 'bad_request', message: problem }, 400);
    const filter: TriggerFilter = { owner: params['owner']?.[0], image: params['image']?.[0] };
    let outcome;
    try {
      outcome = await state.trigger(filter);
    } catch (error) {
      state.reportError(error);
      return c.json({ error: 'unavailable', message: 'the queue cannot be reached now (Redis down?); try again later' }, 503);
    }
    if (outcome.matched === 0) return c.json({ error: 'not_found', message: 'no image in the config in force matches the filter', ...outcome }, 404);
    return c.json(outcome, 202);
  });

  app.notFound((c) => c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    state.reportError(error);
    return c.json({ error: 'internal', message: 'the worker failed to answer; see its log' }, 500);
  });

  return app;
}
