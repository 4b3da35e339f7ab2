import type { Readable } from 'node:stream';

/**
 * The HTTP/1.1 client under the transport, chosen per client with `RegistryClientOptions.httpEngine`:
 * - `undici` (the default): undici's `Agent`, built for many concurrent requests and long-lived processes
 *   (mirroring, the worker, services embedding the library);
 * - `node`: Node's built-in `node:http`/`node:https` with keep-alive agents. It is part of the Node binary,
 *   so a short process (one `scanner digest` per image in a script) starts about 50 ms sooner than with
 *   undici (measured in `pnpm bench -- cli`).
 *
 * The transport above does redirects, retries, auth, limits and error mapping; an engine only sends one
 * request on a pooled connection, with the same time-outs, TLS settings and response shape in both.
 */
export type HttpEngineName = 'undici' | 'node';

/** Connection pool options, for one registry's own host or for other hosts (storage, token realms). */
export interface PoolOptions {
  /** Longest wait for the connection, and then for the response headers once the request is sent, in ms. */
  readonly headersTimeoutMs: number;
  /** Longest wait between two chunks of the response body, in ms. */
  readonly bodyTimeoutMs: number;
  /** Trusted certificates (the system roots plus the configured CA); undefined: the system roots. */
  readonly ca?: readonly string[] | undefined;
  /** @default true */
  readonly rejectUnauthorized?: boolean;
}

export interface EngineRequest {
  /** `https://host:port`. */
  readonly origin: string;
  /** Path and query, already escaped. */
  readonly path: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | Readable | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A response body: a byte stream that can also be drained so that its connection is reused. */
export type ResponseBody = Readable & {
  /** Reads the rest of the body and drops it (a large rest closes the connection instead). */
  dump(): Promise<void>;
};

/** Response headers, names in lower case; a header sent more than once is an array. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface EngineResponse {
  readonly statusCode: number;
  readonly headers: ResponseHeaders;
  readonly body: ResponseBody;
}

/** Why a request timed out, as an engine reports it (`code` of the thrown error). */
export const ENGINE_TIMEOUT_PHASES: Readonly<Record<string, string>> = {
  // undici's codes
  UND_ERR_CONNECT_TIMEOUT: 'no connection',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers',
  UND_ERR_BODY_TIMEOUT: 'the body stalled',
  // the node engine's (node-http-engine.ts)
  SCANNER_CONNECT_TIMEOUT: 'no connection',
  SCANNER_HEADERS_TIMEOUT: 'no response headers',
  SCANNER_BODY_TIMEOUT: 'the body stalled',
};

/** Connections to one kind of host; `close()` ends them, and a request after it fails. */
export interface HttpPool {
  request(request: EngineRequest): Promise<EngineResponse>;
  close(): Promise<void>;
}

export interface HttpEngine {
  readonly name: HttpEngineName;
  createPool(options: PoolOptions): HttpPool;
}

let undiciLoading: Promise<HttpEngine> | undefined;
let nodeLoading: Promise<HttpEngine> | undefined;

/**
 * The engine's module, loaded with the first request rather than at import: a process that never sends one
 * (a CLI run that fails on its arguments) does not pay for it. A failed load is tried again next time.
 */
export function loadHttpEngine(name: HttpEngineName): Promise<HttpEngine> {
  if (name === 'node') {
    nodeLoading ??= import('./node-http-engine.ts').then((module) => module.nodeHttpEngine);
    return nodeLoading;
  }
  undiciLoading ??= import('./undici-agent.ts')
    .then((module) => module.loadUndiciEngine())
    .catch((error: unknown) => {
      undiciLoading = undefined;
      throw error;
    });
  return undiciLoading;
}
