// Source mirrors on real registries: read in order, falling through when they lack the digest; never trusted
// for what a tag points at; a mirror's bad bytes are read again from the registry itself.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RegistrySettingsInput } from '@scanner/registry';
import { buildIndex, hasBinary, seedImage, startFaultProxy, startRegistry } from '@scanner/test-lab';
import type { BuiltArtifact, FaultProxy, Registry } from '@scanner/test-lab';
import { item, startLab } from './sync.fixture.ts';
import type { Lab } from './sync.fixture.ts';
import { syncPlan } from './sync.ts';
import type { Plan, PlanItem } from './types.ts';

const missing = ['docker-registry', 'skopeo', 'htpasswd', 'openssl'].filter((binary) => !hasBinary(binary));
if (process.env['CI'] === 'true' && missing.length > 0) throw new Error(`the sync tests need ${missing.join(', ')}`);

function plan(items: readonly PlanItem[]): Plan {
  return { items, errors: [], repositories: [], pulls: {} };
}

describe.skipIf(missing.length > 0)('source mirrors', () => {
  let lab: Lab;
  const extra: AsyncDisposable[] = [];
  let good: { registry: Registry; proxy: FaultProxy };
  let bad: { registry: Registry; proxy: FaultProxy };
  let image: BuiltArtifact;

  beforeAll(async () => {
    lab = await startLab();
    const start = async (): Promise<{ registry: Registry; proxy: FaultProxy }> => {
      const registry = await startRegistry();
      extra.push(registry);
      const proxy = await startFaultProxy({ upstream: registry.url });
      extra.push(proxy);
      return { registry, proxy };
    };
    [good, bad] = await Promise.all([start(), start()]);
    image = buildIndex({ images: [{ platform: 'linux/amd64', seed: 'm' }, { platform: 'linux/arm64', seed: 'm' }] });
    await seedImage(lab.source.registry, 'team/app:1.0', image);
    // The good mirror holds the same content; the bad one another image under the same tag.
    await seedImage(good.registry, 'hub/team/app:1.0', image);
    await seedImage(bad.registry, 'hub/team/app:1.0', { seed: 'substitute' });
  });
  afterAll(async () => {
    await Promise.allSettled(extra.reverse().map((resource) => resource[Symbol.asyncDispose]()));
    await lab[Symbol.asyncDispose]();
  });

  function mirroredClient(): ReturnType<Lab['client']> {
    const settings: RegistrySettingsInput = { mirrors: [`${bad.proxy.host}/hub`, `${good.proxy.host}/hub`] };
    return lab.client({ override: { [lab.source.host]: settings } });
  }

  test('reads through the mirror that has the digest the registry names; the registry serves one HEAD', async () => {
    lab.source.proxy.resetRequests();
    const copy = item(lab, 'team/app:1.0', lab.main, { target: 'via-mirror/app:1.0' });
    const client = mirroredClient();
    try {
      const report = await syncPlan(plan([copy]), { client });
      expect(report.items[0]).toMatchObject({ result: 'copied', error: null });
      expect(await lab.skopeoDigest(copy.target)).toBe(image.digest);
      expect(report.stats.pulls).toEqual({});
      expect(report.stats.mirrorPulls).toEqual({ [good.proxy.host]: 3 });
      // One HEAD for the digest; with referrers: true the tag list (cosign-style tags), and the referrers: the
      // API (distribution 2.8 has none: 404), then the tag-schema index (absent: 404). No content came from here.
      const hex = image.digest.slice('sha256:'.length);
      expect(lab.source.proxy.requests().map((request) => `${request.method} ${request.path} ${String(request.status)}`)).toEqual([
        'HEAD /v2/team/app/manifests/1.0 200',
        'GET /v2/team/app/tags/list?n=1000 200',
        `GET /v2/team/app/referrers/sha256:${hex} 404`,
        `GET /v2/team/app/manifests/sha256-${hex} 404`,
      ]);
      // The substitute under the same tag at the first mirror was never read by tag.
      expect(bad.proxy.requests().some((request) => request.path.endsWith('/manifests/1.0'))).toBe(false);
    } finally {
      await client.close();
    }
  });

  test("a mirror's corrupted blob bytes are read again from the registry itself", async () => {
    lab.source.proxy.resetRequests();
    const corrupt = good.proxy.inject({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'corrupt' } });
    const copy = item(lab, 'team/app:1.0', lab.regional, { target: 'via-mirror/app:1.0', sourceDigest: image.digest, referrers: false });
    const client = mirroredClient();
    try {
      const report = await syncPlan(plan([copy]), { client });
      expect(report.items[0]).toMatchObject({ result: 'copied', error: null });
      expect(corrupt.hits()).toBeGreaterThan(0);
      expect(await lab.skopeoDigest(copy.target)).toBe(image.digest);
      // With the digest in the plan, the registry is not even asked for a HEAD; only blobs came from it.
      const blobReads = lab.source.proxy.requests().filter((request) => request.method === 'GET' && request.path.includes('/blobs/'));
      expect(blobReads.length).toBe(corrupt.hits());
      expect(lab.source.proxy.requests().length).toBe(blobReads.length);
    } finally {
      corrupt.remove();
      await client.close();
    }
  });
});
