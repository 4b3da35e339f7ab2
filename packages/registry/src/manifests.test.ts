import { describe, expect, test } from 'vitest';
import { json, startServer, testClient } from './http.fixture.ts';
import type { Handler } from './http.fixture.ts';
import { computeDigest } from '@scanner/image';
import { MANIFEST_ACCEPT } from './manifests.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

interface Stored {
  bytes: Buffer;
  contentType: string;
}

function bytesOf(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, 2));
}

/** A tiny content-addressed registry: manifests by tag or digest, blobs by digest. */
function contentRegistry() {
  const manifests = new Map<string, Stored>();
  const blobs = new Map<string, Buffer>();
  const addBlob = (bytes: Buffer) => {
    const digest = computeDigest(bytes);
    blobs.set(digest, bytes);
    return { mediaType: 'application/octet-stream', digest, size: bytes.byteLength };
  };
  const addManifest = (value: unknown, contentType: string, tag?: string) => {
    const bytes = bytesOf(value);
    const digest = computeDigest(bytes);
    manifests.set(digest, { bytes, contentType });
    if (tag !== undefined) manifests.set(tag, { bytes, contentType });
    return { digest, size: bytes.byteLength, bytes };
  };
  const image = (config: unknown, options: { annotations?: Record<string, string>; tag?: string } = {}) => {
    const configDescriptor = { ...addBlob(bytesOf({ rootfs: { type: 'layers', diff_ids: [] }, ...(config as object) })), mediaType: 'application/vnd.oci.image.config.v1+json' };
    const layer = addBlob(Buffer.from(`layer of ${JSON.stringify(config)}`));
    return addManifest(
      { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: [{ ...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }], ...(options.annotations ? { annotations: options.annotations } : {}) },
      OCI_MANIFEST,
      options.tag,
    );
  };
  const handler: Handler = (request, response) => {
    const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/?]+)$/.exec(request.url);
    if (!match) { json(response, 404, {}); return; }
    if (match[2] === 'manifests') {
      const stored = manifests.get(match[3]!);
      if (!stored) { json(response, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }); return; }
      response.writeHead(200, { 'content-type': stored.contentType, 'content-length': stored.bytes.byteLength, 'docker-content-digest': computeDigest(stored.bytes) });
      return response.end(request.method === 'HEAD' ? undefined : stored.bytes);
    }
    const blob = blobs.get(match[3]!);
    if (!blob) { json(response, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }); return; }
    response.writeHead(200, { 'content-length': blob.byteLength }).end(request.method === 'HEAD' ? undefined : blob);
  };
  return { manifests, blobs, addManifest, image, handler };
}

describe('manifests', () => {
  test('GET sends the full Accept list, returns bytes, media type and the verified digest', async () => {
    const lab = contentRegistry();
    const { digest, bytes } = lab.image({ os: 'linux', architecture: 'amd64' }, { tag: '1.0' });
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    const manifest = await t.client.getManifest(`${registry.host}/a/b:1.0`);
    expect(manifest).toMatchObject({ kind: 'manifest', mediaType: OCI_MANIFEST, digest, contentType: OCI_MANIFEST });
    expect(Buffer.from(manifest.bytes)).toEqual(bytes);
    expect(registry.requests[0]!.headers.accept).toBe(MANIFEST_ACCEPT);
    for (const type of [OCI_MANIFEST, OCI_INDEX, 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json']) {
      expect(MANIFEST_ACCEPT).toContain(type);
    }
  });

  test('a Docker-Content-Digest that does not match the bytes is digest_mismatch', async () => {
    const lab = contentRegistry();
    lab.image({ os: 'linux', architecture: 'amd64' }, { tag: '1.0' });
    await using registry = await startServer((_request, response) => {
      const stored = lab.manifests.get('1.0')!;
      response.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': `sha256:${'0'.repeat(64)}` }).end(stored.bytes);
    });
    await using t = testClient();
    await expect(t.client.getManifest(`${registry.host}/a/b:1.0`)).rejects.toMatchObject({ code: 'digest_mismatch', repository: 'a/b' });
  });

  test('bytes that do not hash to the digest asked for are digest_mismatch', async () => {
    const lab = contentRegistry();
    const { bytes } = lab.image({ os: 'linux', architecture: 'amd64' });
    const wanted = `sha256:${'1'.repeat(64)}`;
    await using registry = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': OCI_MANIFEST }).end(bytes);
    });
    await using t = testClient();
    await expect(t.client.getManifest(`${registry.host}/a/b@${wanted}`)).rejects.toMatchObject({ code: 'digest_mismatch' });
  });

  test('the size cap is enforced while streaming, without Content-Length', async () => {
    let written = 0;
    await using registry = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': OCI_MANIFEST });
      const chunk = Buffer.alloc(64 * 1024, 32);
      const pump = () => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.byteLength;
          if (!response.write(chunk)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end();
      };
      response.on('close', () => {
        written = Number.POSITIVE_INFINITY;
      });
      pump();
    });
    await using t = testClient({ maxManifestBytes: 256 * 1024 });
    await expect(t.client.getManifest(`${registry.host}/a/b:big`)).rejects.toMatchObject({ code: 'too_large' });
  });

  test('a declared Content-Length over the cap fails before reading', async () => {
    await using registry = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': 5_000_000 });
      response.write('{');
    });
    await using t = testClient();
    await expect(t.client.getManifest(`${registry.host}/a/b:big`)).rejects.toMatchObject({ code: 'too_large', message: expect.stringContaining('5000000 bytes') as unknown });
  });

  test('MANIFEST_UNKNOWN from the body', async () => {
    const lab = contentRegistry();
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    await expect(t.client.getManifest(`${registry.host}/a/b:nope`)).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN', status: 404 });
  });

  test('an index resolved to a platform', async () => {
    const lab = contentRegistry();
    const amd = lab.image({ os: 'linux', architecture: 'amd64' });
    const arm = lab.image({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    const index = lab.addManifest(
      {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      },
      OCI_INDEX,
      'multi',
    );
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    const picked = await t.client.getManifest(`${registry.host}/a/b:multi`, { platform: { os: 'linux', architecture: 'arm64' } });
    expect(picked).toMatchObject({ kind: 'manifest', digest: arm.digest, from: { indexDigest: index.digest } });
    expect(await t.client.resolveDigest(`${registry.host}/a/b:multi`, { platform: { os: 'linux', architecture: 'amd64' } })).toBe(amd.digest);
    await expect(t.client.getManifest(`${registry.host}/a/b:multi`, { platform: { os: 'windows', architecture: 'amd64' } })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('linux/arm64/v8') as unknown,
    });
  });
});

describe('resolveDigest', () => {
  test('HEAD with the Accept list: one request', async () => {
    const lab = contentRegistry();
    const { digest } = lab.image({ os: 'linux', architecture: 'amd64' }, { tag: '1.0' });
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    expect(await t.client.resolveDigest(`${registry.host}/a/b:1.0`)).toBe(digest);
    expect(registry.requests.map((r) => [r.method, r.headers.accept])).toEqual([['HEAD', MANIFEST_ACCEPT]]);
  });

  test('a digest reference resolves without a request', async () => {
    await using t = testClient();
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(await t.client.resolveDigest(`127.0.0.1:1/a/b@${digest}`)).toBe(digest);
    expect(t.events).toEqual([]);
  });

  test.each([405, 404, 403])('HEAD refused with %i → GET', async (status) => {
    const lab = contentRegistry();
    const { digest } = lab.image({ os: 'linux', architecture: 'amd64' }, { tag: '1.0' });
    await using registry = await startServer((request, response) => {
      if (request.method === 'HEAD') return response.writeHead(status).end();
      lab.handler(request, response);
    });
    await using t = testClient();
    expect(await t.client.resolveDigest(`${registry.host}/a/b:1.0`)).toBe(digest);
    expect(registry.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });

  test('a Docker-Content-Digest that is not a digest is never the answer: HEAD falls back to GET, which computes it (break-scan F12)', async () => {
    const lab = contentRegistry();
    const { digest, bytes } = lab.image({ os: 'linux', architecture: 'amd64' }, { tag: '1.0' });
    for (const bad of ['sha256:zzz', `sha256:${'a'.repeat(63)}`, 'md5:abc', 'sha256']) {
      await using registry = await startServer((request, response) => {
        response.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': bad }).end(request.method === 'HEAD' ? undefined : bytes);
      });
      await using t = testClient();
      expect(await t.client.resolveDigest(`${registry.host}/a/b:1.0`)).toBe(digest);
      expect(registry.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
      expect((await t.client.getManifest(`${registry.host}/a/b:1.0`)).digest).toBe(digest);
    }
  });

  test('HEAD without Docker-Content-Digest → GET, digest computed from the bytes', async () => {
    const lab = contentRegistry();
    const { digest, bytes } = lab.image({ os: 'linux', architecture: 'amd64' }, { tag: '1.0' });
    await using registry = await startServer((request, response) => {
      response.writeHead(200, { 'content-type': OCI_MANIFEST }).end(request.method === 'HEAD' ? undefined : bytes);
    });
    await using t = testClient();
    expect(await t.client.resolveDigest(`${registry.host}/a/b:1.0`)).toBe(digest);
    expect(registry.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });
});

describe('image metadata', () => {
  test('created: the annotation wins over config and labels', async () => {
    const lab = contentRegistry();
    lab.image(
      { os: 'linux', architecture: 'amd64', created: '2024-05-01T00:00:00Z', config: { Labels: { 'org.label-schema.build-date': '2024-06-01T00:00:00Z', team: 'x' } } },
      { tag: 'annotated', annotations: { 'org.opencontainers.image.created': '2023-01-01T00:00:00Z' } },
    );
    lab.image(
      { os: 'linux', architecture: 'amd64', created: '2024-05-01T00:00:00Z', config: { Labels: { 'org.label-schema.build-date': '2024-06-01T00:00:00Z', team: 'y' } } },
      { tag: 'labelled' },
    );
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    const annotated = await t.client.getImageMetadata(`${registry.host}/a/b:annotated`);
    expect(annotated).toMatchObject({ kind: 'manifest', created: '2023-01-01T00:00:00.000Z', labels: { team: 'x' } });
    expect(annotated.images[0]).toMatchObject({ platform: { os: 'linux', architecture: 'amd64' } });
    const labelled = await t.client.getImageMetadata(`${registry.host}/a/b:labelled`);
    expect(labelled.created).toBe('2024-06-01T00:00:00.000Z');
  });

  test('an index: per platform, attestations skipped, created from the newest matching child', async () => {
    const lab = contentRegistry();
    const amd = lab.image({ os: 'linux', architecture: 'amd64', created: '2024-01-01T00:00:00Z' });
    const arm = lab.image({ os: 'linux', architecture: 'arm64', created: '2024-03-01T00:00:00Z' });
    const attestation = lab.image({ os: 'unknown', architecture: 'unknown' });
    lab.addManifest(
      {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64' } },
          { mediaType: OCI_MANIFEST, digest: attestation.digest, size: attestation.size, platform: { os: 'unknown', architecture: 'unknown' } },
        ],
      },
      OCI_INDEX,
      'multi',
    );
    await using registry = await startServer(lab.handler);
    await using t = testClient();
    const all = await t.client.getImageMetadata(`${registry.host}/a/b:multi`);
    expect(all.kind).toBe('index');
    expect(all.images.map((i) => i.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(all.created).toBe('2024-03-01T00:00:00.000Z');
    const amdOnly = await t.client.getImageMetadata(`${registry.host}/a/b:multi`, { platforms: [{ os: 'linux', architecture: 'amd64' }] });
    expect(amdOnly.created).toBe('2024-01-01T00:00:00.000Z');
    expect(amdOnly.images).toHaveLength(1);
  });
});
