import { describe, expect, test } from 'vitest';
import { nextLink, parseLinkHeader } from './link-header.ts';
import { smallerPageSize } from './pagination.ts';
import { createSemaphore, createTokenBucket, parseRateLimitHeaders } from './rate-limit.ts';
import { mayReceiveCredentials, registrableDomain } from './realm-policy.ts';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from './retry.ts';

describe('Link header', () => {
  test('next target as written, relative or absolute, among other relations', () => {
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"')).toBe('/v2/a/tags/list?n=2&last=b');
    expect(nextLink('<https://r.example/v2/a/tags/list?last=b>; rel=next')).toBe('https://r.example/v2/a/tags/list?last=b');
    expect(nextLink(['<https://x/p>; rel="prev"', '<https://x/n>; rel="Next"'])).toBe('https://x/n');
    expect(nextLink('<https://x/1>; rel="prev", <https://x/2>; rel="next"')).toBe('https://x/2');
    expect(nextLink(undefined)).toBeUndefined();
  });

  test('parameters are parsed with lower-cased names', () => {
    expect(parseLinkHeader('<a>; REL="next"; title=x')).toEqual([{ target: 'a', params: { rel: 'next', title: 'x' } }]);
  });
});

describe('registrableDomain', () => {
  test.each([
    ['registry-1.docker.io', 'docker.io'],
    ['auth.docker.io', 'docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['us.gcr.io', 'gcr.io'],
    ['123.dkr.ecr.us-east-1.amazonaws.com', 'amazonaws.com'],
    ['registry.example.co.uk', 'example.co.uk'],
    ['a.b.example.com.au', 'example.com.au'],
    ['Registry.Example.COM:5000', 'example.com'],
    ['127.0.0.1:5000', '127.0.0.1'],
  ])('%s → %s', (host, domain) => {
    expect(registrableDomain(host)).toBe(domain);
  });

  test('credentials go to a realm on the same domain, an allow-listed host, or loopback to loopback', () => {
    const policy = (realm: string, registry: string, origin?: string, allowList?: string[]) =>
      mayReceiveCredentials(new URL(realm), { registry, origin, allowList });
    expect(policy('https://auth.docker.io/token', 'docker.io', 'https://registry-1.docker.io')).toBe(true);
    expect(policy('https://auth.docker.io/token', 'mirror.example.com', 'https://registry-1.docker.io')).toBe(true);
    expect(policy('https://evil.example/token', 'ghcr.io', 'https://ghcr.io')).toBe(false);
    expect(policy('https://login.example.org/token', 'registry.example.com', undefined, ['login.example.org'])).toBe(true);
    expect(policy('https://a.login.example.org/token', 'registry.example.com', undefined, ['*.example.org'])).toBe(true);
    expect(policy('http://127.0.0.1:9/token', '127.0.0.1:5000')).toBe(true);
    expect(policy('http://localhost:9/token', 'registry.example.com', 'http://127.0.0.1:5000')).toBe(false);
    expect(policy('http://auth.example.com/token', 'registry.example.com')).toBe(false);
  });
});

describe('Retry-After and backoff', () => {
  test('delta-seconds and HTTP-date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterMs('3', now)).toBe(3000);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });

  test('full jitter: random × min(max, base·2^(n-1))', () => {
    const options = { retries: 3, retryBaseMs: 100, retryMaxMs: 1000, retryAfterMaxMs: 0 };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, options, () => 0.5))).toEqual([50, 100, 200, 400, 500]);
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
  });

  test('retryable statuses', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 404, 501].some(isRetryableStatus)).toBe(false);
  });
});

describe('rate limits', () => {
  test('Docker Hub RateLimit headers', () => {
    expect(parseRateLimitHeaders({ 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600', 'docker-ratelimit-source': '1.2.3.4' }, 7)).toEqual({
      limit: 100,
      remaining: 76,
      windowSeconds: 21600,
      source: '1.2.3.4',
      observedAtMs: 7,
    });
    expect(parseRateLimitHeaders({}, 7)).toBeUndefined();
  });

  test('token bucket waits 1/rps per request after the burst', async () => {
    let now = 0;
    const waits: number[] = [];
    const bucket = createTokenBucket(2, () => now, (ms) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    });
    for (let i = 0; i < 5; i++) await bucket.take();
    expect(waits).toEqual([500, 500, 500]);
  });

  test('semaphore admits at most the limit and hands permits over in order', async () => {
    const semaphore = createSemaphore(2);
    const first = await semaphore.acquire();
    await semaphore.acquire();
    const order: number[] = [];
    const third = semaphore.acquire().then((release) => {
      order.push(3);
      return release;
    });
    expect(semaphore.active).toBe(2);
    first();
    first(); // a second release of the same permit is ignored
    await third;
    expect(order).toEqual([3]);
    expect(semaphore.active).toBe(2);
  });

  test('an aborted wait for a permit rejects', async () => {
    const semaphore = createSemaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});

describe('smallerPageSize (ECR n cap)', () => {
  test('the cap quoted by the registry, else 1000, else 100, else nothing', () => {
    expect(smallerPageSize(5000, "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'")).toBe(1000);
    expect(smallerPageSize(1000, 'n must be <= 250')).toBe(250);
    expect(smallerPageSize(5000, 'bad request')).toBe(1000);
    expect(smallerPageSize(1000, undefined)).toBe(100);
    expect(smallerPageSize(100, undefined)).toBeUndefined();
  });
});
