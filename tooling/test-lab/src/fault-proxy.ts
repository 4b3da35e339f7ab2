import { randomBytes } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestLabError } from './errors.ts';

/** What a matching rule does to a request. */
export type Fault =
  /** Answers with this status without contacting upstream (429 + Retry-After, 5xx bursts, HEAD → 405). */
  | { kind: 'status'; status: number; headers?: Readonly<Record<string, string>>; body?: string | Uint8Array }
  /** Sends upstream's status and headers and `afterBytes` of the body, then destroys the connection. */
  | { kind: 'reset'; /** @default 0 */ afterBytes?: number }
  /** Flips one byte of upstream's body; headers (Content-Length, Docker-Content-Digest) stay as they were. */
  | { kind: 'corrupt'; /** @default the middle byte */ offset?: number }
  /** Removes one response header, e.g. `docker-content-digest`. */
  | { kind: 'drop-header'; header: string }
  /** Replaces upstream's JSON body by `transform(json)` (e.g. `{ ...json, tags: null }`). */
  | { kind: 'rewrite-json'; transform: (json: unknown) => unknown }
  /**
   * Serves a body far larger than any manifest: `bytes` of JSON-looking filler, or an endless stream (capped
   * at 1 GiB) with `endless`. With `declareLength` the Content-Length header announces the size up front.
   */
  | { kind: 'huge-body'; /** @default 16 MiB */ bytes?: number; /** @default false */ endless?: boolean; /** @default false */ declareLength?: boolean }
  /**
   * Pages a `GET /v2/<name>/tags/list` the way registries that paginate do: fetches the whole list upstream
   * (distribution 2.8 ignores `n`), serves `n` tags after `last` and a `Link: <…?n=&last=>; rel="next"`.
   */
  | {
    kind: 'paginate-tags';
    /** Page size when the client sends no `n`. @default 2 */
    pageSize?: number;
    /** `n` above this is refused with 400, as ECR does above 1000. @default no cap */
    maxPageSize?: number;
    /** @default 'relative' */
    link?: 'relative' | 'absolute';
    /** From this page (1-based) on, `next` points back to the first page: a pagination loop. */
    loopToFirstAfterPage?: number;
    /** The next link points at this origin instead of the proxy (a cross-origin Link). */
    nextOrigin?: string;
  }
  /**
   * Fetches the blob upstream (with the client's headers) and answers with a redirect to the proxy's side
   * server, which serves the bytes but refuses any request carrying an Authorization header.
   */
  | { kind: 'redirect-blob'; /** @default 307 */ status?: 301 | 302 | 303 | 307 | 308; /** @default 403 */ rejectAuthorizationStatus?: 400 | 401 | 403 }
  /** Waits, then forwards normally. */
  | { kind: 'delay'; ms: number };

/** The kinds of fault a rule can inject. */
export type FaultKind = Fault['kind'];

/** Which requests a fault applies to, and how many times. */
export interface FaultRule {
  /** One method or several (case-insensitive). @default any */
  method?: string | readonly string[];
  /** A string matches the path exactly (no query); a RegExp is tested against path + query. @default any */
  path?: string | RegExp;
  /** How many matching requests get the fault; later ones pass. @default Infinity */
  times?: number;
  fault: Fault;
}

/** A rule once injected. */
export interface FaultHandle {
  /** How many requests this rule has been applied to. */
  hits(): number;
  /** Removes the rule. */
  remove(): void;
}

/** A request the proxy (or its side server) received. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** Every request header as received (Authorization included). */
  headers: IncomingHttpHeaders;
  /** The fault applied, if any. */
  fault: FaultKind | undefined;
  /** Status answered; undefined until the response started (or if the connection was reset first). */
  status: number | undefined;
}

/** Where the proxy forwards, and which other origins it rewrites. */
export interface StartFaultProxyOptions {
  /** Origin to forward to, e.g. `registry.url`. */
  upstream: string;
  /**
   * More origins to rewrite in `Location`, `Link` and `WWW-Authenticate`, e.g.
   * `{ [registry.tokenServer.origin]: tokenProxy.origin }` to send clients to the token server through a
   * second proxy. The upstream itself is always rewritten to this proxy.
   * @default {}
   */
  rewriteOrigins?: Readonly<Record<string, string>>;
}

/** The redirect target of `redirect-blob`: serves stored blobs, refuses requests that carry Authorization. */
export interface SideServer {
  readonly url: string;
  readonly origin: string;
  requests(): readonly ProxiedRequest[];
}

/** A programmable HTTP proxy in front of a registry (or any origin) on a free loopback port. */
export interface FaultProxy extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` (same as `origin`). */
  readonly url: string;
  readonly origin: string;
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  readonly upstream: string;
  readonly sideServer: SideServer;
  /** Adds a rule after the existing ones. */
  inject(rule: FaultRule): FaultHandle;
  /** Removes every rule. */
  clear(): void;
  /** Every request received so far, in order. */
  requests(): readonly ProxiedRequest[];
  resetRequests(): void;
  /** Stops the proxy and its side server. Idempotent. */
  stop(): Promise<void>;
}

interface ActiveRule {
  rule: FaultRule;
  methods: readonly string[] | undefined;
  remaining: number;
  hits: number;
}

type HeaderMap = Record<string, string | string[] | number>;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const ENDLESS_CAP_BYTES = 1024 * 1024 * 1024;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new TestLabError('START_FAILED', 'test-lab: proxy has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function validateFault(fault: Fault): void {
  const bad = (what: string): never => { throw new TestLabError('INVALID_OPTION', `test-lab: fault ${JSON.stringify(fault.kind)}: ${what}`); };
  switch (fault.kind) {
    case 'status':
      if (!Number.isInteger(fault.status) || fault.status < 100 || fault.status > 599) bad(`status must be an HTTP status, got ${String(fault.status)}`);
      break;
    case 'paginate-tags':
      if (fault.pageSize !== undefined && (!Number.isInteger(fault.pageSize) || fault.pageSize < 1)) bad(`pageSize must be a positive integer, got ${String(fault.pageSize)}`);
      break;
    case 'delay':
      if (!(fault.ms >= 0)) bad(`ms must be >= 0, got ${String(fault.ms)}`);
      break;
    case 'reset':
    case 'corrupt':
    case 'drop-header':
    case 'rewrite-json':
    case 'huge-body':
    case 'redirect-blob':
      break;
    default:
      bad('unknown kind');
  }
}

/**
 * Starts a forwarding proxy with per-test faults. Request headers (Authorization included) go upstream
 * unchanged except Host; `Location`, `Link` and a `WWW-Authenticate` realm naming the upstream origin are
 * rewritten to the proxy so clients keep talking through it.
 */
export async function startFaultProxy(options: StartFaultProxyOptions): Promise<FaultProxy> {
  let upstream: URL;
  try {
    upstream = new URL(options.upstream);
  } catch (error) {
    throw new TestLabError('INVALID_OPTION', `test-lab: fault proxy upstream must be an origin like http://127.0.0.1:5000, got ${JSON.stringify(options.upstream)}`, { cause: error });
  }
  if (upstream.protocol !== 'http:') throw new TestLabError('INVALID_OPTION', `test-lab: fault proxy only forwards to http:// origins, got ${JSON.stringify(options.upstream)}`);
  const upstreamOrigin = upstream.origin;
  const agent = new Agent({ keepAlive: true });
  const rules: ActiveRule[] = [];
  const records: ProxiedRequest[] = [];
  const sideRecords: ProxiedRequest[] = [];
  const storedBlobs = new Map<string, { bytes: Buffer; headers: HeaderMap; rejectStatus: number }>();
  let origin = '';

  const rewrite = (value: string): string => {
    let rewritten = value.split(upstreamOrigin).join(origin);
    for (const [from, to] of Object.entries(options.rewriteOrigins ?? {})) rewritten = rewritten.split(new URL(from).origin).join(to);
    return rewritten;
  };

  const responseHeaders = (incoming: IncomingMessage): HeaderMap => {
    const headers: HeaderMap = {};
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      if (name === 'location' || name === 'link' || name === 'www-authenticate') headers[name] = Array.isArray(value) ? value.map(rewrite) : rewrite(value);
      else headers[name] = value;
    }
    return headers;
  };

  /** Sends the client's request upstream (path may be overridden) and resolves with upstream's response. */
  const forward = (request: IncomingMessage, body: Buffer | undefined, path = request.url ?? '/'): Promise<IncomingMessage> => {
    const headers: HeaderMap = {};
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    headers['host'] = upstream.host;
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ host: upstream.hostname, port: upstream.port, method: request.method, path, headers, agent }, resolve);
      outgoing.once('error', reject);
      if (body === undefined) request.pipe(outgoing);
      else outgoing.end(body);
    });
  };

  const sendBuffered = (response: ServerResponse, status: number, headers: HeaderMap, body: Buffer, method: string | undefined): void => {
    response.writeHead(status, headers);
    response.end(method === 'HEAD' ? undefined : body);
  };

  const matchRule = (request: IncomingMessage): ActiveRule | undefined => {
    const method = (request.method ?? 'GET').toUpperCase();
    const url = request.url ?? '/';
    const pathname = url.split('?')[0] ?? url;
    for (const active of rules) {
      if (active.remaining <= 0) continue;
      if (active.methods && !active.methods.includes(method)) continue;
      const { path } = active.rule;
      if (typeof path === 'string' && path !== pathname) continue;
      if (path instanceof RegExp) {
        path.lastIndex = 0;
        if (!path.test(url)) continue;
      }
      active.remaining -= 1;
      active.hits += 1;
      return active;
    }
    return undefined;
  };

  const paginate = async (request: IncomingMessage, response: ServerResponse, fault: Extract<Fault, { kind: 'paginate-tags' }>): Promise<void> => {
    const url = new URL(request.url ?? '/', origin);
    const match = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (!match?.[1]) {
      const upstreamResponse = await forward(request, undefined);
      response.writeHead(upstreamResponse.statusCode ?? 502, responseHeaders(upstreamResponse));
      upstreamResponse.pipe(response);
      return;
    }
    const name = match[1];
    const nParam = url.searchParams.get('n');
    const last = url.searchParams.get('last');
    const error = (message: string): void => {
      sendBuffered(response, 400, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ errors: [{ code: 'PAGINATION_NUMBER_INVALID', message }] })), request.method);
    };
    let size = fault.pageSize ?? 2;
    if (nParam !== null) {
      if (!/^\d+$/.test(nParam)) { error(`invalid n ${JSON.stringify(nParam)}`); return; }
      size = Number(nParam);
      if (fault.maxPageSize !== undefined && size > fault.maxPageSize) { error(`n must be at most ${fault.maxPageSize}`); return; }
    }
    const upstreamResponse = await forward(request, Buffer.alloc(0), `/v2/${name}/tags/list`);
    const upstreamBody = await readAll(upstreamResponse);
    const headers = responseHeaders(upstreamResponse);
    if (upstreamResponse.statusCode !== 200) {
      sendBuffered(response, upstreamResponse.statusCode ?? 502, headers, upstreamBody, request.method);
      return;
    }
    const parsed = JSON.parse(upstreamBody.toString('utf8')) as { name: string; tags: string[] | null };
    const all = [...(parsed.tags ?? [])].sort();
    const start = last === null ? 0 : all.findIndex((tag) => tag > last);
    const rest = start < 0 ? [] : all.slice(start);
    const page = size === 0 ? [] : rest.slice(0, size);
    const body = Buffer.from(JSON.stringify({ name: parsed.name, tags: page }));
    delete headers['link'];
    delete headers['content-length'];
    headers['content-type'] = 'application/json';
    headers['content-length'] = body.length;
    const pageLast = page.at(-1);
    if (pageLast !== undefined && rest.length > page.length) {
      const pageNumber = Math.floor((all.length - rest.length) / size) + 1;
      const loop = fault.loopToFirstAfterPage !== undefined && pageNumber >= fault.loopToFirstAfterPage;
      const query = loop ? `n=${size}` : `n=${size}&last=${encodeURIComponent(pageLast)}`;
      const base = fault.nextOrigin ?? (fault.link === 'absolute' ? origin : '');
      headers['link'] = `<${base}/v2/${name}/tags/list?${query}>; rel="next"`;
    }
    sendBuffered(response, 200, headers, body, request.method);
  };

  const hugeBody = async (request: IncomingMessage, response: ServerResponse, fault: Extract<Fault, { kind: 'huge-body' }>): Promise<void> => {
    const upstreamResponse = await forward(request, undefined);
    upstreamResponse.resume();
    const headers = responseHeaders(upstreamResponse);
    delete headers['content-length'];
    const total = fault.endless ? ENDLESS_CAP_BYTES : fault.bytes ?? 16 * 1024 * 1024;
    if (fault.declareLength && !fault.endless) headers['content-length'] = total;
    response.writeHead(upstreamResponse.statusCode === 200 ? 200 : upstreamResponse.statusCode ?? 200, headers);
    if (request.method === 'HEAD') { response.end(); return; }
    const head = Buffer.from('{"schemaVersion":2,"padding":"');
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const write = async (data: Buffer): Promise<boolean> => {
      if (response.destroyed || response.writableEnded) return false;
      sent += data.length;
      if (!response.write(data)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            response.off('drain', done);
            response.off('close', done);
            resolve();
          };
          response.on('drain', done);
          response.on('close', done);
        });
      }
      return !response.destroyed;
    };
    if (!(await write(head.subarray(0, Math.min(head.length, total))))) return;
    while (sent < total) {
      if (!(await write(chunk.subarray(0, Math.min(chunk.length, total - sent))))) return;
    }
    response.end();
  };

  const redirectBlob = async (request: IncomingMessage, response: ServerResponse, fault: Extract<Fault, { kind: 'redirect-blob' }>): Promise<void> => {
    const upstreamResponse = await forward(request, undefined);
    const body = await readAll(upstreamResponse);
    const headers = responseHeaders(upstreamResponse);
    if (upstreamResponse.statusCode !== 200) {
      sendBuffered(response, upstreamResponse.statusCode ?? 502, headers, body, request.method);
      return;
    }
    const digest = /\/blobs\/([^/?]+)/.exec(request.url ?? '')?.[1] ?? 'blob';
    const key = `/blobs/${randomBytes(8).toString('hex')}/${digest}`;
    const blobHeaders: HeaderMap = { 'content-type': headers['content-type'] ?? 'application/octet-stream' };
    if (headers['docker-content-digest'] !== undefined) blobHeaders['docker-content-digest'] = headers['docker-content-digest'];
    // For HEAD upstream sent no body, so the side server announces upstream's length.
    blobHeaders['content-length'] = request.method === 'HEAD' ? headers['content-length'] ?? 0 : body.length;
    storedBlobs.set(key, { bytes: body, headers: blobHeaders, rejectStatus: fault.rejectAuthorizationStatus ?? 403 });
    response.writeHead(fault.status ?? 307, { location: `${sideOrigin}${key}`, 'content-length': 0 });
    response.end();
  };

  const apply = async (request: IncomingMessage, response: ServerResponse, fault: Fault | undefined): Promise<void> => {
    if (fault === undefined || fault.kind === 'delay') {
      if (fault?.kind === 'delay') await sleep(fault.ms);
      const upstreamResponse = await forward(request, undefined);
      response.writeHead(upstreamResponse.statusCode ?? 502, responseHeaders(upstreamResponse));
      upstreamResponse.pipe(response);
      return;
    }
    switch (fault.kind) {
      case 'status': {
        request.resume();
        const body = fault.body === undefined ? Buffer.alloc(0) : Buffer.from(fault.body);
        sendBuffered(response, fault.status, { 'content-length': body.length, ...fault.headers }, body, request.method);
        return;
      }
      case 'paginate-tags':
        await paginate(request, response, fault);
        return;
      case 'huge-body':
        await hugeBody(request, response, fault);
        return;
      case 'redirect-blob':
        await redirectBlob(request, response, fault);
        return;
      case 'reset': {
        const upstreamResponse = await forward(request, undefined);
        const body = await readAll(upstreamResponse);
        response.writeHead(upstreamResponse.statusCode ?? 502, responseHeaders(upstreamResponse));
        const part = body.subarray(0, Math.min(fault.afterBytes ?? 0, body.length));
        // Flush the head and the partial body before killing the socket, so the client sees a truncated body.
        await new Promise<void>((resolve) => { response.write(part, () => { resolve(); }); });
        response.socket?.destroy();
        return;
      }
      case 'corrupt':
      case 'drop-header':
      case 'rewrite-json': {
        const upstreamResponse = await forward(request, undefined);
        let body = await readAll(upstreamResponse);
        const headers = responseHeaders(upstreamResponse);
        if (fault.kind === 'corrupt' && body.length > 0) {
          const offset = Math.min(fault.offset ?? Math.floor(body.length / 2), body.length - 1);
          body[offset] = (body[offset] ?? 0) ^ 0x01;
        } else if (fault.kind === 'drop-header') {
          Reflect.deleteProperty(headers, fault.header.toLowerCase());
        } else if (fault.kind === 'rewrite-json' && request.method !== 'HEAD') {
          body = Buffer.from(JSON.stringify(fault.transform(JSON.parse(body.toString('utf8')) as unknown)));
          headers['content-length'] = body.length;
        }
        sendBuffered(response, upstreamResponse.statusCode ?? 502, headers, body, request.method);
        return;
      }
    }
  };

  const server = createServer((request, response) => {
    const active = matchRule(request);
    const record: ProxiedRequest = { method: request.method ?? 'GET', path: request.url ?? '/', headers: { ...request.headers }, fault: active?.rule.fault.kind, status: undefined };
    records.push(record);
    // Every path answers through writeHead, so wrapping it records the status even when the socket is reset later.
    const writeHead = response.writeHead.bind(response);
    response.writeHead = (...args: unknown[]) => {
      record.status = args[0] as number;
      return Reflect.apply(writeHead, response, args) as ServerResponse;
    };
    apply(request, response, active?.rule.fault).catch((error: unknown) => {
      if (!response.headersSent) {
        const body = Buffer.from(JSON.stringify({ errors: [{ code: 'PROXY_ERROR', message: `test-lab proxy: ${(error as Error).message}` }] }));
        response.writeHead(502, { 'content-type': 'application/json', 'content-length': body.length });
        response.end(body);
      } else {
        response.destroy();
      }
    });
  });

  const side = createServer((request, response) => {
    const record: ProxiedRequest = { method: request.method ?? 'GET', path: request.url ?? '/', headers: { ...request.headers }, fault: undefined, status: undefined };
    sideRecords.push(record);
    request.resume();
    const stored = storedBlobs.get((request.url ?? '/').split('?')[0] ?? '');
    const answer = (status: number, headers: HeaderMap, body: Buffer): void => {
      record.status = status;
      sendBuffered(response, status, headers, body, request.method);
    };
    if (request.headers.authorization !== undefined) {
      // Like S3 presigned URLs: a second credential next to the signature in the URL is an error.
      const body = Buffer.from('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
      answer(stored?.rejectStatus ?? 400, { 'content-type': 'application/xml', 'content-length': body.length }, body);
      return;
    }
    if (stored === undefined) {
      answer(404, { 'content-length': 0 }, Buffer.alloc(0));
      return;
    }
    answer(200, stored.headers, stored.bytes);
  });

  const [proxyOrigin, sideOrigin] = await Promise.all([listen(server), listen(side)]);
  origin = proxyOrigin;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all([close(server), close(side)]);
      agent.destroy();
    })();
    return stopped;
  };

  return {
    url: origin,
    origin,
    host: origin.slice('http://'.length),
    upstream: upstreamOrigin,
    sideServer: { url: sideOrigin, origin: sideOrigin, requests: () => [...sideRecords] },
    inject: (rule) => {
      validateFault(rule.fault);
      const times = rule.times ?? Infinity;
      if (!(times >= 0)) throw new TestLabError('INVALID_OPTION', `test-lab: rule times must be >= 0, got ${String(rule.times)}`);
      const methods = rule.method === undefined ? undefined : (typeof rule.method === 'string' ? [rule.method] : rule.method).map((method) => method.toUpperCase());
      const active: ActiveRule = { rule, methods, remaining: times, hits: 0 };
      rules.push(active);
      return {
        hits: () => active.hits,
        remove: () => {
          const index = rules.indexOf(active);
          if (index >= 0) rules.splice(index, 1);
        },
      };
    },
    clear: () => { rules.length = 0; },
    requests: () => [...records],
    resetRequests: () => { records.length = 0; sideRecords.length = 0; },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
