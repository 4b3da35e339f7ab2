// Fast checks on the in-process registry, which has the referrers API (the real distribution 2.8 of the other
// tests has none): referrers and provenance through the API, the run's ledger, aborts.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MEDIA_TYPE_OCI_MANIFEST, OCI_EMPTY_DESCRIPTOR } from '@scanner/image';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry, RegistryAddress } from '@scanner/memory-registry';
import { createRegistryClient } from '@scanner/registry';
import type { RegistryClient } from '@scanner/registry';
import { createBlobLedger } from './ledger.ts';
import { PROVENANCE_ARTIFACT_TYPE, readProvenance } from './provenance.ts';
import { sha256 } from './sync.fixture.ts';
import { syncPlan } from './sync.ts';
import type { Plan, PlanItem } from './types.ts';

function planOf(items: readonly PlanItem[], repositories: Plan['repositories'] = []): Plan {
  return { items, errors: [], repositories, pulls: {} };
}

describe('syncPlan on the in-memory registry (referrers API)', () => {
  let source: MemoryRegistry;
  let target: MemoryRegistry;
  let from: RegistryAddress;
  let to: RegistryAddress;
  let client: RegistryClient;

  beforeEach(async () => {
    source = createMemoryRegistry();
    target = createMemoryRegistry();
    [from, to] = await Promise.all([source.listen(), target.listen()]);
    client = createRegistryClient({ retryBaseMs: 1, retryMaxMs: 5 });
  });
  afterEach(async () => {
    await client.close();
    await Promise.all([source.close(), target.close()]);
  });

  const item = (sourceRef: string, targetRef: string, fields: Partial<PlanItem> = {}): PlanItem => ({
    owner: 'team-web',
    targetName: 'main',
    source: `${from.host}/${sourceRef}`,
    target: `${to.host}/${targetRef}`,
    action: 'copy',
    sourceDigest: null,
    targetDigest: null,
    imageId: 'team-web.yaml#app',
    file: 'team-web.yaml',
    mutable: false,
    referrers: true,
    provenance: false,
    ...fields,
  });

  test('referrers and provenance go through the referrers API; no tag-schema tag is written', async () => {
    const image = source.seedImage('web/app', '1.0', { platforms: ['linux/amd64', 'linux/arm64'] });
    source.putBlob('web/app', '{}');
    const sbom = '{"spdxVersion":"SPDX-2.3"}';
    const sbomDigest = source.putBlob('web/app', sbom);
    const index = source.getManifest('web/app', '1.0')!;
    const artifact = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_OCI_MANIFEST,
      artifactType: 'application/spdx+json',
      config: { mediaType: OCI_EMPTY_DESCRIPTOR.mediaType, digest: OCI_EMPTY_DESCRIPTOR.digest, size: 2 },
      layers: [{ mediaType: 'application/spdx+json', digest: sbomDigest, size: sbom.length }],
      subject: { mediaType: index.mediaType, digest: index.digest, size: index.bytes.byteLength },
    });
    const artifactDigest = source.putManifest('web/app', sha256(artifact), artifact, MEDIA_TYPE_OCI_MANIFEST);

    const report = await syncPlan(planOf([item('web/app:1.0', 'mirror/app:1.0', { provenance: true })]), { client });
    expect(report.items[0]).toMatchObject({ result: 'copied', error: null });
    expect(target.getManifest('mirror/app', '1.0')?.digest).toBe(image.digest);
    expect(target.getManifest('mirror/app', artifactDigest)?.digest).toBe(artifactDigest);
    expect(target.tags('mirror/app')).toEqual(['1.0']);
    const referrers = await client.listReferrers(`${to.host}/mirror/app@${image.digest}`);
    expect(referrers.via).toBe('referrers-api');
    expect(referrers.descriptors.map((descriptor) => descriptor.artifactType).sort()).toEqual(['application/spdx+json', PROVENANCE_ARTIFACT_TYPE]);
    expect(await readProvenance(client, `${to.host}/mirror/app:1.0`)).toMatchObject({ owner: 'team-web', sourceDigest: image.digest, config: 'team-web.yaml' });
  });

  test('a shared ledger mounts across calls', async () => {
    const image = source.seedImage('web/app', ['1.0'], { layers: 3 });
    const ledger = createBlobLedger();
    const first = await syncPlan(planOf([item('web/app:1.0', 'one/app:1.0')], [{ targetName: 'main', repository: `${to.host}/one/app`, exists: false }]), { client, ledger });
    expect(first.stats).toMatchObject({ blobsUploaded: 4, blobsExisting: 0, blobsMounted: 0 });
    target.resetRequests();
    const second = await syncPlan(planOf([item('web/app:1.0', 'two/app:1.0')]), { client, ledger });
    expect(second.stats).toMatchObject({ blobsUploaded: 0, blobsMounted: 4, bytesUploaded: 0 });
    expect(target.getManifest('two/app', '1.0')?.digest).toBe(image.digest);
  });

  test('a repository without tags (the plan found it missing) that holds blobs from an interrupted copy gets no upload of them', async () => {
    const image = source.seedImage('web/app', ['1.0'], { layers: 3 });
    const missing = [{ targetName: 'main', repository: `${to.host}/one/app`, exists: false }];
    await syncPlan(planOf([item('web/app:1.0', 'one/app:1.0')], missing), { client });
    // What a killed or handed-back copy leaves: every blob, no manifest, no tag (a registry says NAME_UNKNOWN).
    expect(target.deleteManifest('one/app', image.digest)).toBe(true);
    expect(target.tags('one/app')).toEqual([]);
    target.resetRequests();
    const again = await syncPlan(planOf([item('web/app:1.0', 'one/app:1.0')], missing), { client });
    expect(again.items[0]).toMatchObject({ result: 'copied', error: null });
    expect(again.stats).toMatchObject({ blobsUploaded: 0, blobsExisting: 4, bytesUploaded: 0 });
    const uploads = target.requests().filter((request) => (request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH') && request.path.includes('/blobs/'));
    expect(uploads).toEqual([]);
    expect(target.getManifest('one/app', '1.0')?.digest).toBe(image.digest);
  });

  test('concurrent items sharing blobs upload each once and mount the rest', async () => {
    source.seedImage('web/a', ['1.0'], { layers: 2, seed: 'shared' });
    source.seedImage('web/b', ['1.0'], { layers: 2, seed: 'shared' });
    const items = ['a', 'b', 'c', 'd'].map((name) => item(`web/${name === 'a' || name === 'c' ? 'a' : 'b'}:1.0`, `copies/${name}:1.0`));
    const report = await syncPlan(planOf(items), { client, concurrency: 4 });
    expect(report.items.every((entry) => entry.result === 'copied')).toBe(true);
    const uploads = target.requests().filter((request) => request.method === 'PUT' && request.path.includes('/blobs/uploads/'));
    const digests = uploads.map((request) => new URLSearchParams(request.query).get('digest'));
    expect(digests).toHaveLength(3);
    expect(new Set(digests).size).toBe(digests.length);
    expect(report.stats.blobsUploaded + report.stats.blobsMounted).toBe(report.stats.blobsUploaded * 4);
  });

  test('a pinned digest is copied under the tag the plan gives it', async () => {
    const image = source.seedImage('web/app', ['1.0'], { platforms: ['linux/amd64'] });
    source.seedImage('web/app', ['1.0'], { seed: 'moved on' });
    const pinned = item(`web/app@${image.digest}`, 'pinned/app:1.0-pinned', { sourceDigest: image.digest, mutable: true });
    const report = await syncPlan(planOf([pinned]), { client });
    expect(report.items[0]).toMatchObject({ result: 'copied', error: null });
    expect(target.getManifest('pinned/app', '1.0-pinned')?.digest).toBe(image.digest);
  });

  test('foreign layers (with urls) are neither read nor pushed', async () => {
    const config = '{"architecture":"amd64","os":"windows","rootfs":{"type":"layers","diff_ids":[]}}';
    const configDigest = source.putBlob('win/app', config);
    const layer = 'a layer of ours';
    const layerDigest = source.putBlob('win/app', layer);
    const foreign = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: sha256('windows base layer'), size: 18, urls: ['https://mcr.microsoft.com/blob'] };
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: configDigest, size: config.length },
      layers: [foreign, { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: layerDigest, size: layer.length }],
    });
    const digest = source.putManifest('win/app', 'ltsc2022', manifest, 'application/vnd.docker.distribution.manifest.v2+json');
    const report = await syncPlan(planOf([item('win/app:ltsc2022', 'win/app:ltsc2022')]), { client });
    expect(report.items[0]).toMatchObject({ result: 'copied', error: null });
    expect(target.getManifest('win/app', 'ltsc2022')?.digest).toBe(digest);
    expect(report.stats.blobsUploaded).toBe(2);
    expect([...source.requests(), ...target.requests()].some((request) => request.path.includes(foreign.digest) || request.query.includes(foreign.digest))).toBe(false);
  });

  test('an aborted run fails its unfinished items and writes no tag after the abort', async () => {
    source.seedImage('web/app', ['1.0', '1.1'], { layers: 2 });
    const controller = new AbortController();
    controller.abort(new Error('stopped by the test'));
    const report = await syncPlan(planOf([item('web/app:1.0', 'aborted/app:1.0'), item('web/app:1.1', 'aborted/app:1.1')]), { client, signal: controller.signal });
    expect(report.items.map((entry) => [entry.result, entry.error?.code])).toEqual([
      ['failed', 'aborted'],
      ['failed', 'aborted'],
    ]);
    expect(target.tags('aborted/app')).toEqual([]);
  });
});
