import { createRegistryClient, createScanner } from '@scanner/registry';
import type { RegistryEvent } from '@scanner/registry';
import { buildImage, buildIndex, hasBinary, sha256Digest, startRegistry } from '@scanner/test-lab';
import type { BuiltArtifact, Registry } from '@scanner/test-lab';
import { startRedis } from '@scanner/test-lab/redis';
import type { RedisServer } from '@scanner/test-lab/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisCache } from './index.ts';

// Real scans of the real distribution registry, cached in a real redis-server: every key the project writes
// carries a TTL (a shared Redis runs with noeviction for BullMQ), keys have one prefix, and both cache strategies
// share the immutable digest → image entries.
describe.skipIf(!hasBinary('redis-server') || !hasBinary('docker-registry'))('cache hygiene on a shared Redis', () => {
  let redis: RedisServer;
  let registry: Registry;
  let admin: Redis;

  async function push(repository: string, tag: string, artifact: BuiltArtifact): Promise<void> {
    const client = createRegistryClient();
    const name = `${registry.host}/${repository}`;
    for (const blob of artifact.blobs.values()) await client.uploadBlob(name, blob, { digest: sha256Digest(blob), size: blob.byteLength });
    if (artifact.kind === 'index') {
      for (const child of artifact.images) await client.putManifest(`${name}@${child.digest}`, child.manifestBytes, { mediaType: child.mediaType });
      await client.putManifest(`${name}:${tag}`, artifact.indexBytes, { mediaType: artifact.mediaType });
    } else {
      await client.putManifest(`${name}:${tag}`, artifact.manifestBytes, { mediaType: artifact.mediaType });
    }
    await client.close();
  }

  beforeAll(async () => {
    [redis, registry] = await Promise.all([startRedis(), startRegistry()]);
    admin = new Redis(redis.url);
    await push('lab/web', '1.0.0', buildImage({ created: '2024-01-01T00:00:00Z', seed: 'a' }));
    await push('lab/web', '1.1.0', buildImage({ created: '2024-02-01T00:00:00Z', seed: 'b' }));
    await push('lab/web', '1.2.0', buildIndex({ images: [{ platform: 'linux/amd64', created: '2024-03-01T00:00:00Z', seed: 'c' }, { platform: 'linux/arm64/v8', created: '2024-03-01T00:00:00Z', seed: 'c' }] }));
  }, 120_000);

  afterAll(async () => {
    admin.disconnect();
    await registry.stop();
    await redis[Symbol.asyncDispose]();
  });

  function scanner(strategy: 'tag' | 'digest', events: RegistryEvent[] = []) {
    // The CLI's wiring: namespace 'scanner'.
    const cache = createRedisCache({ url: redis.url, namespace: 'scanner' });
    const client = createRegistryClient({ onEvent: (event) => events.push(event) });
    return { cache, client, scanner: createScanner({ client, cache, cacheStrategy: strategy }) };
  }

  async function allKeys(): Promise<string[]> {
    return (await admin.keys('*')).sort();
  }

  test('after scans with every strategy and policy kind, every key has a TTL and one prefix', async () => {
    await admin.flushall();
    for (const strategy of ['tag', 'digest'] as const) {
      const { scanner: scan, cache, client } = scanner(strategy);
      await scan.select(`${registry.host}/lab/web`, { strategy: 'newest-build' });
      await scan.select(`${registry.host}/lab/web`, { strategy: 'semver', constraint: '^1', platforms: ['linux/arm64'] });
      await scan.select(`${registry.host}/lab/web`, { strategy: 'semver', constraint: '^1' });
      await scan.select(`${registry.host}/lab/web`, { strategy: 'digest', constraint: '1.0.0' });
      await client.close();
      await cache.close();
    }
    const keys = await allKeys();
    expect(keys.length).toBeGreaterThanOrEqual(7); // the tag list, three tag records, three images
    expect(keys.some((key) => key.startsWith(`scanner:v1:image:${registry.host}/lab/web@sha256:`))).toBe(true);
    expect(keys.some((key) => key.startsWith(`scanner:v1:tag:${registry.host}/lab/web:`))).toBe(true);
    expect(keys).toContain(`scanner:v1:tags:${registry.host}/lab/web`);
    for (const key of keys) {
      expect(key.startsWith('scanner:v1:'), key).toBe(true);
      expect(key.startsWith('scanner:scanner:'), key).toBe(false);
      const ttl = await admin.pttl(key);
      expect(ttl, `${key} has no TTL`).toBeGreaterThan(0);
    }
    // The immutable image entries last longest (7 days by default), the tag list shortest (60 s).
    const imageKey = keys.find((key) => key.includes(':image:')) ?? '';
    expect(await admin.ttl(imageKey)).toBeGreaterThan(6 * 24 * 3600);
    expect(await admin.ttl(`scanner:v1:tags:${registry.host}/lab/web`)).toBeLessThanOrEqual(60);
  });

  test('switching strategy does not refetch an image: tag → digest and digest → tag', async () => {
    const metadataRequests = (events: RegistryEvent[]) =>
      events.filter((event) => event.type === 'request' && (event.kind === 'blob' || (event.kind === 'manifest' && event.method === 'GET'))).length;
    for (const [first, second] of [['tag', 'digest'], ['digest', 'tag']] as const) {
      await admin.flushall();
      const warm: RegistryEvent[] = [];
      const a = scanner(first);
      const cold = await a.scanner.select(`${registry.host}/lab/web`, { strategy: 'newest-build' });
      await a.client.close();
      await a.cache.close();
      const b = scanner(second, warm);
      const again = await b.scanner.select(`${registry.host}/lab/web`, { strategy: 'newest-build' });
      await b.client.close();
      await b.cache.close();
      expect(again.selected).toEqual(cold.selected);
      expect(again.selected?.tag).toBe('1.2.0');
      expect(metadataRequests(warm), `${first} → ${second}`).toBe(0);
    }
  });
});
