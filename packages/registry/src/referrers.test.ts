import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST, OCI_EMPTY_DESCRIPTOR, computeDigest } from '@scanner/image';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { buildImage, hasBinary, seedImage, skopeoInspectRaw, startRegistry } from '@scanner/test-lab';
import type { BuiltImage, Registry } from '@scanner/test-lab';
import { createRegistryClient } from './client.ts';
import type { RegistryClient } from './client.ts';
import type { RegistryEvent, RequestEvent } from './events.ts';
import { json, startServer } from './http.fixture.ts';
import { referrersTag } from './referrers.ts';

const available = hasBinary('docker-registry') && hasBinary('skopeo');

const SBOM = 'application/vnd.example.sbom.v1+json';
const SIGNATURE = 'application/vnd.example.signature.v1';

/** An artifact manifest (empty config, one layer) whose subject is `image`. */
function artifact(image: { digest: string; mediaType: string; manifestBytes: Uint8Array }, artifactType: string, content: string) {
  const layer = Buffer.from(content);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_MANIFEST,
    artifactType,
    config: { mediaType: OCI_EMPTY_DESCRIPTOR.mediaType, digest: OCI_EMPTY_DESCRIPTOR.digest, size: OCI_EMPTY_DESCRIPTOR.size },
    layers: [{ mediaType: 'application/octet-stream', digest: computeDigest(layer), size: layer.byteLength }],
    subject: { mediaType: image.mediaType, digest: image.digest, size: image.manifestBytes.byteLength },
    annotations: { 'org.example.content': content },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { bytes, digest: computeDigest(bytes), blobs: [Buffer.from('{}'), layer] };
}

async function pushArtifact(client: RegistryClient, repository: string, made: ReturnType<typeof artifact>) {
  for (const blob of made.blobs) await client.uploadBlob(repository, blob, { digest: computeDigest(blob) });
  return client.pushReferrer(repository, made.bytes, { mediaType: MEDIA_TYPE_OCI_MANIFEST });
}

function requests(events: RegistryEvent[]): RequestEvent[] {
  return events.filter((event): event is RequestEvent => event.type === 'request');
}

describe('referrersTag', () => {
  test('<alg>-<encoded>, truncated and cleaned as the distribution spec says', () => {
    expect(referrersTag(`sha256:${'a'.repeat(64)}`)).toBe(`sha256-${'a'.repeat(64)}`);
    expect(referrersTag(`sha512:${'b'.repeat(128)}`)).toBe(`sha512-${'b'.repeat(64)}`);
    expect(referrersTag(`${'x'.repeat(40)}+b64u:ab=cd`)).toBe(`${'x'.repeat(32)}-ab-cd`);
    expect(() => referrersTag('nodigest')).toThrow(/not a digest/);
  });
});

describe('referrers API quirks (loopback)', () => {
  test('follows Link pages, filters by artifactType when the registry did not, and skips duplicates', async () => {
    const subject = `sha256:${'c'.repeat(64)}`;
    const entry = (n: number, artifactType: string) => ({ mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: `sha256:${String(n).repeat(64)}`, size: 10, artifactType });
    await using server = await startServer((request, response) => {
      const second = request.url.includes('page=2');
      const manifests = second ? [entry(2, SBOM), entry(1, SBOM)] : [entry(1, SBOM), entry(3, SIGNATURE)];
      json(response, 200, { schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests }, second ? {} : { link: `</v2/app/referrers/${subject}?page=2>; rel="next"` });
    });
    const client = createRegistryClient();
    try {
      const all = await client.listReferrers(`${server.host}/app@${subject}`);
      expect(all.via).toBe('referrers-api');
      expect(all.descriptors.map((d) => d.digest)).toEqual([1, 3, 2].map((n) => `sha256:${String(n).repeat(64)}`));
      const sboms = await client.listReferrers(`${server.host}/app@${subject}`, { artifactType: SBOM });
      expect(sboms.descriptors.map((d) => d.artifactType)).toEqual([SBOM, SBOM]);
      expect(server.requests.at(-2)?.url).toContain(`artifactType=${encodeURIComponent(SBOM)}`);
    } finally {
      await client.close();
    }
  });

  test('a 404 from the API falls back to the tag schema once per repository; no tag means no referrers', async () => {
    const subject = `sha256:${'d'.repeat(64)}`;
    await using server = await startServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    });
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ onEvent: (event) => events.push(event) });
    try {
      expect(await client.listReferrers(`${server.host}/app@${subject}`)).toEqual({ subject, descriptors: [], via: 'tag-schema' });
      expect(await client.listReferrers(`${server.host}/app@${subject}`)).toEqual({ subject, descriptors: [], via: 'tag-schema' });
      expect(requests(events).map((event) => `${event.kind} ${new URL(event.url).pathname}`)).toEqual([
        `referrers /v2/app/referrers/${subject}`,
        `manifest /v2/app/manifests/${referrersTag(subject)}`,
        `manifest /v2/app/manifests/${referrersTag(subject)}`,
      ]);
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(!available)('against the CNCF distribution registry 2.8 (no referrers API) and the memory registry (API)', () => {
  let registry: Registry;
  let memory: MemoryRegistry;
  let memoryHost: string;
  let image: BuiltImage;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    image = buildImage({ layers: [{ size: 4096 }], seed: 'referrers' });
    await seedImage(registry, 'team/app:1.0', image);
    memory = createMemoryRegistry();
    memoryHost = (await memory.listen()).host;
  }, 120_000);
  afterAll(async () => {
    await Promise.all([registry.stop(), memory.close()]);
  });

  test('pushReferrer without OCI-Subject writes the referrers tag index (artifact first); listReferrers reads it back', async () => {
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ onEvent: (event) => events.push(event) });
    const repository = `${registry.host}/team/app`;
    try {
      const sbom = artifact(image, SBOM, 'sbom one');
      const signature = artifact(image, SIGNATURE, 'signature one');
      expect(await pushArtifact(client, repository, sbom)).toEqual({ digest: sbom.digest, subject: image.digest, via: 'tag-schema' });
      expect(await pushArtifact(client, repository, signature)).toMatchObject({ via: 'tag-schema' });
      await pushArtifact(client, repository, sbom); // again: no duplicate entry
      const puts = requests(events).filter((event) => event.method === 'PUT' && event.kind === 'manifest').map((event) => new URL(event.url).pathname.split('/').at(-1));
      expect(puts.slice(0, 2)).toEqual([sbom.digest, referrersTag(image.digest)]);

      const listed = await client.listReferrers(`${repository}:1.0`);
      expect(listed.via).toBe('tag-schema');
      expect(listed.subject).toBe(image.digest);
      expect(listed.descriptors).toEqual([
        { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: sbom.digest, size: sbom.bytes.byteLength, artifactType: SBOM, annotations: { 'org.example.content': 'sbom one' } },
        { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: signature.digest, size: signature.bytes.byteLength, artifactType: SIGNATURE, annotations: { 'org.example.content': 'signature one' } },
      ]);
      expect((await client.listReferrers(`${repository}@${image.digest}`, { artifactType: SIGNATURE })).descriptors.map((d) => d.digest)).toEqual([signature.digest]);
      // An independent client sees the same index at the tag.
      const raw = JSON.parse(await skopeoInspectRaw(`docker://${repository}:${referrersTag(image.digest)}`)) as { mediaType: string; manifests: { digest: string }[] };
      expect(raw.mediaType).toBe(MEDIA_TYPE_OCI_INDEX);
      expect(raw.manifests.map((m) => m.digest)).toEqual([sbom.digest, signature.digest]);
    } finally {
      await client.close();
    }
  });

  test('copyReferrers: tag schema → referrers API → tag schema, blobs and manifests byte for byte, idempotent', async () => {
    const client = createRegistryClient();
    try {
      const source = `${registry.host}/team/app@${image.digest}`;
      // The subject must exist at the targets for the copies to mean anything.
      await client.copyImage(source, `${memoryHost}/mirror/app:1.0`);
      await client.copyImage(source, `${registry.host}/copies/app:1.0`);
      const sourceList = await client.listReferrers(source);
      expect(sourceList.descriptors.length).toBeGreaterThanOrEqual(2);

      const toApi = await client.copyReferrers(source, `${memoryHost}/mirror/app:1.0`);
      expect(toApi.via).toBe('referrers-api');
      expect(toApi.copied).toEqual(sourceList.descriptors.map((d) => d.digest));
      const atMemory = await client.listReferrers(`${memoryHost}/mirror/app@${image.digest}`);
      expect(atMemory.via).toBe('referrers-api');
      expect(atMemory.descriptors.map((d) => d.digest).sort()).toEqual(toApi.copied.slice().sort());
      expect(memory.tags('mirror/app')).toEqual(['1.0']); // no referrers tag where the API exists
      for (const digest of toApi.copied) {
        expect(memory.getManifest('mirror/app', digest)?.bytes.equals((await client.getManifest(`${source.split('@')[0]!}@${digest}`)).bytes)).toBe(true);
      }

      const back = await client.copyReferrers(`${memoryHost}/mirror/app@${image.digest}`, `${registry.host}/copies/app:1.0`);
      expect(back.via).toBe('tag-schema');
      const atCopies = await client.listReferrers(`${registry.host}/copies/app@${image.digest}`);
      expect(atCopies.descriptors.map((d) => d.digest).sort()).toEqual(back.copied.slice().sort());
      expect(atCopies.descriptors.every((d) => d.artifactType !== undefined)).toBe(true);

      const again = await client.copyReferrers(`${memoryHost}/mirror/app@${image.digest}`, `${registry.host}/copies/app:1.0`);
      expect(again).toMatchObject({ copied: [], via: undefined });
      expect(again.existing.slice().sort()).toEqual(back.copied.slice().sort());
      // The target tag of the subject did not move.
      expect(await client.resolveDigest(`${registry.host}/copies/app:1.0`)).toBe(image.digest);
    } finally {
      await client.close();
    }
  });

  test('with token auth: the 404 of the missing API, the tag schema fallback and the push all authenticate', async () => {
    const secured = await startRegistry({ auth: 'token' });
    try {
      await seedImage(secured, 'team/app:1.0', image);
      const client = createRegistryClient({
        settings: { [secured.host]: { credentials: { description: 'test', get: () => Promise.resolve({ kind: 'basic', ...secured.credentials! }) } } },
      });
      try {
        const repository = `${secured.host}/team/app`;
        expect(await client.listReferrers(`${repository}:1.0`)).toEqual({ subject: image.digest, descriptors: [], via: 'tag-schema' });
        const sbom = artifact(image, SBOM, 'secured sbom');
        expect(await pushArtifact(client, repository, sbom)).toMatchObject({ via: 'tag-schema' });
        expect((await client.listReferrers(`${repository}@${image.digest}`)).descriptors.map((d) => d.digest)).toEqual([sbom.digest]);
      } finally {
        await client.close();
      }
    } finally {
      await secured.stop();
    }
  });

  test('a referrers tag holding something else is left alone with a clear error', async () => {
    const client = createRegistryClient();
    try {
      const other = buildImage({ seed: 'squatter' });
      await seedImage(registry, `team/squat:${referrersTag(image.digest)}`, other);
      await seedImage(registry, 'team/squat:1.0', image);
      const sbom = artifact(image, SBOM, 'squatted');
      await expect(pushArtifact(client, `${registry.host}/team/squat`, sbom)).rejects.toMatchObject({ code: 'invalid_response' });
      expect(await client.resolveDigest(`${registry.host}/team/squat:${referrersTag(image.digest)}`)).toBe(other.digest);
      // Reading treats it as no referrers, as the spec says.
      expect((await client.listReferrers(`${registry.host}/team/squat@${image.digest}`)).descriptors).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
