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

/** A time-out of the node engine; `code` is one of `ENGINE_TIMEOUT_PHASES`. */
class EngineTimeoutError extends Error {
  readonly code: 'SCANNER_HEADERS_TIMEOUT' | 'SCANNER_BODY_TIMEOUT';
  constructor(code: EngineTimeoutError['code'], timeoutMs: number) {
    super(code === 'SCANNER_HEADERS_TIMEOUT' ? `no response headers within ${timeoutMs} ms` : `no body data within ${timeoutMs} ms`);
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
 * One pool: a keep-alive `http.Agent` or `https.Agent` per scheme, made on first use. Time-outs are socket
 * idle time-outs, as `RegistrySettings.timeoutMs` describes: connecting and then waiting for the headers
 * (`headersTimeoutMs`), then each wait for body data (`bodyTimeoutMs`); writing a streamed upload is activity.
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
      outgoing.setTimeout(options.headersTimeoutMs, () => {
        if (incoming === undefined) outgoing.destroy(new EngineTimeoutError('SCANNER_HEADERS_TIMEOUT', options.headersTimeoutMs));
        else incoming.destroy(new EngineTimeoutError('SCANNER_BODY_TIMEOUT', options.bodyTimeoutMs));
      });
      outgoing.once('close', settle);
      // Every error, not only the first: one after the answer (a socket torn down) rejects nothing, but an
      // 'error' event without a listener would end the process.
      outgoing.on('error', reject);
      outgoing.once('response', (response) => {
        incoming = response;
        outgoing.setTimeout(options.bodyTimeoutMs);
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
