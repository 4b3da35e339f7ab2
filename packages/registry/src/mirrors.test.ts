import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseImageReference } from '@scanner/image';
import { buildImage, hasBinary, seedImage, startRegistry } from '@scanner/test-lab';
import type { BuiltImage, Registry } from '@scanner/test-lab';
import { createRegistryClient } from './client.ts';
import type { RegistryClient } from './client.ts';
import type { RegistryEvent, RequestEvent, WarningEvent } from './events.ts';
import { expectFailure } from './failure.fixture.ts';
import { json, startServer } from './http.fixture.ts';
import { mirrorReferences, parseMirrorLocation } from './mirrors.ts';
import { parseRegistriesConfig, resolveRegistrySettings } from './registries-config.ts';
import type { RegistriesConfig } from './registries-config.ts';

const available = hasBinary('docker-registry') && hasBinary('skopeo');

async function configError(text: string): Promise<string> {
  try {
    await parseRegistriesConfig(text, { dockerConfig: false, env: {} });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('mirror locations', () => {
  test('host[/path-prefix], normalised', () => {
    expect(parseMirrorLocation('Mirror.GCR.io')).toEqual({ host: 'mirror.gcr.io', pathPrefix: '' });
    expect(parseMirrorLocation('127.0.0.1:5001/dockerhub/')).toEqual({ host: '127.0.0.1:5001', pathPrefix: 'dockerhub' });
    expect(() => parseMirrorLocation('https://mirror.gcr.io')).toThrow(/has a scheme/);
    expect(() => parseMirrorLocation('mirror.gcr.io/Docker Hub')).toThrow(/lower-case/);
  });

  test('a reference maps to each mirror in order, under its path prefix, keeping library/ and tag and digest', () => {
    const nginx = parseImageReference('docker.io/library/nginx:1.25');
    expect(mirrorReferences(nginx, ['mirror.gcr.io', '127.0.0.1:5001/dockerhub']).map(String)).toEqual([
      'mirror.gcr.io/library/nginx:1.25',
      '127.0.0.1:5001/dockerhub/library/nginx:1.25',
    ]);
    const pinned = parseImageReference(`quay.io/org/app@sha256:${'b'.repeat(64)}`);
    expect(mirrorReferences(pinned, ['quay-mirror.local/quay']).map(String)).toEqual([`quay-mirror.local/quay/org/app@sha256:${'b'.repeat(64)}`]);
    expect(mirrorReferences(nginx, [])).toEqual([]);
  });
});

describe('registries config: mirrors and ratelimit_floor', () => {
  test('are read onto the entry settings; a mirror host gets its own settings and credentials', async () => {
    const config = await parseRegistriesConfig(
      `registries:
  - name: Docker Hub
    prefix: docker.io
    credentials: hub-user:hub-pass
    ratelimit_floor: 20
    mirrors: [mirror.gcr.io, 127.0.0.1:5001/dockerhub]
  - name: Local mirror
    prefix: 127.0.0.1:5001
    credentials: mirror-user:mirror-pass
`,
      { dockerConfig: false, env: {} },
    );
    const hub = config.match('docker.io/library/nginx');
    expect(hub.mirrors).toEqual(['mirror.gcr.io', '127.0.0.1:5001/dockerhub']);
    expect(hub.rateLimitFloor).toBe(20);
    const local = config.match('127.0.0.1:5001/dockerhub/library/nginx');
    expect(local.mirrors).toBeUndefined();
    expect(await local.credentials?.get()).toEqual({ kind: 'basic', username: 'mirror-user', password: 'mirror-pass' });
    expect(await hub.credentials?.get()).toEqual({ kind: 'basic', username: 'hub-user', password: 'hub-pass' });
    // A mirror without an entry gets its host's defaults: no credentials of the registry it mirrors.
    expect(config.match('mirror.gcr.io/library/nginx').credentials).toBeUndefined();
  });

  test('errors name the key path', async () => {
    const message = await configError(`registries:
  - name: Hub
    prefix: docker.io
    mirrors: ['https://mirror.gcr.io', 'ok.example', 'ok.example', docker.io, '']
    ratelimit_floor: -1
`);
    expect(message).toContain('registries[0].mirrors[0]: mirror "https://mirror.gcr.io" has a scheme');
    expect(message).toContain('registries[0].mirrors[4]: must not be empty');
    expect(message).toContain('registries[0].ratelimit_floor:');
    const second = await configError(`registries:
  - name: Hub
    prefix: docker.io
    mirrors: [ok.example, ok.example, docker.io]
`);
    expect(second).toContain('registries[0].mirrors[1]: "ok.example" is listed twice');
    expect(second).toContain(`registries[0].mirrors[2]: "docker.io" is this entry's own prefix`);
    expect(await configError(`registries:\n  - name: Hub\n    prefix: docker.io\n    mirrors: mirror.gcr.io\n`)).toContain('registries[0].mirrors: expected an array');
  });
});

function manifestGets(events: RegistryEvent[], registry: string): RequestEvent[] {
  return events.filter((event): event is RequestEvent => event.type === 'request' && event.kind === 'manifest' && event.method === 'GET' && event.registry === registry);
}

function fallthroughs(events: RegistryEvent[]): WarningEvent[] {
  return events.filter((event): event is WarningEvent => event.type === 'warning' && event.code === 'mirror_fallthrough');
}

describe.skipIf(!available)('read-through against the CNCF distribution registry', () => {
  let upstream: Registry;
  let mirror: Registry;
  let image: BuiltImage;
  let newer: BuiltImage;

  beforeAll(async () => {
    [upstream, mirror] = await Promise.all([startRegistry({ auth: 'basic' }), startRegistry({ auth: 'basic' })]);
    image = buildImage({ layers: [{ size: 20_000 }], seed: 'mirrors-1' });
    newer = buildImage({ layers: [{ size: 20_000 }], seed: 'mirrors-2' });
    await seedImage(upstream, 'library/app:1.0', image);
    await seedImage(upstream, 'library/app:2.0', newer);
    // The mirror serves Docker Hub-style paths under a prefix and has only 1.0; its 2.0 is stale (1.0's image).
    await seedImage(mirror, 'dockerhub/library/app:1.0', image);
    await seedImage(mirror, 'dockerhub/library/app:2.0', image);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([upstream.stop(), mirror.stop()]);
  });

  async function clientFor(extra: string = ''): Promise<{ client: RegistryClient; events: RegistryEvent[]; config: RegistriesConfig }> {
    const up = upstream.credentials!;
    const down = mirror.credentials!;
    const config = await parseRegistriesConfig(
      `registries:
  - name: upstream
    prefix: ${upstream.host}
    credentials: { username: ${up.username}, password: "${up.password}" }
    mirrors: [${mirror.host}/dockerhub]
  - name: mirror
    prefix: ${mirror.host}
    credentials: { username: ${down.username}, password: "${down.password}" }
${extra}`,
      { dockerConfig: false, env: {} },
    );
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({ settings: (host) => resolveRegistrySettings(host, { config }), onEvent: (event) => events.push(event) });
    return { client, events, config };
  }

  test('a tag is resolved at the registry with a HEAD and read from the mirror by digest; blobs come from the mirror', async () => {
    const { client, events } = await clientFor();
    try {
      expect((await client.mirrorsFor(`${upstream.host}/library/app:1.0`)).map(String)).toEqual([`${mirror.host}/dockerhub/library/app:1.0`]);
      const result = await client.getManifestViaMirrors(`${upstream.host}/library/app:1.0`);
      expect(result.digest).toBe(image.digest);
      expect(result.viaMirror).toBe(true);
      expect(String(result.source)).toBe(`${mirror.host}/dockerhub/library/app:1.0@${image.digest}`);
      expect(Buffer.from(result.bytes).equals(image.manifestBytes)).toBe(true);
      // The upstream saw no manifest GET (no "pull"), only the HEAD.
      expect(manifestGets(events, upstream.host)).toHaveLength(0);
      expect(events.some((event) => event.type === 'request' && event.method === 'HEAD' && event.registry === upstream.host)).toBe(true);
      const layer = image.layers[0]!;
      const blob = await client.getBlobViaMirrors(`${upstream.host}/library/app`, layer.digest, { size: layer.size });
      expect(blob.viaMirror).toBe(true);
      expect(Buffer.from(await new Response(blob.stream).arrayBuffer()).equals(image.blobs.get(layer.digest)!)).toBe(true);
      expect(fallthroughs(events)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  test('a stale mirror tag cannot substitute an image: the mirror lacks the digest, the registry serves it', async () => {
    const { client, events } = await clientFor();
    try {
      const result = await client.getManifestViaMirrors(`${upstream.host}/library/app:2.0`);
      expect(result.digest).toBe(newer.digest);
      expect(result.viaMirror).toBe(false);
      expect(String(result.source)).toBe(`${upstream.host}/library/app:2.0@${newer.digest}`);
      expect(fallthroughs(events)).toHaveLength(1);
      expect(fallthroughs(events)[0]?.message).toContain('MANIFEST_UNKNOWN');
      // An expected digest the registry does not have either: the registry's own error.
      await expectFailure(client.getManifestViaMirrors(`${upstream.host}/library/app`, { expectDigest: `sha256:${'0'.repeat(64)}` }), 'MANIFEST_UNKNOWN');
    } finally {
      await client.close();
    }
  });

  test('a mirror serving other bytes for the digest falls through (digest_mismatch); credentials stay with their host', async () => {
    const liar = await startServer((request, response) => {
      if (request.url.includes('/manifests/')) {
        response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(newer.manifestBytes);
        return;
      }
      if (request.url.includes('/blobs/')) {
        response.writeHead(200, { 'content-length': '5' }).end('wrong');
        return;
      }
      json(response, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'no' }] });
    });
    try {
      const { client, events } = await clientFor(`  - name: liar\n    prefix: ${liar.host}\n    credentials: liar-user:liar-pass\n`);
      try {
        const result = await client.getManifestViaMirrors(`${upstream.host}/library/app:1.0`, { mirrors: [liar.host, `${mirror.host}/dockerhub`] });
        expect(result).toMatchObject({ digest: image.digest, viaMirror: true });
        expect(result.source.registry).toBe(mirror.host);
        expect(fallthroughs(events)[0]?.message).toContain('digest_mismatch');
        // The liar never received the upstream's or the real mirror's credentials (it asked for none, so none at all).
        const upAuth = Buffer.from(`${upstream.credentials!.username}:${upstream.credentials!.password}`).toString('base64');
        const downAuth = Buffer.from(`${mirror.credentials!.username}:${mirror.credentials!.password}`).toString('base64');
        for (const request of liar.requests) {
          expect((request.headers.authorization ?? '')).not.toContain(upAuth);
          expect((request.headers.authorization ?? '')).not.toContain(downAuth);
        }
        // Both registries require their own basic credentials: reading from each proves each got its own.
        const direct = await client.getManifestViaMirrors(`${upstream.host}/library/app:2.0`, { mirrors: [] });
        expect(direct.viaMirror).toBe(false);
      } finally {
        await client.close();
      }
    } finally {
      await liar.close();
    }
  });

  test('a token-auth mirror (with its token server) serves by digest with its own credentials', async () => {
    const tokenMirror = await startRegistry({ auth: 'token' });
    try {
      await seedImage(tokenMirror, 'dockerhub/library/app:1.0', image);
      const seeded = tokenMirror.tokenServer!.requests().length;
      const events: RegistryEvent[] = [];
      const client = createRegistryClient({
        settings: {
          [upstream.host]: { mirrors: [`${tokenMirror.host}/dockerhub`], credentials: { description: 'upstream', get: () => Promise.resolve({ kind: 'basic', ...upstream.credentials! }) } },
          [tokenMirror.host]: { credentials: { description: 'mirror', get: () => Promise.resolve({ kind: 'basic', ...tokenMirror.credentials! }) } },
        },
        onEvent: (event) => events.push(event),
      });
      try {
        const result = await client.getManifestViaMirrors(`${upstream.host}/library/app:1.0`);
        expect(result).toMatchObject({ digest: image.digest, viaMirror: true });
        expect(result.source.registry).toBe(tokenMirror.host);
        expect(manifestGets(events, upstream.host)).toHaveLength(0);
        const ours = tokenMirror.tokenServer!.requests().slice(seeded);
        expect(ours.length).toBeGreaterThan(0);
        expect(ours.every((request) => request.grantType === 'basic' && request.account === tokenMirror.credentials!.username && request.status === 200)).toBe(true);
      } finally {
        await client.close();
      }
    } finally {
      await tokenMirror.stop();
    }
  });

  test('wrong mirror credentials fall through to the registry instead of failing the read', async () => {
    const events: RegistryEvent[] = [];
    const wrong = createRegistryClient({
      settings: {
        [upstream.host]: { mirrors: [`${mirror.host}/dockerhub`], credentials: { description: 'test', get: () => Promise.resolve({ kind: 'basic', ...upstream.credentials! }) } },
        [mirror.host]: { credentials: { description: 'test', get: () => Promise.resolve({ kind: 'basic', username: 'nobody', password: 'wrong-password' }) } },
      },
      onEvent: (event) => events.push(event),
    });
    try {
      const result = await wrong.getManifestViaMirrors(`${upstream.host}/library/app:1.0`);
      expect(result).toMatchObject({ digest: image.digest, viaMirror: false });
      expect(fallthroughs(events).at(-1)?.message).toContain('unauthorized');
      expect(fallthroughs(events).at(-1)?.message).not.toContain('wrong-password');
    } finally {
      await wrong.close();
    }
  });
});
