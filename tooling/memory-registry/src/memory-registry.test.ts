import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, test } from 'vitest';
import { createMemoryRegistry } from './memory-registry.ts';
import { MEDIA_TYPES } from './media-types.ts';

describe('lifecycle', () => {
  test('does not listen until listen(); close() stops it and content survives a restart', async () => {
    const registry = createMemoryRegistry();
    expect(registry.address).toBeUndefined();
    registry.seedImage('app', 'v1');
    const first = await registry.listen();
    expect(first.host).toBe(`127.0.0.1:${first.port}`);
    expect(first.origin).toBe(`http://127.0.0.1:${first.port}`);
    expect(first.url).toBe(`http://127.0.0.1:${first.port}/v2/`);
    expect(registry.address).toEqual(first);
    await expect(registry.listen()).rejects.toMatchObject({ code: 'ALREADY_LISTENING' });
    await registry.close();
    await registry.close();
    expect(registry.address).toBeUndefined();
    await expect(fetch(first.url)).rejects.toThrow();

    const second = await registry.listen();
    expect((await fetch(`${second.origin}/v2/app/manifests/v1`)).status).toBe(200);
    await registry.close();
  });

  test('close() ends connections with a request still in flight instead of waiting for them', async () => {
    const registry = createMemoryRegistry();
    const { port } = await registry.listen();
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const response = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      socket.on('close', () => { resolve(text); });
      // The server resets the stalled connection: that is the point.
      socket.on('error', () => undefined);
    });
    // Announces 100 bytes of body, sends 3 and stalls: the request can never complete on its own.
    socket.write('POST /v2/app/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
    await registry.close();
    expect(await response).toBe('');
    expect(registry.requests()).toEqual([]);
  });
});

describe('seeding API', () => {
  test('putBlob and putManifest store content that putManifest checks like a push', () => {
    const registry = createMemoryRegistry();
    const config = registry.putBlob('app', '{}');
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: config, size: 2 },
      layers: [],
    });
    const digest = registry.putManifest('app', 'v1', manifest, MEDIA_TYPES.ociManifest);
    expect(registry.getManifest('app', 'v1')).toEqual({ digest, mediaType: MEDIA_TYPES.ociManifest, bytes: Buffer.from(manifest) });
    expect(registry.getManifest('app', digest)?.digest).toBe(digest);
    expect(() => registry.putManifest('other', 'v1', manifest, MEDIA_TYPES.ociManifest)).toThrow(
      expect.objectContaining({ code: 'MANIFEST_BLOB_UNKNOWN', message: expect.stringContaining(config) as unknown }),
    );
    expect(() => registry.putManifest('app', 'v1', '{', MEDIA_TYPES.ociManifest)).toThrow(
      expect.objectContaining({ code: 'MANIFEST_INVALID', cause: expect.objectContaining({ code: 'invalid_manifest' }) as unknown }),
    );
    expect(() => registry.putManifest('app', '-x', manifest, MEDIA_TYPES.ociManifest)).toThrow(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
    expect(() => registry.putBlob('App', 'x')).toThrow(expect.objectContaining({ code: 'NAME_INVALID', message: expect.stringContaining('"App"') as unknown }));
  });

  test('seedImage is deterministic for the same inputs and differs between tags', () => {
    const a = createMemoryRegistry().seedImage('app', ['1.0', 'latest'], { platforms: ['linux/amd64', 'linux/arm64/v8'], created: new Date('2025-01-01T00:00:00Z') });
    const b = createMemoryRegistry().seedImage('app', ['1.0', 'latest'], { platforms: ['linux/amd64', 'linux/arm64/v8'], created: '2025-01-01T00:00:00Z' });
    expect(b.digest).toBe(a.digest);
    const registry = createMemoryRegistry();
    const one = registry.seedImage('app', '1.0');
    const two = registry.seedImage('app', '1.1');
    expect(two.digest).not.toBe(one.digest);
    // An explicit seed makes two tags (or repositories) share an image.
    expect(registry.seedImage('app', '1.2', { seed: 's' }).digest).toBe(registry.seedImage('other', 'x', { seed: 's' }).digest);
  });

  test('seedImage with platforms stores the index, every child manifest and every blob', () => {
    const registry = createMemoryRegistry();
    const image = registry.seedImage('app', ['v1', 'stable'], { platforms: ['linux/amd64', 'linux/arm64/v8'], layers: 2 });
    expect(registry.tags('app')).toEqual(['stable', 'v1']);
    expect(registry.getManifest('app', 'v1')).toMatchObject({ digest: image.digest, mediaType: MEDIA_TYPES.ociIndex });
    for (const child of image.images) {
      expect(registry.getManifest('app', child.digest)?.bytes.equals(child.bytes)).toBe(true);
      for (const blob of [child.configDigest, ...child.layerDigests]) expect(registry.getBlob('app', blob)).toBeDefined();
    }
  });

  test('seedImage in Docker format and bad tags', () => {
    const registry = createMemoryRegistry();
    expect(registry.seedImage('app', 'v1', { format: 'docker' }).mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(() => registry.seedImage('app', 'bad tag')).toThrow(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
  });

  test('deleteManifest, repositories and tags', () => {
    const registry = createMemoryRegistry();
    registry.seedImage('b', ['x', 'y']);
    registry.seedImage('a', 'z');
    expect(registry.repositories()).toEqual(['a', 'b']);
    expect(registry.deleteManifest('b', 'x')).toBe(true);
    expect(registry.deleteManifest('b', 'x')).toBe(false);
    expect(registry.tags('b')).toEqual(['y']);
    expect(registry.tags('missing')).toEqual([]);
  });
});
