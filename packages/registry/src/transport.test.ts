import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, test } from 'vitest';
import { REGISTRY_CHANNELS } from './events.ts';
import type { RegistryEvent } from './events.ts';
import { json, startServer, testClient } from './http.fixture.ts';

const ok = { tags: ['1'] };

describe('retries', () => {
  test('429 with Retry-After seconds is honoured, then succeeds', async () => {
    let calls = 0;
    await using registry = await startServer((_request, response) => {
      calls++;
      if (calls === 1) { json(response, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }, { 'retry-after': '2' }); return; }
      json(response, 200, ok);
    });
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['1']);
    expect(t.sleeps).toEqual([2000]);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'retry', reason: 'status 429', delayMs: 2000, attempt: 1 }));
  });

  test('Retry-After as an HTTP-date', async () => {
    let calls = 0;
    const now = Date.parse('2026-01-01T00:00:00Z');
    await using registry = await startServer((_request, response) => {
      calls++;
      if (calls === 1) { json(response, 503, {}, { 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }); return; }
      json(response, 200, ok);
    });
    await using t = testClient({ now: () => now });
    await t.client.listTags(`${registry.host}/a/b`);
    expect(t.sleeps).toEqual([3000]);
  });

  test('a 5xx burst: exponential backoff with full jitter, bounded by retries', async () => {
    let calls = 0;
    await using registry = await startServer((_request, response) => {
      calls++;
      if (calls <= 3) { json(response, calls === 2 ? 502 : 503, {}); return; }
      json(response, 200, ok);
    });
    await using t = testClient({ retryBaseMs: 100, retryMaxMs: 300 });
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['1']);
    // random() = 0.5: 0.5 × min(300, 100·2^(n-1))
    expect(t.sleeps).toEqual([50, 100, 150]);
  });

  test('retries exhausted: server_error with the status', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 500, {});
    });
    await using t = testClient({ retries: 2 });
    await expect(t.client.listTags(`${registry.host}/a/b`)).rejects.toMatchObject({ code: 'server_error', status: 500 });
    expect(registry.requests).toHaveLength(3);
  });

  test('a Retry-After beyond retryAfterMaxMs fails at once with rate_limited', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 429, {}, { 'retry-after': '3600' });
    });
    await using t = testClient();
    await expect(t.client.listTags(`${registry.host}/a/b`)).rejects.toMatchObject({ code: 'rate_limited', status: 429 });
    expect(t.sleeps).toEqual([]);
  });

  test('connection resets are retried', async () => {
    let calls = 0;
    await using registry = await startServer((_request, response) => {
      calls++;
      if (calls === 1) {
        response.socket?.destroy();
        return;
      }
      json(response, 200, ok);
    });
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['1']);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'retry', reason: 'network' }));
  });

  test('a connection broken mid-body is retried for buffered reads (tag pages, manifests)', async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    const served = new Map<string, number>();
    await using registry = await startServer((request, response) => {
      const count = (served.get(request.url) ?? 0) + 1;
      served.set(request.url, count);
      const body = request.url.includes('/manifests/') ? manifest : Buffer.from(JSON.stringify({ tags: ['1', '2'] }));
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', 'content-length': body.byteLength });
      if (count === 1) {
        response.write(body.subarray(0, 5), () => response.socket?.destroy());
        return;
      }
      response.end(body);
    });
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['1', '2']);
    expect((await t.client.getManifest(`${registry.host}/a/b:1`)).kind).toBe('index');
    expect(t.events.flatMap((e) => (e.type === 'retry' ? [e.reason] : []))).toEqual([
      'network while reading the body',
      'network while reading the body',
    ]);
  });

  test('an unreachable registry is a network error naming it', async () => {
    await using t = testClient({ retries: 1, settings: { 'unreachable.test': { origin: 'http://127.0.0.1:1' } } });
    await expect(t.client.listTags('unreachable.test/a/b')).rejects.toMatchObject({ code: 'network', registry: 'unreachable.test' });
  });
});

describe('timeouts and abort', () => {
  test('no response headers within timeoutMs is a timeout', async () => {
    await using registry = await startServer(() => {
      // never answers
    });
    await using t = testClient({ retries: 0, settings: { [registry.host]: { timeoutMs: 150 } } });
    await expect(t.client.listTags(`${registry.host}/a/b`)).rejects.toMatchObject({ code: 'timeout' });
  });

  test('an AbortSignal cancels a pending request', async () => {
    await using registry = await startServer(() => {
      // never answers
    });
    await using t = testClient();
    const controller = new AbortController();
    const pending = t.client.listTags(`${registry.host}/a/b`, { signal: controller.signal });
    setTimeout(() => {
      controller.abort();
    }, 20);
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('redirects', () => {
  test('Authorization is kept on same-origin redirects and dropped cross-origin', async () => {
    await using storage = await startServer((request, response) => {
      if (request.headers.authorization !== undefined) { json(response, 400, { error: 'two auth mechanisms' }); return; }
      response.writeHead(200, { 'content-length': '2' }).end('hi');
    });
    await using registry = await startServer((request, response) => {
      if (request.headers.authorization !== 'Basic dTpw') { json(response, 401, {}, { 'www-authenticate': 'Basic realm="r"' }); return; }
      if (request.url.startsWith('/v2/a/b/blobs/')) return response.writeHead(307, { location: '/internal/blob' }).end();
      if (request.url === '/internal/blob') return response.writeHead(302, { location: `${storage.origin}/bucket/obj?X-Amz-Signature=abc` }).end();
      json(response, 404, {});
    });
    await using t = testClient({ settings: { [registry.host]: { credentials: { description: 't', get: () => Promise.resolve({ kind: 'basic', username: 'u', password: 'p' }) } } } });
    const digest = 'sha256:8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4';
    const blob = await t.client.getBlob(`${registry.host}/a/b`, digest);
    expect(Buffer.from(await new Response(blob.stream).arrayBuffer()).toString()).toBe('hi');
    expect(registry.requests.at(-1)).toMatchObject({ url: '/internal/blob', headers: expect.objectContaining({ authorization: 'Basic dTpw' }) as unknown });
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]!.url).toBe('/bucket/obj?X-Amz-Signature=abc');
    expect(storage.requests[0]!.headers.authorization).toBeUndefined();
    const hops = t.events.filter((e): e is Extract<RegistryEvent, { type: 'request' }> => e.type === 'request' && e.kind === 'blob');
    expect(hops.map((e) => e.redirect)).toEqual([0, 0, 1, 2]);
  });

  test('a redirect loop ends with invalid_response', async () => {
    await using registry = await startServer((_request, response) => {
      response.writeHead(302, { location: '/v2/a/b/tags/list' }).end();
    });
    await using t = testClient({ maxRedirects: 3 });
    await expect(t.client.listTags(`${registry.host}/a/b`)).rejects.toMatchObject({ code: 'invalid_response' });
  });
});

describe('limits and observability', () => {
  test('concurrency per registry is bounded', async () => {
    let active = 0;
    let peak = 0;
    await using registry = await startServer(async (_request, response) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 20));
      active--;
      json(response, 200, ok);
    });
    await using t = testClient({ settings: { [registry.host]: { concurrency: 2 } } });
    await Promise.all(Array.from({ length: 8 }, (_, i) => t.client.listTags(`${registry.host}/a/r${i}`)));
    expect(peak).toBe(2);
  });

  test('requestsPerSecond spaces requests through the token bucket', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 200, ok);
    });
    let now = 0;
    const sleeps: number[] = [];
    await using t = testClient({
      now: () => now,
      sleep: (ms) => {
        sleeps.push(ms);
        now += ms;
        return Promise.resolve();
      },
      settings: { [registry.host]: { requestsPerSecond: 4 } },
    });
    // A burst of 4, then one token every 250 ms of (fake) time.
    for (let i = 0; i < 6; i++) await t.client.listTags(`${registry.host}/a/b`);
    expect(sleeps).toEqual([250, 250]);
  });

  test('Docker Hub rate-limit headers are exposed on the client and in response events', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 200, ok, { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '42;w=21600' });
    });
    await using t = testClient();
    await t.client.listTags(`${registry.host}/a/b`);
    expect(t.client.rateLimit(registry.host)).toMatchObject({ limit: 100, remaining: 42, windowSeconds: 21600 });
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'response', status: 200, rateLimit: expect.objectContaining({ remaining: 42 }) as unknown }));
  });

  test('diagnostics_channel sees every request and response with kind, status, attempt and timing', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 200, ok);
    });
    await using t = testClient();
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    subscribe(REGISTRY_CHANNELS.request, listener);
    subscribe(REGISTRY_CHANNELS.response, listener);
    try {
      await t.client.listTags(`${registry.host}/a/b`);
    } finally {
      unsubscribe(REGISTRY_CHANNELS.request, listener);
      unsubscribe(REGISTRY_CHANNELS.response, listener);
    }
    expect(seen).toEqual([
      expect.objectContaining({ type: 'request', method: 'GET', kind: 'tags', attempt: 1, registry: registry.host, repository: 'a/b', url: `${registry.origin}/v2/a/b/tags/list?n=1000` }),
      expect.objectContaining({ type: 'response', status: 200, kind: 'tags', durationMs: expect.any(Number) as unknown, bytes: expect.any(Number) as unknown }),
    ]);
    expect(seen).toEqual(t.events);
  });

  test('a throwing onEvent hook does not break requests', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 200, ok);
    });
    await using t = testClient({
      onEvent: () => {
        throw new Error('metrics bug');
      },
    });
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['1']);
  });
});
