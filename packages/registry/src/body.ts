import { RegistryError } from './errors.ts';
import { backoffDelayMs } from './retry.ts';
import { displayUrl, headerValue, transportError } from './transport.ts';
import type { RegistryContext, Runtime, SendRequest, SendResponse } from './transport.ts';

/**
 * Buffers a response body, failing with `too_large` as soon as it passes `maxBytes` (checked against
 * `Content-Length` first, then while streaming), so a hostile registry cannot make us buffer without bound.
 */
export async function readBody(
  context: RegistryContext,
  runtime: Runtime,
  request: Pick<SendRequest, 'method' | 'url' | 'repository' | 'signal'>,
  response: SendResponse,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const tooLarge = (size: string): RegistryError =>
    new RegistryError('too_large', `${what} from ${context.registry} is ${size}, over the ${maxBytes}-byte limit; raise the limit if this is expected`, {
      status: response.status,
      registry: context.registry,
      repository: request.repository,
    });
  const declared = Number(headerValue(response.headers, 'content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    response.body.destroy();
    throw tooLarge(`${declared} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        response.body.destroy();
        throw tooLarge('larger');
      }
      chunks.push(chunk);
    }
  } catch (error) {
    response.body.destroy();
    const mapped = transportError(context, runtime, request, error);
    if (mapped.code === 'network' || mapped.code === 'timeout') brokenBodies.add(mapped);
    throw mapped;
  }
  return Buffer.concat(chunks, total);
}

// Errors raised while reading a body after good headers: the whole exchange may be repeated.
const brokenBodies = new WeakSet<RegistryError>();

/**
 * Runs `exchange` (send + read a buffered body) again when the connection broke mid-body, with the same
 * backoff and bound as other retries: `send` only retries failures before the headers.
 */
export async function retryBrokenBody<T>(
  context: RegistryContext,
  runtime: Runtime,
  request: Pick<SendRequest, 'method' | 'url' | 'repository' | 'signal' | 'kind'>,
  exchange: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await exchange();
    } catch (error) {
      if (!(error instanceof RegistryError) || !brokenBodies.has(error) || attempt > runtime.retry.retries) throw error;
      const delayMs = backoffDelayMs(attempt, runtime.retry, runtime.random);
      runtime.emit({
        type: 'retry',
        method: request.method,
        url: displayUrl(request.url),
        registry: context.registry,
        repository: request.repository,
        kind: request.kind,
        attempt,
        redirect: 0,
        delayMs,
        reason: `${error.code} while reading the body`,
      });
      try {
        await runtime.sleep(delayMs, request.signal);
      } catch (sleepError) {
        throw transportError(context, runtime, request, sleepError);
      }
    }
  }
}
