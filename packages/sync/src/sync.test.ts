import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasBinary, tarWithFile } from '@scanner/test-lab';
import type { BuiltArtifact } from '@scanner/test-lab';
import { createBlobLedger } from './ledger.ts';
import { blobPuts, item, seed, startLab } from './sync.fixture.ts';
import type { Lab } from './sync.fixture.ts';
import { syncPlan } from './sync.ts';
import type { Plan, PlanItem, SyncEvent } from './types.ts';

const lab_binaries = ['docker-registry', 'skopeo', 'htpasswd', 'openssl'];
const missing = lab_binaries.filter((binary) => !hasBinary(binary));
// Under CI a missing binary fails the run instead of skipping it.
if (process.env['CI'] === 'true' && missing.length > 0) throw new Error(`the sync tests need ${missing.join(', ')}`);

function plan(items: readonly PlanItem[]): Plan {
  return { items, errors: [], repositories: [], pulls: {} };
}

const baseLayer = gzipSync(tarWithFile('base.bin', randomBytes(64 * 1024)));

describe.skipIf(missing.length > 0)('syncPlan on real registries', () => {
  let lab: Lab;
  let app10: BuiltArtifact;
  let app11: BuiltArtifact;
  let other: BuiltArtifact;

  beforeAll(async () => {
    lab = await startLab();
    // Two multi-platform tags and a single image, all sharing one base layer; the tags share platforms' layers too.
    app10 = await seed(lab, 'team/app:1.0', { images: [{ platform: 'linux/amd64', layers: [baseLayer, { size: 2048 }], seed: 'a' }, { platform: 'linux/arm64', layers: [baseLayer, { size: 2048 }], seed: 'a' }] });
    app11 = await seed(lab, 'team/app:1.1', { images: [{ platform: 'linux/amd64', layers: [baseLayer, { size: 2048 }], seed: 'a', labels: { v: '1.1' } }, { platform: 'linux/arm64', layers: [baseLayer, { size: 4096 }], seed: 'b' }] });
    other = await seed(lab, 'team/other:2', { layers: [baseLayer], seed: 'o' });
  });
  afterAll(async () => {
    await lab[Symbol.asyncDispose]();
  });

  test('copies every tag to both targets with the source digests, each blob once per registry; a second run moves no bytes', async () => {
    const items = ['team/app:1.0', 'team/app:1.1', 'team/other:2'].flatMap((source) => [item(lab, source, lab.main), item(lab, source, lab.regional, { target: `mirror/${source}` })]);
    const events: SyncEvent[] = [];
    await using client = asDisposable(lab.client());
    const report = await syncPlan(plan(items), { client: client.value, onEvent: (event) => events.push(event) });

    expect(report.items.map((entry) => [entry.target, entry.result, entry.error])).toEqual(items.map((entry) => [entry.target, 'copied', null]));
    for (const entry of items) {
      const sourceDigest = await lab.skopeoDigest(entry.source);
      expect(sourceDigest).toBeDefined();
      expect(await lab.skopeoDigest(entry.target)).toBe(sourceDigest);
    }
    expect(await lab.skopeoDigest(`${lab.main.host}/team/app:1.0`)).toBe(app10.digest);
    expect(await lab.skopeoDigest(`${lab.regional.host}/mirror/team/app:1.1`)).toBe(app11.digest);
    expect(await lab.skopeoDigest(`${lab.main.host}/team/other:2`)).toBe(other.digest);

    // Each byte once: the shared base layer crossed once per target registry, then was mounted.
    const baseDigest = (app10.kind === 'index' ? app10.images[0]?.layers[0]?.digest : undefined) ?? '';
    for (const target of [lab.main, lab.regional]) {
      const puts = blobPuts(target.proxy);
      expect([...puts.values()].every((count) => count === 1)).toBe(true);
      expect(puts.get(baseDigest)).toBe(1);
    }
    const distinctBlobs = new Set([...app10.blobs.keys(), ...app11.blobs.keys(), ...other.blobs.keys()]);
    expect(report.stats.blobsUploaded).toBe(2 * distinctBlobs.size);
    expect(report.stats.blobsMounted).toBe(2); // the base layer into team/other at each target
    expect(report.stats.bytesUploaded).toBe(2 * [...distinctBlobs].reduce((sum, digest) => sum + (app10.blobs.get(digest) ?? app11.blobs.get(digest) ?? other.blobs.get(digest))!.byteLength, 0));
    expect(events.filter((event) => event.type === 'item_done')).toHaveLength(items.length);
    expect(events.filter((event) => event.type === 'blob' && event.outcome === 'uploaded').length).toBe(report.stats.blobsUploaded);
    expect(report.stats.pulls).toEqual({ [lab.source.host]: 3 + 3 + 1 });
    const text = JSON.stringify({ report, events });
    for (const secret of lab.secrets) expect(text).not.toContain(secret);

    // A second run of the same plan finds every blob there: zero bytes.
    lab.main.proxy.resetRequests();
    await using again = asDisposable(lab.client());
    const second = await syncPlan(plan(items), { client: again.value });
    expect(second.items.every((entry) => entry.result === 'copied')).toBe(true);
    expect(second.stats.bytesUploaded).toBe(0);
    expect(second.stats.blobsUploaded).toBe(0);
    expect(blobPuts(lab.main.proxy).size).toBe(0);

    // A plan that says skip makes no request at all.
    lab.main.proxy.resetRequests();
    lab.regional.proxy.resetRequests();
    lab.source.proxy.resetRequests();
    const skipped = await syncPlan(plan(items.map((entry) => ({ ...entry, action: 'skip' as const }))), { client: again.value });
    expect(skipped.items.every((entry) => entry.result === 'skipped')).toBe(true);
    expect(lab.main.proxy.requests().length + lab.regional.proxy.requests().length + lab.source.proxy.requests().length).toBe(0);
  });

  test('a moved mutable tag is updated to the new digest', async () => {
    const first = await seed(lab, 'team/moving:latest', { seed: 'one' });
    await using client = asDisposable(lab.client());
    const copy = item(lab, 'team/moving:latest', lab.main, { mutable: true, sourceDigest: first.digest });
    expect((await syncPlan(plan([copy]), { client: client.value })).items[0]?.result).toBe('copied');
    expect(await lab.skopeoDigest(copy.target)).toBe(first.digest);

    const second = await seed(lab, 'team/moving:latest', { seed: 'two' });
    const update = { ...copy, action: 'update' as const, sourceDigest: second.digest, targetDigest: first.digest };
    const report = await syncPlan(plan([update]), { client: client.value });
    expect(report.items[0]).toMatchObject({ result: 'updated', error: null });
    expect(await lab.skopeoDigest(copy.target)).toBe(second.digest);
  });

  test('a ledger shared across calls uploads a blob once per registry across runs', async () => {
    const ledger = createBlobLedger();
    await using client = asDisposable(lab.client());
    lab.regional.proxy.resetRequests();
    const a = await syncPlan(plan([item(lab, 'team/other:2', lab.regional, { target: 'shared/one:2' })]), { client: client.value, ledger });
    const b = await syncPlan(plan([item(lab, 'team/other:2', lab.regional, { target: 'shared/two:2' })]), { client: client.value, ledger });
    expect([a.items[0]?.result, b.items[0]?.result]).toEqual(['copied', 'copied']);
    // The second run knows from the first where the blobs are: it mounts them, without a HEAD.
    expect(b.stats.blobsMounted).toBe(other.blobs.size);
    expect(lab.regional.proxy.requests().filter((request) => request.method === 'HEAD' && request.path.startsWith('/v2/shared/two/blobs/'))).toHaveLength(0);
  });

  test('blobs an interrupted copy left in a repository without tags are not uploaded again (HEAD before upload)', async () => {
    await using client = asDisposable(lab.client());
    // What a killed or handed-back copy leaves: the blobs, no manifest, no tag (the tag list says NAME_UNKNOWN).
    for (const [digest, bytes] of other.blobs) {
      await client.value.copyBlob(`${lab.source.host}/team/other`, `${lab.main.host}/half/other`, { digest, size: bytes.byteLength });
    }
    lab.main.proxy.resetRequests();
    const missing = [{ targetName: 'main', repository: `${lab.main.host}/half/other`, exists: false }];
    const report = await syncPlan({ ...plan([item(lab, 'team/other:2', lab.main, { target: 'half/other:2' })]), repositories: missing }, { client: client.value });
    expect(report.items[0]).toMatchObject({ result: 'copied', error: null });
    expect(report.stats).toMatchObject({ blobsUploaded: 0, blobsExisting: other.blobs.size, bytesUploaded: 0 });
    const uploads = lab.main.proxy.requests().filter((request) => (request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH') && request.path.includes('/blobs/'));
    expect(uploads).toEqual([]);
    expect(await lab.skopeoDigest(`${lab.main.host}/half/other:2`)).toBe(other.digest);
  });
});

function asDisposable<T extends { close(): Promise<void> }>(value: T): AsyncDisposable & { value: T } {
  return { value, [Symbol.asyncDispose]: () => value.close() };
}
