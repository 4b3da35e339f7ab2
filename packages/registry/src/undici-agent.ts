import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import type { Agent, Dispatcher } from 'undici';
import type { EngineResponse, HttpEngine, PoolOptions } from './http-engine.ts';

/** undici's `Agent` class, and `request` sent through a given agent. */
export interface UndiciAgent {
  readonly Agent: typeof Agent;
  readonly request: (agent: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
}

type RequestFunction = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

// undici ships types for its index only; these two CommonJS files are typed where they are used.
const require = createRequire(import.meta.url);
const AGENT_MODULE = 'undici/lib/dispatcher/agent.js';
const REQUEST_MODULE = 'undici/lib/api/api-request.js';

/**
 * Only the parts of undici the transport uses: the connection pool (`lib/dispatcher/agent.js`) and the
 * `request` API (`lib/api/api-request.js`, called on the agent as `Dispatcher#request` is). undici's index
 * also loads fetch, WebSocket, EventSource, caches, mocks and interceptors, about twice the start-up time,
 * and `scanner` runs once per image. undici's package.json has no `exports` map, so these files are public
 * paths; should a later undici move or hide them (or a bundler not follow them), the whole package is loaded
 * instead, with the same result.
 */
export function loadUndiciAgent(): Promise<UndiciAgent> {
  // `require`, not `import()`: undici is CommonJS, and a bundle run through `vm.Script` (the scanner CLI's
  // launcher) has no module loader for `import()` without an experimental flag.
  try {
    const AgentClass = require(AGENT_MODULE) as typeof Agent;
    const requestFunction = require(REQUEST_MODULE) as RequestFunction;
    if (typeof AgentClass === 'function' && typeof requestFunction === 'function') {
      return Promise.resolve({ Agent: AgentClass, request: (agent, options) => requestFunction.call(agent, options) });
    }
  } catch {
    // Not there: the whole package below.
  }
  try {
    const undici = require('undici') as typeof Undici;
    return Promise.resolve({ Agent: undici.Agent, request: (agent, options) => agent.request(options) });
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** The `undici` engine: one undici `Agent` per pool. */
export async function loadUndiciEngine(): Promise<HttpEngine> {
  const { Agent: AgentClass, request } = await loadUndiciAgent();
  return {
    name: 'undici',
    createPool(options: PoolOptions) {
      const agent = new AgentClass({
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        // The connect time-out too, so that "within N ms" is true of every phase (undici's own default is 10 s).
        connect: { timeout: options.headersTimeoutMs, ...(options.ca === undefined ? {} : { ca: [...options.ca] }), rejectUnauthorized: options.rejectUnauthorized !== false },
      });
      return {
        async request(input): Promise<EngineResponse> {
          const data = await request(agent, {
            origin: input.origin,
            path: input.path,
            method: input.method,
            headers: input.headers,
            ...(input.body === undefined ? {} : { body: input.body }),
            signal: input.signal ?? null,
            headersTimeout: options.headersTimeoutMs,
            bodyTimeout: options.bodyTimeoutMs,
          });
          return { statusCode: data.statusCode, headers: data.headers, body: data.body };
        },
        close: () => agent.close(),
      };
    },
  };
}
