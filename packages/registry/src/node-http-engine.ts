import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { pipeline } from 'node:stream';
import type { EngineRequest, EngineResponse, HttpEngine, HttpPool, PoolOptions, ResponseHeaders } from './http-engine.ts';

// `require`, not an ESM import: importing `node:http` from ESM builds its module namespace, which reads every
// export, lazy ones included (`WebSocket`, `EventSource`), and those load Node's bundled undici: about 45 ms
// of start-up for nothing. `require` returns the module object and leaves the getters alone.
const require = createRequire(import.meta.url);
const http = require('node:http') as typeof Http;
let https: typeof Https | undefined;

/** A drained body longer than this closes its connection instead of reading on (as undici's `dump()`). */
const DUMP_LIMIT_BYTES = 128 * 1024;

const TIMEOUT_TEXT = {
  SCANNER_CONNECT_TIMEOUT: 'no connection',
  SCANNER_HEADERS_TIMEOUT: 'no response headers',
  SCANNER_BODY_TIMEOUT: 'no body data',
} as const;

/** A time-out of the node engine; `code` is one of `ENGINE_TIMEOUT_PHASES`. */
class EngineTimeoutError extends Error {
  readonly code: keyof typeof TIMEOUT_TEXT;
  constructor(code: EngineTimeoutError['code'], timeoutMs: number) {
    super(`${TIMEOUT_TEXT[code]} within ${timeoutMs} ms`);
    this.name = 'EngineTimeoutError';
    this.code = code;
  }
}

/** A request on a pool after `close()`. */
class EngineClosedError extends Error {
  readonly code = 'SCANNER_POOL_CLOSED';
  constructor() {
    super('the connection pool is closed');
    this.name = 'EngineClosedError';
  }
}

/** Node's `headersDistinct` (every value an array) in undici's shape: one value as a string, several as an array. */
function responseHeaders(response: Http.IncomingMessage): ResponseHeaders {
  const headers: ResponseHeaders = {};
  for (const [name, values] of Object.entries(response.headersDistinct)) {
    if (values !== undefined) headers[name] = values.length === 1 ? values[0] : values;
  }
  return headers;
}

function dump(body: Http.IncomingMessage): Promise<void> {
  if (body.readableEnded || body.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let read = 0;
    body.on('data', (chunk: Buffer) => {
      read += chunk.byteLength;
      if (read > DUMP_LIMIT_BYTES) body.destroy();
    });
    body.once('close', resolve);
    // The connection is gone anyway; `close` follows.
    body.on('error', () => undefined);
    body.resume();
  });
}

/**
 * One pool: a keep-alive `http.Agent` or `https.Agent` per scheme, made on first use. Time-outs as undici's
 * (`RegistrySettings.timeoutMs`): connecting, then the response headers once the request is sent, each within
 * `headersTimeoutMs` in all (a server that drips its headers a byte at a time still times out); while a streamed
 * upload is written, and then between chunks of the response body, no more than `bodyTimeoutMs` of silence.
 */
function createPool(options: PoolOptions): HttpPool {
  let plainAgent: Http.Agent | undefined;
  let secureAgent: Https.Agent | undefined;
  let closed = false;
  const inFlight = new Set<Promise<void>>();

  function agentFor(secure: boolean): Http.Agent {
    if (!secure) {
      plainAgent ??= new http.Agent({ keepAlive: true });
      return plainAgent;
    }
    https ??= require('node:https') as typeof Https;
    secureAgent ??= new https.Agent({
      keepAlive: true,
      ...(options.ca === undefined ? {} : { ca: [...options.ca] }),
      rejectUnauthorized: options.rejectUnauthorized !== false,
    });
    return secureAgent;
  }

  function request(input: EngineRequest): Promise<EngineResponse> {
    if (closed) return Promise.reject(new EngineClosedError());
    const origin = new URL(input.origin);
    const secure = origin.protocol === 'https:';
    const send = secure ? (https ??= require('node:https') as typeof Https).request : http.request;
    let done!: () => void;
    const settled = new Promise<void>((resolve) => (done = resolve));
    inFlight.add(settled);
    const settle = (): void => {
      inFlight.delete(settled);
      done();
    };
    return new Promise<EngineResponse>((resolve, reject) => {
      let outgoing: Http.ClientRequest;
      try {
        outgoing = send({
          protocol: origin.protocol,
          // `[::1]` in a URL, `::1` to connect to.
          hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'),
          ...(origin.port === '' ? {} : { port: Number(origin.port) }),
          method: input.method,
          path: input.path,
          headers: input.headers,
          agent: agentFor(secure),
          ...(input.signal === undefined ? {} : { signal: input.signal }),
        });
      } catch (error) {
        // Thrown before any request exists (a header value Node refuses, a connection refused on the spot):
        // nothing will emit 'close', so this request is over now.
        settle();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      let incoming: Http.IncomingMessage | undefined;
      let connected = false;
      // Whole-phase deadlines: connecting, then the headers (from the end of the request body).
      let deadline: NodeJS.Timeout | undefined;
      const arm = (code: EngineTimeoutError['code']): void => {
        clearTimeout(deadline);
        deadline = setTimeout(() => outgoing.destroy(new EngineTimeoutError(code, options.headersTimeoutMs)), options.headersTimeoutMs);
        deadline.unref();
      };
      arm('SCANNER_CONNECT_TIMEOUT');
      outgoing.once('socket', (socket) => {
        const onConnect = (): void => {
          connected = true;
          // Uploading has no deadline of its own, only the silence bound below; a body-less request is sent now.
          if (!outgoing.writableFinished) clearTimeout(deadline);
          else arm('SCANNER_HEADERS_TIMEOUT');
        };
        if ((socket as { connecting?: boolean }).connecting === true) socket.once('connect', onConnect);
        else onConnect();
      });
      outgoing.once('finish', () => {
        if (connected && incoming === undefined) arm('SCANNER_HEADERS_TIMEOUT');
      });
      // Silence on the socket: a stalled upload before the answer, a stalled body after it.
      outgoing.setTimeout(options.bodyTimeoutMs, () => {
        if (incoming === undefined) outgoing.destroy(new EngineTimeoutError(connected ? 'SCANNER_HEADERS_TIMEOUT' : 'SCANNER_CONNECT_TIMEOUT', options.headersTimeoutMs));
        else incoming.destroy(new EngineTimeoutError('SCANNER_BODY_TIMEOUT', options.bodyTimeoutMs));
      });
      outgoing.once('close', () => {
        clearTimeout(deadline);
        settle();
      });
      // Every error, not only the first: one after the answer (a socket torn down) rejects nothing, but an
      // 'error' event without a listener would end the process.
      outgoing.on('error', reject);
      outgoing.once('response', (response) => {
        incoming = response;
        clearTimeout(deadline);
        resolve({ statusCode: response.statusCode ?? 0, headers: responseHeaders(response), body: Object.assign(response, { dump: () => dump(response) }) });
      });
      const { body } = input;
      if (body === undefined || body instanceof Uint8Array) {
        outgoing.end(body);
        return;
      }
      // A streamed upload: a failing source fails the request; once answered (a 401 before the upload ended),
      // what happens to the rest of the stream is no longer this request's outcome.
      pipeline(body, outgoing, () => undefined);
    });
  }

  return {
    request,
    async close() {
      closed = true;
      // As undici's `close()`: requests already sent finish (their bodies read or destroyed), then the sockets go.
      await Promise.all(inFlight);
      plainAgent?.destroy();
      secureAgent?.destroy();
    },
  };
}

/** The `node` engine (see `HttpEngineName`). */
export const nodeHttpEngine: HttpEngine = { name: 'node', createPool };
