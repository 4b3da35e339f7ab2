import { sha256Digest } from '@scanner/test-lab';
import { describe, expect, test } from 'vitest';
import type { Cache } from './cache.ts';
import { createRegistryClient } from './client.ts';
import type { RegistryEvent } from './events.ts';
import { failure } from './failure.fixture.ts';
import { json, startServer } from './http.fixture.ts';
import type { TestServer } from './http.fixture.ts';
import { createScanner } from './scanner.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

interface Stored {
  readonly bytes: Buffer;
  readonly mediaType: string;
}

/**
 * A registry on loopback serving exactly the bytes given, for situations the real registry refuses to store
 * (schema1, configs that are not JSON, unreadable platforms) or cannot show (a tag listed but gone on HEAD).
 */
async function quirkRegistry(repository: string) {
  const manifests = new Map<string, Stored>();
  const blobs = new Map<string, Buffer>();
  const listed: string[] = [];
  const server: TestServer = await startServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    if (path === `/v2/${repository}/tags/list`) { json(response, 200, { name: repository, tags: listed }); return; }
    const manifest = new RegExp(`^/v2/${repository}/manifests/(.+)$`).exec(path);
    if (manifest?.[1] !== undefined) {
      const stored = manifests.get(decodeURIComponent(manifest[1]));
      if (stored === undefined) { json(response, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }); return; }
      response.writeHead(200, { 'content-type': stored.mediaType, 'content-length': stored.bytes.byteLength, 'docker-content-digest': sha256Digest(stored.bytes) });
      return response.end(request.method === 'HEAD' ? undefined : stored.bytes);
    }
    const blob = new RegExp(`^/v2/${repository}/blobs/(.+)$`).exec(path);
    const content = blob?.[1] === undefined ? undefined : blobs.get(blob[1]);
    if (content !== undefined) {
      response.writeHead(200, { 'content-length': content.byteLength });
      return response.end(request.method === 'HEAD' ? undefined : content);
    }
    json(response, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] });
  });
  const blob = (content: Buffer | string): { mediaType: string; digest: string; size: number } => {
    const data = Buffer.from(content);
    blobs.set(sha256Digest(data), data);
    return { mediaType: OCI_CONFIG, digest: sha256Digest(data), size: data.byteLength };
  };
  const put = (tags: readonly string[], body: unknown, mediaType: string): string => {
    const data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const digest = sha256Digest(data);
    manifests.set(digest, { bytes: data, mediaType });
    for (const tag of tags) {
      manifests.set(tag, { bytes: data, mediaType });
      listed.push(tag);
    }
    return digest;
  };
  /** An image manifest over `config` (an object, or raw text) and one layer. */
  const image = (tags: readonly string[], config: unknown): string => {
    const configDescriptor = blob(typeof config === 'string' ? config : JSON.stringify(config));
    const layer = blob(`layer of ${tags.join(',')}`);
    return put(tags, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: [{ ...layer, mediaType: LAYER }] }, OCI_MANIFEST);
  };
  return { server, host: server.host, listed, manifests, put, image, [Symbol.asyncDispose]: () => server.close() };
}

function config(created: string | undefined, extra: Record<string, unknown> = {}) {
  return { ...(created === undefined ? {} : { created }), architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, ...extra };
}

function scannerWithEvents() {
  const events: RegistryEvent[] = [];
  const client = createRegistryClient({ onEvent: (event) => events.push(event), retries: 0 });
  return { scanner: createScanner({ client }), client, events, warnings: () => events.filter((event) => event.type === 'warning' && event.code === 'tag_skipped') };
}

describe('tags whose content is odd are skipped with one warning each; the scan goes on', () => {
  test('schema1, a config that is not JSON, an unreadable platform, and a tag gone between listing and HEAD', async () => {
    await using quirk = await quirkRegistry('lab/odd');
    quirk.image(['1.0.0'], config('2024-01-01T00:00:00Z'));
    quirk.put(['1.1.0'], { schemaVersion: 1, name: 'lab/odd', tag: '1.1.0', architecture: 'amd64', fsLayers: [], history: [] }, SCHEMA1);
    quirk.image(['1.2.0'], '{"architecture": "amd64", "os":');
    quirk.image(['1.3.0'], config('2024-03-01T00:00:00Z', { architecture: 'amd 64' }));
    quirk.listed.push('1.4.0'); // listed, but no manifest any more

    const { scanner, warnings } = scannerWithEvents();
    const result = await scanner.select(`${quirk.host}/lab/odd`, { strategy: 'newest-build' });
    expect(result.selected?.tag).toBe('1.0.0');
    expect(Object.fromEntries(result.skipped.map((entry) => [entry.tag, entry.code]))).toEqual({
      '1.1.0': 'unsupported_media_type',
      '1.2.0': 'invalid_response',
      '1.3.0': 'invalid_response',
      '1.4.0': 'MANIFEST_UNKNOWN',
    });
    expect(result.skipped.find((entry) => entry.tag === '1.1.0')?.reason).toContain('schema1');
    // The reason names the registry too: `lab/odd` alone reads as Docker Hub's (break-scan L1).
    expect(result.skipped.find((entry) => entry.tag === '1.3.0')?.reason).toContain(`${quirk.host}/lab/odd@sha256:`);
    expect(result.skipped.find((entry) => entry.tag === '1.4.0')?.reason).toContain(`${quirk.host}/lab/odd:1.4.0`);
    expect(result.skipped.find((entry) => entry.tag === '1.3.0')?.reason).toContain('"amd 64"');
    expect(warnings().map((event) => (event as { tag?: string }).tag).sort()).toEqual(['1.1.0', '1.2.0', '1.3.0', '1.4.0']);
  });

  test('semver walks past a top-ranked tag that vanished between listing and HEAD, with a warning', async () => {
    await using quirk = await quirkRegistry('lab/gone');
    const digest = quirk.image(['1.0.0'], config('2024-01-01T00:00:00Z'));
    quirk.listed.push('2.0.0');
    const { scanner, warnings } = scannerWithEvents();
    const result = await scanner.select(`${quirk.host}/lab/gone`, { strategy: 'semver', constraint: '*' });
    expect(result.selected).toMatchObject({ tag: '1.0.0', digest });
    expect(result.skipped).toEqual([{ tag: '2.0.0', code: 'MANIFEST_UNKNOWN', reason: expect.stringContaining('2.0.0') as string }]);
    expect(warnings()).toHaveLength(1);
  });

  test('the digest strategy reports a tracked tag that is not an image as skipped, selecting nothing', async () => {
    await using quirk = await quirkRegistry('lab/chart');
    const chartConfig = Buffer.from('{"name":"web"}');
    quirk.put(['stable'], { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: sha256Digest(chartConfig), size: chartConfig.byteLength }, layers: [] }, OCI_MANIFEST);
    const { scanner } = scannerWithEvents();
    const result = await scanner.select(`${quirk.host}/lab/chart`, { strategy: 'digest', constraint: 'stable', platforms: ['linux/amd64'] });
    expect(result.selected).toBeNull();
    expect(result.skipped.map((entry) => entry.code)).toEqual(['not_an_image']);
  });

  test('an index entry with an unreadable platform is left out; the others are kept', async () => {
    await using quirk = await quirkRegistry('lab/multi');
    const amd = quirk.image([], config('2024-05-01T00:00:00Z'));
    const odd = quirk.image([], config('2024-05-01T00:00:00Z', { architecture: 'amd 64' }));
    const size = (digest: string) => quirk.manifests.get(digest)?.bytes.byteLength ?? 0;
    quirk.put(['1.0.0'], {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd, size: size(amd), platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI_MANIFEST, digest: odd, size: size(odd), platform: { os: 'linux', architecture: 'amd 64' } },
      ],
    }, OCI_INDEX);
    const { scanner } = scannerWithEvents();
    const result = await scanner.select(`${quirk.host}/lab/multi`, { strategy: 'newest-build' });
    expect(result.selected).toMatchObject({ tag: '1.0.0', platforms: ['linux/amd64'] });
    expect(result.skipped).toEqual([]);
  });

  // break-scan L4: containerd's FilterPlatforms keeps an index entry without a platform; its config says which.
  test('an index entry without a platform is read, its platform taken from its config', async () => {
    await using quirk = await quirkRegistry('lab/noplat');
    const arm = quirk.image([], config('2024-06-01T00:00:00Z', { architecture: 'arm64', variant: 'v8' }));
    const size = (digest: string) => quirk.manifests.get(digest)?.bytes.byteLength ?? 0;
    quirk.put(['2.3.0'], { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: arm, size: size(arm) }] }, OCI_INDEX);
    quirk.image(['1.0.0'], config('2024-01-01T00:00:00Z'));
    const { scanner } = scannerWithEvents();
    const newest = await scanner.select(`${quirk.host}/lab/noplat`, { strategy: 'newest-build' });
    expect(newest.selected).toMatchObject({ tag: '2.3.0', platforms: ['linux/arm64/v8'] });
    expect(newest.skipped).toEqual([]);
    const amd64 = await scanner.select(`${quirk.host}/lab/noplat`, { strategy: 'semver', platforms: ['linux/amd64'] });
    expect(amd64.selected?.tag).toBe('1.0.0');
    const arm64 = await scanner.select(`${quirk.host}/lab/noplat`, { strategy: 'semver', platforms: ['linux/arm64'] });
    expect(arm64.selected?.tag).toBe('2.3.0');
  });

  // break-scan L5: a tagged standalone attestation (BuildKit's unknown/unknown) was ranked as an image.
  test('a tagged image whose config says unknown/unknown is an attestation: skipped, not ranked', async () => {
    await using quirk = await quirkRegistry('lab/att');
    quirk.image(['1.0.0'], config('2024-01-01T00:00:00Z'));
    quirk.image(['tmp-att'], config('2024-06-01T00:00:00Z', { os: 'unknown', architecture: 'unknown' }));
    const { scanner } = scannerWithEvents();
    const result = await scanner.select(`${quirk.host}/lab/att`, { strategy: 'newest-build' });
    expect(result.selected?.tag).toBe('1.0.0');
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['1.0.0']);
    expect(result.skipped).toEqual([{ tag: 'tmp-att', code: 'not_an_image', reason: expect.stringContaining('unknown/unknown') as string }]);
  });

  test('auth, rate limits and server errors on a tag still fail the scan', async () => {
    await using quirk = await quirkRegistry('lab/limited');
    quirk.image(['1.0.0'], config('2024-01-01T00:00:00Z'));
    const { scanner } = scannerWithEvents();
    quirk.server.handle((request, response) => {
      if (request.url.includes('/tags/list')) { json(response, 200, { tags: ['1.0.0'] }); return; }
      json(response, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] });
    });
    expect((await failure(scanner.select(`${quirk.host}/lab/limited`, { strategy: 'newest-build' }))).code).toBe('rate_limited'); // HEAD answers carry no OCI error body
    quirk.server.handle((request, response) => {
      if (request.url.includes('/tags/list')) { json(response, 200, { tags: ['1.0.0'] }); return; }
      json(response, 500, {});
    });
    expect((await failure(scanner.select(`${quirk.host}/lab/limited`, { strategy: 'newest-build' }))).code).toBe('server_error');
  });
});

describe('what registry data leaves out is derived as peers derive it', () => {
  test('a single arm64 image without a variant is linux/arm64/v8 (arm without one is arm/v7); it still matches linux/arm64', async () => {
    await using quirk = await quirkRegistry('lab/arm');
    quirk.image(['1.0.0'], config('2024-01-01T00:00:00Z', { architecture: 'arm64' }));
    quirk.image(['1.1.0'], config('2024-01-02T00:00:00Z', { architecture: 'arm' }));
    const client = createRegistryClient();
    expect((await client.getImageMetadata(`${quirk.host}/lab/arm:1.0.0`)).images[0]?.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect((await client.getImageMetadata(`${quirk.host}/lab/arm:1.1.0`)).images[0]?.platform).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    const { scanner } = scannerWithEvents();
    const result = await scanner.select(`${quirk.host}/lab/arm`, { strategy: 'semver', constraint: '*', platforms: ['linux/arm64'] });
    expect(result.selected).toMatchObject({ tag: '1.0.0', platforms: ['linux/arm64/v8'] });
    await client.close();
  });

  test('a config without created is dated by the latest step of its history', async () => {
    await using quirk = await quirkRegistry('lab/history');
    quirk.image(['1.0.0'], config(undefined, { history: [{ created: '2024-06-01T10:00:00Z', created_by: 'FROM' }, { created: '2024-06-03T10:00:00Z', created_by: 'COPY' }, { created_by: 'no date' }] }));
    quirk.image(['0.9.0'], config('2024-06-02T00:00:00Z'));
    const { scanner } = scannerWithEvents();
    const result = await scanner.select(`${quirk.host}/lab/history`, { strategy: 'newest-build' });
    expect(result.candidates.map((candidate) => [candidate.tag, candidate.createdAt])).toEqual([
      ['1.0.0', '2024-06-03T10:00:00.000Z'],
      ['0.9.0', '2024-06-02T00:00:00.000Z'],
    ]);
  });
});

// break-scan F2: a digest's verdict ("not an image", "config unreadable") is as immutable as its metadata, so
// a warm scan remembers it instead of fetching every chart, signature and odd tag again; it still warns.
describe('skipped tags are remembered by digest in the cache', () => {
  function recordingCache(): Cache & { readonly ttls: Map<string, number | undefined> } {
    const entries = new Map<string, unknown>();
    const ttls = new Map<string, number | undefined>();
    return {
      namespace: 'test',
      ttls,
      get: (key) => Promise.resolve(structuredClone(entries.get(key)) as never),
      set: (key, value, options) => {
        entries.set(key, structuredClone(value));
        ttls.set(key, options?.ttlMs);
        return Promise.resolve();
      },
      delete: (key) => {
        entries.delete(key);
        return Promise.resolve();
      },
    };
  }

  async function oddRepository() {
    const quirk = await quirkRegistry('lab/app');
    quirk.image(['1.0.0'], config('2024-01-01T00:00:00Z'));
    const chartConfig = Buffer.from('{"name":"web"}');
    quirk.put(['1.2.0'], { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: sha256Digest(chartConfig), size: chartConfig.byteLength }, layers: [] }, OCI_MANIFEST);
    quirk.image(['1.3.0'], '{"architecture": "amd64", "os":');
    return quirk;
  }

  test.each(['tag', 'digest'] as const)('warm %s strategy: no GET for a skipped tag (tag: no request at all), one warning per tag per scan', async (strategy) => {
    await using quirk = await oddRepository();
    const cache = recordingCache();
    const scan = async () => {
      const events: RegistryEvent[] = [];
      const client = createRegistryClient({ onEvent: (event) => events.push(event), retries: 0 });
      await using scanner = createScanner({ client, cache, cacheStrategy: strategy, imageTtlMs: 123_456 });
      const result = await scanner.select(`${quirk.host}/lab/app`, { strategy: 'newest-build' });
      return { result, warned: events.filter((event) => event.type === 'warning' && event.code === 'tag_skipped').map((event) => (event as { tag?: string }).tag).sort() };
    };
    const cold = await scan();
    expect(cold.result.selected?.tag).toBe('1.0.0');
    expect(cold.warned).toEqual(['1.2.0', '1.3.0']);
    const coldRequests = quirk.server.requests.length;
    const warm = await scan();
    expect(warm.result.selected?.tag).toBe('1.0.0');
    expect(warm.warned).toEqual(['1.2.0', '1.3.0']);
    expect(warm.result.skipped.map((entry) => [entry.tag, entry.code])).toEqual(cold.result.skipped.map((entry) => [entry.tag, entry.code]));
    expect(warm.result.skipped.map((entry) => entry.reason)).toEqual(cold.result.skipped.map((entry) => entry.reason));
    const warmRequests = quirk.server.requests.slice(coldRequests).map((request) => request.method);
    if (strategy === 'tag') expect(warmRequests).toEqual([]);
    else expect(warmRequests.filter((method) => method !== 'HEAD')).toEqual([]);
    const skipKeys = [...cache.ttls.keys()].filter((key) => key.includes(':skipped:'));
    expect(skipKeys).toHaveLength(2);
    for (const key of skipKeys) expect(cache.ttls.get(key)).toBe(123_456);
  });

  test('a tag gone (404) is not remembered; the verdicts on content are', async () => {
    await using quirk = await oddRepository();
    quirk.listed.push('1.4.0'); // listed, but no manifest: may come back, never cached as a verdict
    const cache = recordingCache();
    const client = createRegistryClient({ retries: 0 });
    await using scanner = createScanner({ client, cache, cacheStrategy: 'tag' });
    await scanner.select(`${quirk.host}/lab/app`, { strategy: 'newest-build' });
    const first = quirk.server.requests.length;
    const again = await scanner.select(`${quirk.host}/lab/app`, { strategy: 'newest-build' });
    expect(again.skipped.map((entry) => entry.tag).sort()).toEqual(['1.2.0', '1.3.0', '1.4.0']);
    // Only the vanished tag is asked about again (HEAD, then GET).
    expect(new Set(quirk.server.requests.slice(first).map((request) => request.url))).toEqual(new Set(['/v2/lab/app/manifests/1.4.0']));
  });
});
