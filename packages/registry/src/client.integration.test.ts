import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildImage, buildIndex, hasBinary, seedImage, skopeoCopy, skopeoInspectRaw, startFaultProxy, startRegistry } from '@scanner/test-lab';
import type { BuiltImage, BuiltIndex, FaultProxy, Registry } from '@scanner/test-lab';
import { createRegistryClient } from './client.ts';
import type { RegistryClient, RegistryClientOptions } from './client.ts';
import type { RegistryEvent, RequestEvent } from './events.ts';
import type { CredentialProvider } from './settings.ts';

const available = hasBinary('docker-registry') && hasBinary('skopeo');

function provider(credentials: { username: string; password: string } | undefined): CredentialProvider {
  return {
    description: 'test-lab',
    get: () => Promise.resolve(credentials === undefined ? undefined : { kind: 'basic', ...credentials }),
  };
}

interface Harness extends AsyncDisposable {
  client: RegistryClient;
  events: RegistryEvent[];
  sleeps: number[];
}

function baseHarness(options: RegistryClientOptions = {}): Harness {
  const events: RegistryEvent[] = [];
  const sleeps: number[] = [];
  const client = createRegistryClient({
    onEvent: (event) => events.push(event),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...options,
  });
  return { client, events, sleeps, [Symbol.asyncDispose]: () => client.close() };
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(stream).arrayBuffer());
}

const requestsOf = (events: RegistryEvent[]) => events.filter((e): e is RequestEvent => e.type === 'request');

// Both HTTP engines against the same real registries: undici (the default) and node (the CLI's scan commands).
describe.skipIf(!available).each(['undici', 'node'] as const)('against the CNCF distribution registry (%s engine)', (httpEngine) => {
  const harness = (options: RegistryClientOptions = {}): Harness => baseHarness({ httpEngine, ...options });
  describe('open registry', () => {
    let registry: Registry;
    let image: BuiltImage;
    let index: BuiltIndex;
    let dockerImage: BuiltImage;

    beforeAll(async () => {
      registry = await startRegistry({ auth: 'none' });
      image = (await seedImage(registry, 'team/app:1.0', {
        created: '2024-02-03T04:05:06Z',
        labels: { 'org.opencontainers.image.source': 'https://example.test/app' },
        layers: [{ size: 300_000 }],
      })) as BuiltImage;
      await seedImage(registry, 'team/app:1.1', image);
      index = (await seedImage(registry, 'team/multi:2.0', {
        images: [
          { os: 'linux', architecture: 'amd64', created: '2024-01-01T00:00:00Z' },
          { os: 'linux', architecture: 'arm64', variant: 'v8', created: '2024-03-01T00:00:00Z' },
        ],
      })) as BuiltIndex;
      dockerImage = (await seedImage(registry, 'team/docker:1', { mediaTypes: 'docker' })) as BuiltImage;
    }, 120_000);
    afterAll(async () => {
      await registry.stop();
    });

    test('lists tags, resolves digests and reads manifests skopeo pushed, with identical digests', async () => {
      await using h = harness();
      expect((await h.client.listTags(`${registry.host}/team/app`)).sort()).toEqual(['1.0', '1.1']);
      expect(await h.client.resolveDigest(`${registry.host}/team/app:1.0`)).toBe(image.digest);
      const manifest = await h.client.getManifest(`${registry.host}/team/app:1.1`);
      expect(manifest.digest).toBe(image.digest);
      expect(Buffer.from(manifest.bytes).equals(Buffer.from(image.manifestBytes))).toBe(true);
      const docker = await h.client.getManifest(`${registry.host}/team/docker:1`);
      expect(docker).toMatchObject({ digest: dockerImage.digest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' });
      expect(await h.client.resolveDigest(`${registry.host}/team/multi:2.0`)).toBe(index.digest);
    });

    test('image metadata of a single image and of an index per platform', async () => {
      await using h = harness();
      const single = await h.client.getImageMetadata(`${registry.host}/team/app:1.0`);
      expect(single).toMatchObject({
        kind: 'manifest',
        digest: image.digest,
        created: '2024-02-03T04:05:06.000Z',
        labels: { 'org.opencontainers.image.source': 'https://example.test/app' },
      });
      const multi = await h.client.getImageMetadata(`${registry.host}/team/multi:2.0`);
      expect(multi.images.map((i) => `${i.platform.architecture}:${i.created ?? ''}`)).toEqual(['amd64:2024-01-01T00:00:00.000Z', 'arm64:2024-03-01T00:00:00.000Z']);
      expect(multi.created).toBe('2024-03-01T00:00:00.000Z');
      const arm = await h.client.getManifest(`${registry.host}/team/multi:2.0`, { platform: { os: 'linux', architecture: 'arm64' } });
      expect(arm.digest).toBe(index.images[1]!.digest);
    });

    test('streams blobs with verification; blobExists', async () => {
      await using h = harness();
      const layer = image.layers[0]!;
      const blob = await h.client.getBlob(`${registry.host}/team/app`, layer.digest);
      expect((await bytesOf(blob.stream)).equals(Buffer.from(image.blobs.get(layer.digest)!))).toBe(true);
      expect(await h.client.blobExists(`${registry.host}/team/app`, layer.digest)).toBe(true);
      expect(await h.client.blobExists(`${registry.host}/team/app`, `sha256:${'0'.repeat(64)}`)).toBe(false);
    });

    test('unknown repository and tag map to the OCI codes', async () => {
      await using h = harness();
      await expect(h.client.listTags(`${registry.host}/team/none`)).rejects.toMatchObject({ code: 'NAME_UNKNOWN', status: 404 });
      await expect(h.client.getManifest(`${registry.host}/team/app:nope`)).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN', status: 404 });
    });

    test('images we push (blobs monolithic and chunked, manifest) read back byte for byte with skopeo', async () => {
      await using h = harness({ chunkSizeBytes: 64 * 1024 });
      const built = buildImage({ layers: [{ size: 200_000 }, 'small layer'], labels: { pushed: 'by-us' } });
      for (const [digest, bytes] of built.blobs) {
        if (bytes.byteLength > 100_000) {
          // A stream without a known digest goes up in PATCH chunks.
          const stream = new Blob([Buffer.from(bytes)]).stream();
          expect(await h.client.uploadBlob(`${registry.host}/ours/app`, stream)).toMatchObject({ digest, outcome: 'uploaded' });
        } else {
          expect(await h.client.uploadBlob(`${registry.host}/ours/app`, bytes, { digest })).toMatchObject({ digest, outcome: 'uploaded' });
        }
      }
      expect(requestsOf(h.events).filter((e) => e.method === 'PATCH').length).toBeGreaterThan(1);
      expect(await h.client.putManifest(`${registry.host}/ours/app:v1`, built.manifestBytes, { mediaType: built.mediaType })).toEqual({ digest: built.digest });
      const raw = await skopeoInspectRaw(`docker://${registry.host}/ours/app:v1`);
      expect(raw).toBe(Buffer.from(built.manifestBytes).toString('utf8'));
      // Pushing again finds every blob present.
      for (const [digest, bytes] of built.blobs) expect(await h.client.uploadBlob(`${registry.host}/ours/app`, bytes, { digest })).toMatchObject({ outcome: 'exists' });
    });

    test('copyImage of an index within a registry mounts blobs; skopeo reads the copy identically', async () => {
      await using h = harness();
      const result = await h.client.copyImage(`${registry.host}/team/multi:2.0`, `${registry.host}/copies/multi:2.0`);
      expect(result).toMatchObject({ digest: index.digest, manifests: 3 });
      expect(result.blobs.mounted).toBeGreaterThan(0);
      expect(result.blobs.uploaded).toBe(0);
      expect(await skopeoInspectRaw(`docker://${registry.host}/copies/multi:2.0`)).toBe(Buffer.from(index.indexBytes).toString('utf8'));
      expect(await h.client.resolveDigest(`${registry.host}/copies/multi:2.0`)).toBe(index.digest);
    });
  });

  describe('basic auth', () => {
    test('pulls and pushes with credentials; without them or with a wrong password: unauthorized', async () => {
      await using registry = await startRegistry({ auth: 'basic' });
      const image = await seedImage(registry, 'team/app:1.0');
      await using anonymous = harness();
      await expect(anonymous.client.listTags(`${registry.host}/team/app`)).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringContaining('configure credentials') as unknown });
      await using wrong = harness({ settings: { [registry.host]: { credentials: provider({ username: registry.credentials!.username, password: 'wrong-PLANTED' }) } } });
      const error = await wrong.client.listTags(`${registry.host}/team/app`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'unauthorized' });
      expect((error as Error).message).not.toContain('wrong-PLANTED');
      await using h = harness({ settings: { [registry.host]: { credentials: provider(registry.credentials) } } });
      expect(await h.client.listTags(`${registry.host}/team/app`)).toEqual(['1.0']);
      expect(await h.client.resolveDigest(`${registry.host}/team/app:1.0`)).toBe(image.digest);
      const copy = await h.client.copyImage(`${registry.host}/team/app:1.0`, `${registry.host}/team/copy:1.0`);
      expect(copy.digest).toBe(image.digest);
      expect(JSON.stringify(h.events)).not.toContain(registry.credentials!.password);
    });
  });

  describe('token auth', () => {
    test('anonymous pull of a public repository; authenticated push with pull,push and mount scopes', async () => {
      await using registry = await startRegistry({ auth: 'token', publicRepositories: ['pub/app'] });
      const tokens = registry.tokenServer!;
      const image = (await seedImage(registry, 'pub/app:1.0')) as BuiltImage;
      tokens.resetRequests();
      await using anonymous = harness();
      expect(await anonymous.client.listTags(`${registry.host}/pub/app`)).toEqual(['1.0']);
      expect(await anonymous.client.resolveDigest(`${registry.host}/pub/app:1.0`)).toBe(image.digest);
      await expect(anonymous.client.listTags(`${registry.host}/private/app`)).rejects.toMatchObject({ code: 'unauthorized' });
      expect(tokens.requests().every((r) => !r.authorization)).toBe(true);

      tokens.resetRequests();
      await using h = harness({ settings: { [registry.host]: { credentials: provider(registry.credentials) } } });
      const copied = await h.client.copyImage(`${registry.host}/pub/app:1.0`, `${registry.host}/private/app:1.0`);
      expect(copied).toMatchObject({ digest: image.digest });
      expect(copied.blobs.mounted).toBe(image.layers.length + 1);
      const scopes = tokens.requests().flatMap((r) => r.scopes);
      expect(scopes).toContain('repository:private/app:pull,push');
      expect(scopes).toContain('repository:pub/app:pull');
      expect(tokens.requests().every((r) => r.authorization && r.status === 200)).toBe(true);
      // One token per scope set, reused across the copy.
      expect(tokens.requests().length).toBeLessThanOrEqual(3);
      expect(await skopeoInspectRaw(`docker://${registry.host}/private/app:1.0`, { creds: registry.credentials! })).toBe(Buffer.from(image.manifestBytes).toString('utf8'));
    });

    test('tokens are cached until they expire (client clock), and a refused token is re-fetched once', async () => {
      await using registry = await startRegistry({ auth: 'token', publicRepositories: 'all', tokenLifetimeSeconds: 120 });
      const tokens = registry.tokenServer!;
      await seedImage(registry, 'pub/app:1.0');
      tokens.resetRequests();
      let now = Date.now();
      await using h = harness({ now: () => now });
      await h.client.listTags(`${registry.host}/pub/app`);
      await h.client.listTags(`${registry.host}/pub/app`);
      expect(tokens.requests()).toHaveLength(1);
      now += 115_000;
      await h.client.listTags(`${registry.host}/pub/app`);
      expect(tokens.requests()).toHaveLength(2);

      // Tokens the registry refuses: one re-auth, then unauthorized.
      tokens.setClockOffsetSeconds(-3600);
      now += 1_000_000;
      await expect(h.client.listTags(`${registry.host}/pub/app`)).rejects.toMatchObject({ code: 'unauthorized' });
      expect(tokens.requests()).toHaveLength(4);
    });

    test('wrong credentials at the token server: auth_failed, no secret in the message', async () => {
      await using registry = await startRegistry({ auth: 'token' });
      await using h = harness({ settings: { [registry.host]: { credentials: provider({ username: registry.credentials!.username, password: 'nope-PLANTED-pw' }) } } });
      const error = await h.client.listTags(`${registry.host}/team/app`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'auth_failed', status: 401 });
      expect(JSON.stringify([String(error), h.events])).not.toContain('nope-PLANTED-pw');
    });
  });

  describe('faults through the proxy', () => {
    let registry: Registry;
    let proxy: FaultProxy;
    let image: BuiltImage;
    const tags = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];

    beforeAll(async () => {
      registry = await startRegistry({ auth: 'basic' });
      image = (await seedImage(registry, 'team/app:a1', { layers: [{ size: 400_000 }] })) as BuiltImage;
      for (const tag of tags.slice(1)) await seedImage(registry, `team/app:${tag}`, image);
      proxy = await startFaultProxy({ upstream: registry.url });
    }, 120_000);
    afterAll(async () => {
      await proxy.stop();
      await registry.stop();
    });

    const client = (options: RegistryClientOptions = {}) =>
      harness({ settings: { [proxy.host]: { credentials: provider(registry.credentials) } }, ...options });
    const fresh = () => {
      proxy.clear();
      proxy.resetRequests();
    };

    test('429 with Retry-After is waited out', async () => {
      fresh();
      proxy.inject({ path: /\/manifests\//, times: 1, fault: { kind: 'status', status: 429, headers: { 'retry-after': '2' } } });
      await using h = client();
      expect(await h.client.resolveDigest(`${proxy.host}/team/app:a1`)).toBe(image.digest);
      expect(h.sleeps).toEqual([2000]);
    });

    test('a 5xx burst is retried with backoff', async () => {
      fresh();
      proxy.inject({ path: /\/manifests\//, times: 3, fault: { kind: 'status', status: 503 } });
      await using h = client({ random: () => 1 - Number.EPSILON });
      expect((await h.client.getManifest(`${proxy.host}/team/app:a2`)).digest).toBe(image.digest);
      expect(h.sleeps).toHaveLength(3);
      expect(h.sleeps[0]! < h.sleeps[1]! && h.sleeps[1]! < h.sleeps[2]!).toBe(true);
    });

    test('a reset mid-body resumes with Range', async () => {
      fresh();
      const layer = image.layers[0]!;
      await using h = client();
      // Learn the auth challenge first, so the fault hits the body of the authenticated GET.
      expect(await h.client.blobExists(`${proxy.host}/team/app`, layer.digest)).toBe(true);
      proxy.inject({ method: 'GET', path: `/v2/team/app/blobs/${layer.digest}`, times: 1, fault: { kind: 'reset', afterBytes: 100_000 } });
      const blob = await h.client.getBlob(`${proxy.host}/team/app`, layer.digest);
      expect((await bytesOf(blob.stream)).equals(Buffer.from(image.blobs.get(layer.digest)!))).toBe(true);
      const ranged = proxy.requests().filter((r) => r.headers.range !== undefined);
      expect(ranged).toHaveLength(1);
      expect(ranged[0]!.status).toBe(206);
    });

    test('a manifest body cut mid-way is fetched again', async () => {
      fresh();
      await using h = client();
      await h.client.resolveDigest(`${proxy.host}/team/app:a5`);
      proxy.inject({ method: 'GET', path: /\/manifests\//, times: 1, fault: { kind: 'reset', afterBytes: 50 } });
      expect((await h.client.getManifest(`${proxy.host}/team/app:a5`)).digest).toBe(image.digest);
      expect(h.events).toContainEqual(expect.objectContaining({ type: 'retry', kind: 'manifest' }));
    });

    test('corrupted bytes: digest_mismatch for a blob and for a manifest', async () => {
      fresh();
      const layer = image.layers[0]!;
      proxy.inject({ path: /\/blobs\//, fault: { kind: 'corrupt' } });
      proxy.inject({ path: /\/manifests\//, fault: { kind: 'corrupt' } });
      await using h = client();
      const blob = await h.client.getBlob(`${proxy.host}/team/app`, layer.digest);
      await expect(bytesOf(blob.stream)).rejects.toMatchObject({ code: 'digest_mismatch' });
      await expect(h.client.getManifest(`${proxy.host}/team/app:a1`)).rejects.toMatchObject({ code: 'digest_mismatch' });
    });

    test('pagination: relative and absolute links, n capped by the registry, loops and cross-origin links', async () => {
      fresh();
      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags', link: 'relative', maxPageSize: 3 } });
      await using h = client({ pageSize: 50 });
      expect(await h.client.listTags(`${proxy.host}/team/app`)).toEqual(tags);
      expect(h.events).toContainEqual(expect.objectContaining({ type: 'warning', code: 'page_size_capped' }));

      fresh();
      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags', link: 'absolute', pageSize: 2 } });
      await using h2 = client({ pageSize: 2 });
      const pages: number[] = [];
      for await (const page of h2.client.pageTags(`${proxy.host}/team/app`)) pages.push(page.tags.length);
      expect(pages).toEqual([2, 2, 2, 1]);

      fresh();
      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags', pageSize: 2, loopToFirstAfterPage: 2 } });
      await using h3 = client({ pageSize: 2 });
      expect(await h3.client.listTags(`${proxy.host}/team/app`)).toEqual(tags.slice(0, 4));
      expect(h3.events).toContainEqual(expect.objectContaining({ type: 'warning', code: 'pagination_loop' }));

      fresh();
      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'paginate-tags', pageSize: 2, nextOrigin: 'http://127.0.0.2:9' } });
      await using h4 = client({ pageSize: 2 });
      await expect(h4.client.listTags(`${proxy.host}/team/app`)).rejects.toMatchObject({ code: 'cross_origin' });

      fresh();
      proxy.inject({ path: /\/tags\/list/, fault: { kind: 'rewrite-json', transform: (json) => ({ ...(json as object), tags: null }) } });
      await using h5 = client();
      expect(await h5.client.listTags(`${proxy.host}/team/app`)).toEqual([]);
    });

    test('HEAD refused (405) or without Docker-Content-Digest: GET resolves the digest', async () => {
      fresh();
      proxy.inject({ method: 'HEAD', path: /\/manifests\//, fault: { kind: 'status', status: 405 } });
      await using h = client();
      expect(await h.client.resolveDigest(`${proxy.host}/team/app:a3`)).toBe(image.digest);
      fresh();
      proxy.inject({ method: 'HEAD', path: /\/manifests\//, fault: { kind: 'drop-header', header: 'docker-content-digest' } });
      expect(await h.client.resolveDigest(`${proxy.host}/team/app:a4`)).toBe(image.digest);
      expect(proxy.requests().filter((r) => r.path.includes('/manifests/')).map((r) => r.method)).toEqual(['HEAD', 'GET']);
    });

    test('a blob redirected to storage that rejects Authorization', async () => {
      fresh();
      const layer = image.layers[0]!;
      proxy.inject({ path: /\/blobs\//, fault: { kind: 'redirect-blob' } });
      await using h = client();
      const blob = await h.client.getBlob(`${proxy.host}/team/app`, layer.digest);
      expect((await bytesOf(blob.stream)).equals(Buffer.from(image.blobs.get(layer.digest)!))).toBe(true);
      const side = proxy.sideServer.requests();
      expect(side).toHaveLength(1);
      expect(side[0]!.headers.authorization).toBeUndefined();
      expect(proxy.requests().some((r) => r.path.includes('/blobs/') && r.headers.authorization !== undefined)).toBe(true);
    });

    test('an endless manifest body stops at the size cap', async () => {
      fresh();
      proxy.inject({ path: /\/manifests\//, fault: { kind: 'huge-body', endless: true } });
      await using h = client({ maxManifestBytes: 1024 * 1024 });
      await expect(h.client.getManifest(`${proxy.host}/team/app:a1`)).rejects.toMatchObject({ code: 'too_large' });
    });
  });

  describe('copy between registries', () => {
    test('streams every blob of an index to another registry and keeps the digests', async () => {
      await using source = await startRegistry({ auth: 'none' });
      await using target = await startRegistry({ auth: 'basic' });
      const index = buildIndex({ images: [{ architecture: 'amd64' }, { architecture: 'arm64' }], mediaTypes: 'docker' });
      await seedImage(source, 'src/multi:1', index);
      await using h = harness({ settings: { [target.host]: { credentials: provider(target.credentials) } } });
      const result = await h.client.copyImage(`${source.host}/src/multi:1`, `${target.host}/dst/multi:1`);
      expect(result).toMatchObject({ digest: index.digest, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: 3 });
      const blobs = new Set(index.images.flatMap((image) => [image.configDigest, ...image.layers.map((layer) => layer.digest)]));
      expect(result.blobs.uploaded).toBe(blobs.size);
      const raw = await skopeoInspectRaw(`docker://${target.host}/dst/multi:1`, { creds: target.credentials! });
      expect(raw).toBe(Buffer.from(index.indexBytes).toString('utf8'));
      // And skopeo can copy it back out, digests preserved.
      await skopeoCopy(`docker://${target.host}/dst/multi:1`, `docker://${source.host}/back/multi:1`, { srcCreds: target.credentials!, all: true });
      await using check = harness();
      expect(await check.client.resolveDigest(`${source.host}/back/multi:1`)).toBe(index.digest);
    });
  });
});
