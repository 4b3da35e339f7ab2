import { describe, expect, test } from 'vitest';
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST,
  MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  computeDigest,
  isImageError,
  parseImageConfig,
  parseManifest,
} from './index.ts';
import type { ImageError, ImageErrorCode, ParsedManifest } from './index.ts';

const D1 = computeDigest('config');
const D2 = computeDigest('layer');
const D3 = computeDigest('amd64 manifest');
const D4 = computeDigest('arm manifest');

function errorOf(fn: () => unknown): { code: ImageErrorCode; message: string; cause: unknown } {
  try {
    fn();
  } catch (error) {
    if (isImageError(error)) return { code: error.code, message: error.message, cause: error.cause };
    throw error;
  }
  throw new Error('expected an ImageError');
}

const imageManifest = {
  schemaVersion: 2,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D1, size: 6 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D2, size: 5 }],
};

const imageIndex = {
  schemaVersion: 2,
  manifests: [
    {
      mediaType: MEDIA_TYPE_OCI_MANIFEST,
      digest: D3,
      size: 100,
      platform: { os: 'linux', architecture: 'amd64' },
    },
    {
      mediaType: MEDIA_TYPE_OCI_MANIFEST,
      digest: D4,
      size: 100,
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
    },
  ],
};

function asManifest(parsed: ParsedManifest) {
  if (parsed.kind !== 'manifest') throw new Error(`expected a manifest, got ${parsed.kind}`);
  return parsed.manifest;
}
function asIndex(parsed: ParsedManifest) {
  if (parsed.kind !== 'index') throw new Error(`expected an index, got ${parsed.kind}`);
  return parsed.index;
}

describe('parseManifest: media type', () => {
  test('infers an OCI index from "manifests" and fills mediaType', () => {
    const parsed = parseManifest(JSON.stringify(imageIndex));
    expect(parsed.kind).toBe('index');
    expect(parsed.mediaType).toBe(MEDIA_TYPE_OCI_INDEX);
    const index = asIndex(parsed);
    expect(index.mediaType).toBe(MEDIA_TYPE_OCI_INDEX);
    expect(index.manifests[1]?.platform).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });

  test('infers an OCI image manifest from "config" + "layers"', () => {
    const parsed = parseManifest(new TextEncoder().encode(JSON.stringify(imageManifest)));
    expect(parsed.kind).toBe('manifest');
    expect(parsed.mediaType).toBe(MEDIA_TYPE_OCI_MANIFEST);
    expect(asManifest(parsed).layers[0]?.digest).toBe(D2);
  });

  test('uses the Content-Type (with parameters) when the body has no mediaType', () => {
    const list = parseManifest(JSON.stringify(imageIndex), {
      contentType: `${MEDIA_TYPE_DOCKER_MANIFEST_LIST}; charset=utf-8`,
    });
    expect(list).toMatchObject({ kind: 'index', mediaType: MEDIA_TYPE_DOCKER_MANIFEST_LIST });
    const docker = parseManifest(JSON.stringify(imageManifest), { contentType: MEDIA_TYPE_DOCKER_MANIFEST });
    expect(docker).toMatchObject({ kind: 'manifest', mediaType: MEDIA_TYPE_DOCKER_MANIFEST });
    expect(asManifest(docker).mediaType).toBe(MEDIA_TYPE_DOCKER_MANIFEST);
  });

  test('a generic Content-Type is ignored and the body decides', () => {
    const parsed = parseManifest(JSON.stringify(imageIndex), { contentType: 'application/json' });
    expect(parsed.mediaType).toBe(MEDIA_TYPE_OCI_INDEX);
  });

  test('the body mediaType wins when present and must agree with a manifest Content-Type', () => {
    const body = JSON.stringify({ ...imageManifest, mediaType: MEDIA_TYPE_DOCKER_MANIFEST });
    expect(parseManifest(body).mediaType).toBe(MEDIA_TYPE_DOCKER_MANIFEST);
    expect(parseManifest(body, { contentType: MEDIA_TYPE_DOCKER_MANIFEST }).mediaType).toBe(MEDIA_TYPE_DOCKER_MANIFEST);
    const error = errorOf(() => parseManifest(body, { contentType: MEDIA_TYPE_OCI_MANIFEST }));
    expect(error.code).toBe('invalid_manifest');
    expect(error.message).toContain(MEDIA_TYPE_OCI_MANIFEST);
  });

  test('a declared index type with an image-manifest body is a schema error naming the path', () => {
    const error = errorOf(() => parseManifest(JSON.stringify({ ...imageManifest, mediaType: MEDIA_TYPE_OCI_INDEX })));
    expect(error.code).toBe('invalid_manifest');
    expect(error.message).toContain('manifests');
  });

  test('other manifest media types are unsupported', () => {
    const body = JSON.stringify({ ...imageManifest, mediaType: 'application/vnd.oci.artifact.manifest.v1+json' });
    expect(errorOf(() => parseManifest(body)).code).toBe('unsupported_media_type');
  });

  test('a body that is neither kind is reported', () => {
    expect(errorOf(() => parseManifest('{"schemaVersion":2}')).code).toBe('invalid_manifest');
  });
});

describe('parseManifest: schema1 is rejected', () => {
  test.each([
    ['schemaVersion 1', JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [], history: [] }), undefined],
    ['schema1 mediaType', JSON.stringify({ ...imageManifest, mediaType: MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST }), undefined],
    ['signed Content-Type', JSON.stringify({ schemaVersion: 1 }), MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST],
    ['unsigned Content-Type', JSON.stringify(imageManifest), MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST],
  ])('%s', (_name, body, contentType) => {
    const error = errorOf(() => parseManifest(body, { contentType }));
    expect(error.code).toBe('unsupported_schema');
    expect(error.message).toMatch(/^@scanner\/image: Docker schema1 manifests are not supported/);
  });
});

describe('parseManifest: validation and unknown fields', () => {
  test('unknown fields are kept at every level', () => {
    const body = {
      ...imageIndex,
      extra: { nested: true },
      annotations: { 'org.opencontainers.image.source': 'https://example.com' },
      manifests: [
        {
          ...imageIndex.manifests[0],
          vendorField: 1,
          platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1', osExtra: 'x' },
        },
      ],
    };
    const index = asIndex(parseManifest(JSON.stringify(body)));
    expect(index.extra).toEqual({ nested: true });
    expect(index.manifests[0]?.vendorField).toBe(1);
    expect(index.manifests[0]?.platform?.osExtra).toBe('x');
    expect(index.manifests[0]?.platform?.['os.version']).toBe('10.0.17763.1');
    expect(index.annotations).toEqual({ 'org.opencontainers.image.source': 'https://example.com' });

    const manifest = asManifest(
      parseManifest(JSON.stringify({ ...imageManifest, subject: { ...imageManifest.config, x: 2 }, y: 'z' })),
    );
    expect(manifest.y).toBe('z');
    expect(manifest.subject?.x).toBe(2);
  });

  test('schema errors name the path and carry the ZodError as cause', () => {
    const bad = { ...imageManifest, layers: [{ ...imageManifest.layers[0], digest: 'sha256:short' }] };
    const error = errorOf(() => parseManifest(JSON.stringify(bad)));
    expect(error.code).toBe('invalid_manifest');
    expect(error.message).toContain('layers[0].digest');
    expect((error.cause as Error).name).toBe('ZodError');
  });

  test.each([
    ['negative size', { ...imageManifest, config: { ...imageManifest.config, size: -1 } }],
    ['schemaVersion 3', { ...imageManifest, schemaVersion: 3 }],
    ['layers not an array', { ...imageManifest, layers: {} }],
    ['non-string mediaType', { ...imageManifest, mediaType: 2 }],
  ])('%s is invalid_manifest', (_name, body) => {
    expect(errorOf(() => parseManifest(JSON.stringify(body))).code).toBe('invalid_manifest');
  });

  test('bad JSON, non-objects and invalid UTF-8 are invalid_manifest with a cause', () => {
    const json = errorOf(() => parseManifest('{not json'));
    expect(json.code).toBe('invalid_manifest');
    expect(json.cause).toBeInstanceOf(SyntaxError);
    expect(json.message).toContain('"{not json"');
    expect(errorOf(() => parseManifest('[]')).code).toBe('invalid_manifest');
    expect(errorOf(() => parseManifest('null')).code).toBe('invalid_manifest');
    expect(errorOf(() => parseManifest(new Uint8Array([0x7b, 0xff, 0x7d]))).code).toBe('invalid_manifest');
  });

  test('the manifest digest is computed on the raw bytes, which stay untouched', () => {
    const raw = new TextEncoder().encode(`{ "schemaVersion": 2,\n "manifests": [] }`);
    const copy = raw.slice();
    const parsed = parseManifest(raw);
    expect(asIndex(parsed).manifests).toEqual([]);
    expect(computeDigest(raw)).toBe(computeDigest(copy));
    expect(raw).toEqual(copy);
  });
});

describe('parseImageConfig', () => {
  const config = {
    created: '2024-05-01T10:00:00Z',
    architecture: 'arm',
    variant: 'v7',
    os: 'linux',
    config: { Labels: { 'org.opencontainers.image.version': '1.25.0' }, Env: ['PATH=/bin'], Cmd: null },
    rootfs: { type: 'layers', diff_ids: [D2] },
    history: [{ created: '2024-05-01T10:00:00Z', created_by: 'RUN x', empty_layer: true }],
    container: 'docker-specific',
  };

  test('parses the fields the layers above use and keeps unknown ones', () => {
    const parsed = parseImageConfig(JSON.stringify(config));
    expect(parsed.created).toBe('2024-05-01T10:00:00Z');
    expect(parsed.config?.Labels).toEqual({ 'org.opencontainers.image.version': '1.25.0' });
    expect([parsed.os, parsed.architecture, parsed.variant]).toEqual(['linux', 'arm', 'v7']);
    expect(parsed.history?.[0]?.empty_layer).toBe(true);
    expect(parsed.rootfs.diff_ids).toEqual([D2]);
    expect(parsed.container).toBe('docker-specific');
  });

  test('accepts Docker nulls and a missing config section', () => {
    expect(parseImageConfig(JSON.stringify({ ...config, config: { Labels: null } })).config?.Labels).toBeNull();
    const bare = { ...config, config: undefined };
    expect(parseImageConfig(new TextEncoder().encode(JSON.stringify(bare))).config).toBeUndefined();
  });

  test.each([
    ['missing rootfs', { ...config, rootfs: undefined }],
    ['missing os', { ...config, os: undefined }],
    ['bad diff_id', { ...config, rootfs: { type: 'layers', diff_ids: ['nope'] } }],
    ['label not a string', { ...config, config: { Labels: { a: 1 } } }],
  ])('%s is invalid_config', (_name, body) => {
    const error = errorOf(() => parseImageConfig(JSON.stringify(body)));
    expect(error.code).toBe('invalid_config');
    expect(error.message.startsWith('@scanner/image: invalid image config: ')).toBe(true);
  });

  test('bad JSON is invalid_config', () => {
    expect(errorOf(() => parseImageConfig('nope')).code).toBe('invalid_config');
  });
});

// break-scan F7: what an app shows a user must carry neither library terms (MANIFEST_MEDIA_TYPES) nor zod's
// default wording ("Invalid input: expected string, received undefined").
describe('errors carry a reason and hints per audience, in our own words', () => {
  test('schema1: the reason says what is wrong; the Accept advice is the library hint only', () => {
    let error: ImageError | undefined;
    try {
      parseManifest(JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [], history: [] }));
    } catch (caught) {
      error = caught as ImageError;
    }
    if (error === undefined) throw new Error('expected an ImageError');
    expect(error.fields.reason).toMatch(/^Docker schema1 manifests are not supported/);
    expect(error.fields.reason).not.toContain('MANIFEST_MEDIA_TYPES');
    expect(error.fields.hints?.library).toContain('MANIFEST_MEDIA_TYPES');
    expect(error.fields.hints?.cli).toMatch(/rebuild/);
    expect(error.fields.hints?.cli).not.toContain('MANIFEST_MEDIA_TYPES');
  });

  test('schema mismatches are described without zod\'s wording', () => {
    const missing = errorOf(() => parseManifest(JSON.stringify({ ...imageManifest, config: { digest: imageManifest.config.digest, size: 1 } })));
    expect(missing.message).toContain('config.mediaType: missing (expected a string)');
    const wrongType = errorOf(() => parseImageConfig(JSON.stringify({ architecture: 42, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
    expect(wrongType.message).toContain('architecture: expected a string, got a number');
    for (const error of [missing, wrongType]) expect(error.message).not.toContain('Invalid input');
  });
});
