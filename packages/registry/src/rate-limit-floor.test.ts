import { describe, expect, test } from 'vitest';
import { computeDigest } from '@scanner/image';
import { expectFailure } from './failure.fixture.ts';
import { startServer } from './http.fixture.ts';
import type { Handler, TestServer } from './http.fixture.ts';
import { createRegistryClient } from './client.ts';
import type { RegistryEvent, WarningEvent } from './events.ts';
import { quotaResetAtMs } from './rate-limit-floor.ts';

const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 },
    layers: [],
  }),
);
const digest = computeDigest(manifest);

/** A registry that counts manifest GETs against a quota and reports it the way Docker Hub does. */
function quotaRegistry(state: { remaining: number; window?: number; reset?: number }): Handler {
  return (request, response) => {
    const headers: Record<string, string> = {
      'ratelimit-limit': `100;w=${state.window ?? 21600}`,
      'ratelimit-remaining': `${state.remaining};w=${state.window ?? 21600}`,
      ...(state.reset === undefined ? {} : { 'ratelimit-reset': String(state.reset) }),
      'docker-content-digest': digest,
      'content-type': 'application/vnd.oci.image.manifest.v1+json',
    };
    if (request.method === 'GET') state.remaining = Math.max(0, state.remaining - 1);
    if (request.method === 'HEAD') {
      response.writeHead(200, { ...headers, 'content-length': manifest.byteLength }).end();
      return;
    }
    response.writeHead(200, { ...headers, 'content-length': manifest.byteLength }).end(manifest);
  };
}

/** A clock that only moves when the client sleeps. */
function fakeTime(start = 1_000_000) {
  const sleeps: { ms: number; registry: string | undefined }[] = [];
  let now = start;
  return {
    now: () => now,
    sleeps,
    advance(ms: number) {
      now += ms;
    },
    sleep: (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      sleeps.push({ ms, registry: undefined });
      now += ms;
      return Promise.resolve();
    },
  };
}

function warnings(events: RegistryEvent[]): WarningEvent[] {
  return events.filter((event): event is WarningEvent => event.type === 'warning');
}

async function withServer(handler: Handler, run: (server: TestServer) => Promise<void>): Promise<void> {
  await using server = await startServer(handler);
  await run(server);
}

describe('ratelimit_floor', () => {
  test('manifest GETs wait for the window once RateLimit-Remaining falls below the floor; one warning per pause', async () => {
    const state = { remaining: 6, window: 3600 };
    await withServer(quotaRegistry(state), async (server) => {
      const time = fakeTime();
      const events: RegistryEvent[] = [];
      const client = createRegistryClient({
        settings: { [server.host]: { rateLimitFloor: 5 } },
        now: time.now,
        sleep: time.sleep,
        onEvent: (event) => events.push(event),
      });
      try {
        const ref = `${server.host}/library/app@${digest}`;
        await client.getManifest(ref); // remaining 6 → seen as 6 (header sent before the decrement)
        await client.getManifest(ref); // 6 ≥ 5: goes; the registry now says 5
        await client.getManifest(ref); // 5 ≥ 5: goes; says 4
        expect(time.sleeps).toEqual([]);
        const before = time.now();
        await client.getManifest(ref); // 4 < 5: waits for the 3600 s window, in rechecks of 60 s
        const waited = time.sleeps.reduce((total, sleep) => total + sleep.ms, 0);
        expect(waited).toBe(3600 * 1000);
        expect(time.now() - before).toBe(3600 * 1000);
        expect(time.sleeps.every((sleep) => sleep.ms <= 60_000)).toBe(true);
        const pauses = warnings(events).filter((event) => event.code === 'ratelimit_pause');
        expect(pauses).toHaveLength(1);
        expect(pauses[0]).toMatchObject({ registry: server.host, repository: 'library/app' });
        expect(pauses[0]?.message).toContain('below the floor of 5');
        expect(server.requests.filter((request) => request.method === 'GET')).toHaveLength(4);
      } finally {
        await client.close();
      }
    });
  });

  test('RateLimit-Reset sets the end of the pause; HEADs and other registries go on meanwhile', async () => {
    const quota = { remaining: 1, reset: 90 };
    await using limited = await startServer(quotaRegistry(quota));
    await using other = await startServer(quotaRegistry({ remaining: 100 }));
    let now = 5_000;
    let releaseSleep: (() => void) | undefined;
    const sleeps: number[] = [];
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({
      settings: { [limited.host]: { rateLimitFloor: 10 }, [other.host]: { rateLimitFloor: 10 } },
      now: () => now,
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise<void>((resolve) => {
          releaseSleep = () => {
            now += ms;
            resolve();
          };
        });
      },
      onEvent: (event) => events.push(event),
    });
    try {
      await client.getManifest(`${limited.host}/app@${digest}`);
      const paused = client.getManifest(`${limited.host}/app@${digest}`);
      await expect.poll(() => sleeps.length).toBe(1);
      expect(sleeps[0]).toBe(60_000);
      // While paused: a HEAD to the same registry and a GET to another registry are answered.
      expect(await client.resolveDigest(`${limited.host}/app:latest`)).toBe(digest);
      expect((await client.getManifest(`${other.host}/app@${digest}`)).digest).toBe(digest);
      expect(limited.requests.filter((request) => request.method === 'GET')).toHaveLength(1);
      // 90 s to the reset: one 60 s recheck finds the quota still low, then 30 s to the reset.
      while (limited.requests.filter((request) => request.method === 'GET').length < 2) {
        const release = releaseSleep;
        releaseSleep = undefined;
        release?.();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await paused;
      expect(sleeps).toEqual([60_000, 30_000]);
      expect(warnings(events).filter((event) => event.code === 'ratelimit_pause')).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  test('the caller’s signal ends the wait with aborted', async () => {
    await withServer(quotaRegistry({ remaining: 0 }), async (server) => {
      const controller = new AbortController();
      const client = createRegistryClient({
        settings: { [server.host]: { rateLimitFloor: 1 } },
        sleep: (_ms, signal) =>
          new Promise<void>((_resolve, reject) => {
            signal?.addEventListener('abort', () => {
              reject(signal.reason as Error);
            });
          }),
      });
      try {
        await client.getManifest(`${server.host}/app@${digest}`);
        const waiting = client.getManifest(`${server.host}/app@${digest}`, { signal: controller.signal });
        setTimeout(() => {
          controller.abort();
        }, 10);
        await expectFailure(waiting, 'aborted');
        expect(server.requests).toHaveLength(1);
      } finally {
        await client.close();
      }
    });
  });

  test('no floor configured: no pause whatever the registry reports', async () => {
    await withServer(quotaRegistry({ remaining: 0 }), async (server) => {
      const time = fakeTime();
      const client = createRegistryClient({ now: time.now, sleep: time.sleep });
      try {
        await client.getManifest(`${server.host}/app@${digest}`);
        await client.getManifest(`${server.host}/app@${digest}`);
        expect(time.sleeps).toEqual([]);
      } finally {
        await client.close();
      }
    });
  });

  test('the reset time: RateLimit-Reset, else the w= window, else a minute', () => {
    const base = { limit: 100, remaining: 1, source: undefined, observedAtMs: 1000 };
    expect(quotaResetAtMs({ ...base, windowSeconds: 21600, resetSeconds: 30 })).toBe(31_000);
    expect(quotaResetAtMs({ ...base, windowSeconds: 21600 })).toBe(21_601_000);
    expect(quotaResetAtMs({ ...base, windowSeconds: undefined })).toBe(61_000);
  });
});
