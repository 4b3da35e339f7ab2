import { buildImage, buildIndex, hasBinary, sha256Digest, startRegistry } from '@scanner/test-lab';
import type { BuiltArtifact, Registry } from '@scanner/test-lab';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createRegistryClient } from './client.ts';
import type { RegistryClient } from './client.ts';
import type { RegistryEvent, WarningEvent } from './events.ts';
import { failure } from './failure.fixture.ts';
import { createScanner } from './scanner.ts';

const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

function bytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function descriptor(mediaType: string, content: Buffer, extra: Record<string, unknown> = {}) {
  return { mediaType, digest: sha256Digest(content), size: content.byteLength, ...extra };
}

// Real repositories hold more than images. Everything here is pushed to the real CNCF distribution registry
// with our own client, the way `helm push` and `cosign sign` put artifacts next to an app's images.
describe.skipIf(!hasBinary('docker-registry'))('one odd tag never fails a scan (real registry)', () => {
  let registry: Registry;
  let pusher: RegistryClient;
  let events: RegistryEvent[] = [];
  const digests: Record<string, string> = {};

  async function pushBlob(repository: string, content: Buffer): Promise<void> {
    await pusher.uploadBlob(`${registry.host}/${repository}`, content, { digest: sha256Digest(content), size: content.byteLength });
  }

  async function pushManifest(reference: string, content: Buffer, mediaType: string): Promise<string> {
    const { digest } = await pusher.putManifest(`${registry.host}/${reference}`, content, { mediaType });
    return digest;
  }

  async function pushArtifact(repository: string, tag: string, artifact: BuiltArtifact): Promise<string> {
    for (const blob of artifact.blobs.values()) await pushBlob(repository, blob);
    if (artifact.kind === 'index') {
      for (const child of artifact.images) await pushManifest(`${repository}@${child.digest}`, child.manifestBytes, child.mediaType);
      return pushManifest(`${repository}:${tag}`, artifact.indexBytes, artifact.mediaType);
    }
    return pushManifest(`${repository}:${tag}`, artifact.manifestBytes, artifact.mediaType);
  }

  /** A Helm chart as `helm push` stores it: a Helm config and one chart layer. */
  async function pushHelmChart(repository: string, tag: string): Promise<string> {
    const config = bytes({ name: 'web', version: tag, apiVersion: 'v2' });
    const chart = Buffer.from(`chart ${tag}`);
    await pushBlob(repository, config);
    await pushBlob(repository, chart);
    const manifest = bytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(HELM_CONFIG, config), layers: [descriptor(HELM_CHART, chart)] });
    return pushManifest(`${repository}:${tag}`, manifest, OCI_MANIFEST);
  }

  /** A cosign signature: an image config media type over a `simplesigning` layer, under `sha256-<hex>.sig`. */
  async function pushSignature(repository: string, subject: string): Promise<string> {
    const config = bytes({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] }, config: {} });
    const payload = bytes({ critical: { image: { 'docker-manifest-digest': subject } } });
    await pushBlob(repository, config);
    await pushBlob(repository, payload);
    const manifest = bytes({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(OCI_CONFIG, config),
      layers: [descriptor('application/vnd.dev.cosign.simplesigning.v1+json', payload, { annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ' } })],
    });
    return pushManifest(`${repository}:${subject.replace(':', '-')}.sig`, manifest, OCI_MANIFEST);
  }

  beforeAll(async () => {
    registry = await startRegistry();
    pusher = createRegistryClient();
    // The example: two images and a Helm chart pushed as the next version.
    digests['1.0.0'] = await pushArtifact('lab/web', '1.0.0', buildImage({ created: '2024-01-15T00:00:00Z', seed: 'one' }));
    digests['1.1.0'] = await pushArtifact('lab/web', '1.1.0', buildImage({ created: '2024-02-15T00:00:00Z', seed: 'two' }));
    digests['1.2.0'] = await pushHelmChart('lab/web', '1.2.0');

    // Beyond it: a signature, and a BuildKit index whose attestation entry is an in-toto manifest.
    digests['2.0.0'] = await pushArtifact('lab/signed', '2.0.0', buildImage({ created: '2024-03-01T00:00:00Z', seed: 'signed' }));
    digests['sig'] = await pushSignature('lab/signed', digests['2.0.0'] ?? '');
    digests['1.9.0'] = await pushArtifact('lab/signed', '1.9.0', buildImage({ created: '2024-02-01T00:00:00Z', seed: 'older' }));

    const app = buildIndex({ images: [{ platform: 'linux/amd64', created: '2024-04-01T00:00:00Z', seed: 'idx' }, { platform: 'linux/arm64/v8', created: '2024-04-01T00:00:00Z', seed: 'idx' }] });
    for (const blob of app.blobs.values()) await pushBlob('lab/attested', blob);
    for (const child of app.images) await pushManifest(`lab/attested@${child.digest}`, child.manifestBytes, child.mediaType);
    const statement = bytes({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://slsa.dev/provenance/v0.2' });
    const empty = Buffer.from('{}');
    await pushBlob('lab/attested', statement);
    await pushBlob('lab/attested', empty);
    const attestation = bytes({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(OCI_CONFIG, empty),
      layers: [descriptor('application/vnd.in-toto+json', statement, { annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } })],
    });
    const attestationDigest = await pushManifest(`lab/attested@${sha256Digest(attestation)}`, attestation, OCI_MANIFEST);
    digests['attestation'] = attestationDigest;
    const amd64 = app.images[0];
    const withAttestation = bytes({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        ...app.images.map((child) => ({ mediaType: child.mediaType, digest: child.digest, size: child.manifestBytes.byteLength, platform: child.platform })),
        {
          mediaType: OCI_MANIFEST,
          digest: attestationDigest,
          size: attestation.byteLength,
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64?.digest ?? '' },
        },
      ],
    });
    digests['3.0.0'] = await pushManifest('lab/attested:3.0.0', withAttestation, OCI_INDEX);
    // An index that holds only the attestation: not an image at all.
    const onlyAttestation = bytes({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: attestationDigest, size: attestation.byteLength, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }],
    });
    digests['3.1.0'] = await pushManifest('lab/attested:3.1.0', onlyAttestation, OCI_INDEX);
  }, 120_000);

  afterAll(async () => {
    await pusher.close();
    await registry.stop();
  });

  beforeEach(() => {
    events = [];
  });

  function scanner() {
    return createScanner({ client: createRegistryClient({ onEvent: (event) => events.push(event) }) });
  }

  function skippedWarnings(): WarningEvent[] {
    return events.filter((event): event is WarningEvent => event.type === 'warning' && event.code === 'tag_skipped');
  }

  test('newest-build selects 1.1.0 and skips the Helm chart 1.2.0 with one warning naming it', async () => {
    const result = await scanner().select(`${registry.host}/lab/web`, { strategy: 'newest-build' });
    expect(result.selected).toMatchObject({ tag: '1.1.0', digest: digests['1.1.0'], createdAt: '2024-02-15T00:00:00.000Z' });
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['1.1.0', '1.0.0']);
    expect(result.skipped).toEqual([{ tag: '1.2.0', code: 'not_an_image', reason: expect.stringContaining('Helm chart') as string }]);
    const warnings = skippedWarnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ tag: '1.2.0', reason: 'not_an_image', repository: 'lab/web' });
    expect(warnings[0]?.message).toContain('"1.2.0"');
    expect(warnings[0]?.message).toContain(HELM_CONFIG);
    // The chart's config is never read as an image config: no blob GET for it.
    const blobGets = events.filter((event) => event.type === 'request' && event.kind === 'blob');
    expect(blobGets).toHaveLength(2);
  });

  test('semver with platform linux/amd64 selects 1.1.0 and skips the chart with one warning', async () => {
    const result = await scanner().select(`${registry.host}/lab/web`, { strategy: 'semver', constraint: '^1.0', platforms: ['linux/amd64'] });
    expect(result.selected).toMatchObject({ tag: '1.1.0', digest: digests['1.1.0'], platforms: ['linux/amd64'] });
    expect(result.skipped.map((entry) => [entry.tag, entry.code])).toEqual([['1.2.0', 'not_an_image']]);
    expect(skippedWarnings().map((event) => event.tag)).toEqual(['1.2.0']);
  });

  test('getImageMetadata and getImageConfig of the chart tag fail with not_an_image, naming the chart', async () => {
    const client = createRegistryClient();
    const error = await failure(client.getImageMetadata(`${registry.host}/lab/web:1.2.0`));
    expect(error.code).toBe('not_an_image');
    expect(error.message).toContain('lab/web:1.2.0');
    expect(error.message).toContain('is not a container image: it is a Helm chart');
    expect((error as { fields?: { tag?: string } }).fields?.tag).toBe('1.2.0');
    expect((await failure(client.getImageConfig(`${registry.host}/lab/web:1.2.0`))).code).toBe('not_an_image');
    await client.close();
  });

  test('a cosign signature tag is skipped, not read as an image with an empty platform', async () => {
    const result = await scanner().select(`${registry.host}/lab/signed`, { strategy: 'newest-build' });
    expect(result.selected?.tag).toBe('2.0.0');
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['2.0.0', '1.9.0']);
    const signatureTag = `${(digests['2.0.0'] ?? '').replace(':', '-')}.sig`;
    expect(result.skipped).toEqual([{ tag: signatureTag, code: 'not_an_image', reason: expect.stringContaining('cosign signature') as string }]);
  });

  test('index attestation entries are left out of platforms; an index of attestations only is no image', async () => {
    const result = await scanner().select(`${registry.host}/lab/attested`, { strategy: 'newest-build' });
    expect(result.selected).toMatchObject({ tag: '3.0.0', platforms: ['linux/amd64', 'linux/arm64/v8'], createdAt: '2024-04-01T00:00:00.000Z' });
    expect(result.skipped.map((entry) => [entry.tag, entry.code])).toEqual([['3.1.0', 'not_an_image']]);
    expect(result.skipped[0]?.reason).toContain('attestation-manifest');
    // The attestation manifest itself is never fetched.
    const fetched = events.filter((event) => event.type === 'request' && event.method === 'GET' && event.kind === 'manifest').map((event) => (event as { url: string }).url);
    expect(fetched.some((url) => url.endsWith(digests['attestation'] ?? 'x'))).toBe(false);
    // 3.0.0: the index and its two platform images; 3.1.0: the index only.
    expect(fetched.filter((url) => url.includes('/manifests/sha256:'))).toHaveLength(4);
  });

  test('a repository-level failure still fails the scan', async () => {
    const error = await failure(scanner().select(`${registry.host}/lab/missing`, { strategy: 'newest-build' }));
    expect(error.code).toBe('NAME_UNKNOWN');
  });
});
