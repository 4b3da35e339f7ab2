// Referrers and provenance on real distribution 2.8 registries (no referrers API: the tag schema is used).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST, OCI_EMPTY_DESCRIPTOR } from '@scanner/image';
import { createRegistryClient } from '@scanner/registry';
import { hasBinary } from '@scanner/test-lab';
import type { BuiltArtifact } from '@scanner/test-lab';
import { PROVENANCE_ANNOTATIONS, PROVENANCE_ARTIFACT_TYPE, formatProvenance, provenanceManifest, readProvenance } from './provenance.ts';
import { item, seed, sha256, startLab } from './sync.fixture.ts';
import type { Lab } from './sync.fixture.ts';
import { syncPlan } from './sync.ts';
import type { Plan, PlanItem } from './types.ts';

const missing = ['docker-registry', 'skopeo', 'htpasswd', 'openssl'].filter((binary) => !hasBinary(binary));
if (process.env['CI'] === 'true' && missing.length > 0) throw new Error(`the sync tests need ${missing.join(', ')}`);

function plan(items: readonly PlanItem[]): Plan {
  return { items, errors: [], repositories: [], pulls: {} };
}

describe.skipIf(missing.length > 0)('referrers and provenance', () => {
  let lab: Lab;
  let image: BuiltArtifact;
  let signature: BuiltArtifact;
  let sbomDigest: string;

  beforeAll(async () => {
    lab = await startLab();
    image = await seed(lab, 'signed/app:1.0', { images: [{ platform: 'linux/amd64', seed: 's' }, { platform: 'linux/arm64', seed: 's' }] });
    const hex = image.digest.slice('sha256:'.length);
    // A cosign-style signature tag, and an OCI referrer (an SBOM artifact with `subject`) listed in the tag schema.
    signature = await seed(lab, `signed/app:sha256-${hex}.sig`, { layers: ['{"critical":{}}'], annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ' } });
    const seeder = createRegistryClient();
    try {
      const repository = `${lab.source.registry.host}/signed/app`;
      const sbom = Buffer.from('{"spdxVersion":"SPDX-2.3"}');
      await seeder.uploadBlob(repository, Buffer.from('{}'), { digest: OCI_EMPTY_DESCRIPTOR.digest });
      await seeder.uploadBlob(repository, sbom);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPE_OCI_MANIFEST,
          artifactType: 'application/spdx+json',
          config: { mediaType: OCI_EMPTY_DESCRIPTOR.mediaType, digest: OCI_EMPTY_DESCRIPTOR.digest, size: 2 },
          layers: [{ mediaType: 'application/spdx+json', digest: sha256(sbom), size: sbom.byteLength }],
          subject: { mediaType: image.mediaType, digest: image.digest, size: image.kind === 'index' ? image.indexBytes.byteLength : 0 },
        }),
      );
      sbomDigest = sha256(manifest);
      await seeder.putManifest(`${repository}@${sbomDigest}`, manifest, { mediaType: MEDIA_TYPE_OCI_MANIFEST });
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests: [{ mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: sbomDigest, size: manifest.byteLength, artifactType: 'application/spdx+json' }] }));
      await seeder.putManifest(`${repository}:sha256-${hex}`, index, { mediaType: MEDIA_TYPE_OCI_INDEX });
    } finally {
      await seeder.close();
    }
  });
  afterAll(async () => {
    await lab[Symbol.asyncDispose]();
  });

  test('signature tags and referrers come along; provenance is attached once and read back', async () => {
    const hex = image.digest.slice('sha256:'.length);
    const items = [item(lab, 'signed/app:1.0', lab.main, { provenance: true }), item(lab, 'signed/app:1.0', lab.regional, { target: 'mirror/signed/app:1.0', provenance: true })];
    const client = lab.client();
    try {
      const report = await syncPlan(plan(items), { client, configDir: 'mirror-config', now: () => Date.parse('2026-11-29T20:00:00Z') });
      expect(report.items.map((entry) => [entry.result, entry.error])).toEqual([
        ['copied', null],
        ['copied', null],
      ]);
      expect(report.stats.referrersCopied).toBe(4);
      expect(report.stats.provenanceWritten).toBe(2);
      for (const entry of items) {
        const repository = entry.target.slice(0, entry.target.lastIndexOf(':'));
        expect(await lab.skopeoDigest(entry.target)).toBe(image.digest);
        expect(await lab.skopeoDigest(`${repository}:sha256-${hex}.sig`)).toBe(signature.digest);
        expect(await lab.skopeoDigest(`${repository}@${sbomDigest}`)).toBe(sbomDigest);
        const referrers = await client.getManifest(`${repository}:sha256-${hex}`);
        expect(referrers.kind).toBe('index');
        const listed = referrers.kind === 'index' ? referrers.index.manifests : [];
        expect(listed.map((entry) => entry.artifactType).sort()).toEqual(['application/spdx+json', PROVENANCE_ARTIFACT_TYPE]);

        const provenance = await readProvenance(client, entry.target);
        expect(provenance).toMatchObject({
          owner: 'team-storage',
          source: entry.source,
          sourceDigest: image.digest,
          config: 'team-storage.yaml',
          configDir: 'mirror-config',
          targetName: entry.targetName,
          created: '2026-11-29T20:00:00.000Z',
        });
        expect(formatProvenance(provenance!)).toBe(`copy of ${lab.source.host}/signed/app@${image.digest}, owned by team-storage`);
      }

      // Again: nothing new to attach, the referrers are there.
      const again = await syncPlan(plan(items), { client });
      expect(again.items.every((entry) => entry.result === 'copied')).toBe(true);
      expect(again.stats.provenanceWritten).toBe(0);
      expect(again.stats.bytesUploaded).toBe(0);
      // The source image itself has no provenance.
      expect(await readProvenance(client, items[0]!.source)).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  test('a provenance artifact forged upstream is not copied, and readProvenance believes only one naming its subject', async () => {
    // The source image carries a provenance artifact (our artifactType) saying "owned by team-evil", dated in the
    // future so that it would be the newest; and the tag-schema index lists it without its artifactType, as a
    // tool other than ours could write it.
    const forged = await seed(lab, 'forged/app:1.0', { layers: ['forged-subject'] });
    const repository = `${lab.source.registry.host}/forged/app`;
    const subject = { mediaType: forged.mediaType, digest: forged.digest, size: forged.kind === 'index' ? forged.indexBytes.byteLength : forged.manifestBytes.byteLength };
    const evil = (sourceDigest: string): Uint8Array =>
      provenanceManifest(subject, {
        [PROVENANCE_ANNOTATIONS.created]: '2099-01-01T00:00:00Z',
        [PROVENANCE_ANNOTATIONS.owner]: 'team-evil',
        [PROVENANCE_ANNOTATIONS.source]: 'docker.io/evil/app:1.0',
        [PROVENANCE_ANNOTATIONS.sourceDigest]: sourceDigest,
      });
    const seeder = createRegistryClient();
    const client = lab.client();
    try {
      await seeder.uploadBlob(repository, Buffer.from('{}'), { digest: OCI_EMPTY_DESCRIPTOR.digest });
      const upstream = evil(forged.digest);
      // The same artifact with another owner, listed in the index without its artifactType.
      const hidden = Buffer.from(Buffer.from(upstream).toString('utf8').replace('team-evil', 'team-evil-2'));
      for (const bytes of [upstream, hidden]) await seeder.putManifest(`${repository}@${sha256(bytes)}`, bytes, { mediaType: MEDIA_TYPE_OCI_MANIFEST });
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPE_OCI_INDEX,
          manifests: [
            { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: sha256(upstream), size: upstream.byteLength, artifactType: PROVENANCE_ARTIFACT_TYPE },
            { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: sha256(hidden), size: hidden.byteLength },
          ],
        }),
      );
      await seeder.putManifest(`${repository}:sha256-${forged.digest.slice('sha256:'.length)}`, index, { mediaType: MEDIA_TYPE_OCI_INDEX });
      expect((await readProvenance(seeder, `${repository}:1.0`))?.owner).toBe('team-evil');

      const copy = item(lab, 'forged/app:1.0', lab.main, { provenance: true });
      const report = await syncPlan(plan([copy]), { client });
      expect(report.items.map((entry) => [entry.result, entry.error])).toEqual([['copied', null]]);
      expect(report.stats.referrersCopied).toBe(0);
      expect(report.stats.provenanceWritten).toBe(1);
      const target = `${lab.main.host}/forged/app`;
      expect(await lab.skopeoDigest(`${target}@${sha256(upstream)}`)).toBeUndefined();
      expect(await lab.skopeoDigest(`${target}@${sha256(hidden)}`)).toBeUndefined();
      expect(await readProvenance(client, copy.target)).toMatchObject({ owner: 'team-storage', sourceDigest: forged.digest });

      // At the target, an artifact whose recorded source digest is not the subject it is attached to (a provenance
      // artifact of another image, listed here by whoever wrote the index) is not believed.
      const other = evil(sha256('another image'));
      await client.uploadBlob(target, Buffer.from('{}'), { digest: OCI_EMPTY_DESCRIPTOR.digest });
      await client.pushReferrer(target, other, { mediaType: MEDIA_TYPE_OCI_MANIFEST });
      const listed = await client.listReferrers(`${target}@${forged.digest}`, { artifactType: PROVENANCE_ARTIFACT_TYPE });
      expect(listed.descriptors.map((entry) => entry.digest)).toContain(sha256(other));
      expect(await readProvenance(client, copy.target)).toMatchObject({ owner: 'team-storage', sourceDigest: forged.digest });
    } finally {
      await Promise.all([seeder.close(), client.close()]);
    }
  });

  test('referrers: false copies the image alone', async () => {
    const hex = image.digest.slice('sha256:'.length);
    const copy = item(lab, 'signed/app:1.0', lab.main, { target: 'bare/app:1.0', referrers: false });
    const client = lab.client();
    try {
      const report = await syncPlan(plan([copy]), { client });
      expect(report.items[0]?.result).toBe('copied');
      expect(report.stats.referrersCopied).toBe(0);
      expect(await lab.skopeoDigest(copy.target)).toBe(image.digest);
      expect(await lab.skopeoDigest(`${lab.main.host}/bare/app:sha256-${hex}.sig`)).toBeUndefined();
    } finally {
      await client.close();
    }
  });
});
