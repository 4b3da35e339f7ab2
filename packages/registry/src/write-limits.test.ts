// Per-registry `concurrency` and `requestsPerSecond` (registries config `concurrency`, `limit`) bound writes
// too: blob uploads, cross-repository mounts and manifest PUTs.
import { describe, expect, test } from 'vitest';
import { MEDIA_TYPE_OCI_MANIFEST, computeDigest } from '@scanner/image';
import { createRegistryClient } from './client.ts';
import type { RegistryEvent, RequestEvent } from './events.ts';
import { startServer } from './http.fixture.ts';
import type { Handler } from './http.fixture.ts';
import { parseRegistriesConfig, resolveRegistrySettings } from './registries-config.ts';

/** Accepts every write after `delayMs`, and records the most requests it had in flight at once. */
function slowWriter(delayMs: number): { handler: Handler; maxInFlight: () => number } {
  let inFlight = 0;
  let max = 0;
  let next = 0;
  const handler: Handler = async (request, response) => {
    inFlight++;
    max = Math.max(max, inFlight);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    inFlight--;
    const url = new URL(request.url, 'http://x');
    if (request.method === 'HEAD') response.writeHead(404).end();
    else if (request.method === 'POST' && url.searchParams.has('mount')) response.writeHead(201, { location: `/v2/x/blobs/${url.searchParams.get('mount')!}` }).end();
    else if (request.method === 'POST') response.writeHead(202, { location: `/upload/${++next}` }).end();
    else if (request.method === 'PUT' && url.pathname.startsWith('/upload/')) response.writeHead(201, { 'docker-content-digest': url.searchParams.get('digest')! }).end();
    else if (request.method === 'PUT') response.writeHead(201, { 'docker-content-digest': computeDigest(request.body) }).end();
    else response.writeHead(404).end();
  };
  return { handler, maxInFlight: () => max };
}

const blobs = Array.from({ length: 6 }, (_, index) => Buffer.from(`blob ${index}`));
const manifest = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: computeDigest(blobs[0]!), size: 6 }, layers: [] }),
);

describe('write requests go through the per-registry limits', () => {
  test('concurrency (from the registries config) bounds uploads, mounts and manifest PUTs in flight', async () => {
    const writer = slowWriter(25);
    await using server = await startServer(writer.handler);
    const config = await parseRegistriesConfig(`registries:\n  - name: target\n    prefix: ${server.host}\n    concurrency: 2\n`, { dockerConfig: false, env: {} });
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ settings: (host) => resolveRegistrySettings(host, { config }), onEvent: (event) => events.push(event) });
    try {
      await Promise.all([
        ...blobs.map((blob) => client.uploadBlob(`${server.host}/team/app`, blob, { digest: computeDigest(blob) })),
        ...blobs.map((blob) => client.uploadBlob(`${server.host}/team/other`, blob, { digest: computeDigest(blob), mountFrom: 'team/app' })),
        ...['a', 'b', 'c'].map((tag) => client.putManifest(`${server.host}/team/app:${tag}`, manifest, { mediaType: MEDIA_TYPE_OCI_MANIFEST })),
      ]);
      const kinds = new Set(events.filter((event): event is RequestEvent => event.type === 'request').map((event) => `${event.method} ${event.kind}`));
      expect(kinds).toEqual(new Set(['HEAD blob', 'POST upload', 'PUT upload', 'POST mount', 'PUT manifest']));
      expect(writer.maxInFlight()).toBe(2);
    } finally {
      await client.close();
    }
  });

  test('requestsPerSecond (the config’s limit) paces uploads, mounts and manifest PUTs', async () => {
    const writer = slowWriter(0);
    await using server = await startServer(writer.handler);
    const config = await parseRegistriesConfig(`registries:\n  - name: target\n    prefix: ${server.host}\n    limit: 2\n`, { dockerConfig: false, env: {} });
    let now = 0;
    const sleeps: number[] = [];
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({
      settings: (host) => resolveRegistrySettings(host, { config }),
      now: () => now,
      sleep: (ms) => {
        sleeps.push(ms);
        now += ms;
        return Promise.resolve();
      },
      onEvent: (event) => events.push(event),
    });
    try {
      await client.uploadBlob(`${server.host}/team/app`, blobs[1]!, { digest: computeDigest(blobs[1]!), skipExisting: false });
      await client.uploadBlob(`${server.host}/team/other`, blobs[1]!, { digest: computeDigest(blobs[1]!), mountFrom: 'team/app' });
      await client.putManifest(`${server.host}/team/app:a`, manifest, { mediaType: MEDIA_TYPE_OCI_MANIFEST });
      const sent = events.filter((event): event is RequestEvent => event.type === 'request');
      expect(sent.map((event) => `${event.method} ${event.kind}`)).toEqual(['POST upload', 'PUT upload', 'POST mount', 'PUT manifest']);
      // A bucket of 2 at 2 per second: the first two go at once, each later one waits half a second.
      expect(sleeps.reduce((total, ms) => total + ms, 0)).toBe(1000);
      expect(now).toBe(1000);
    } finally {
      await client.close();
    }
  });
});
