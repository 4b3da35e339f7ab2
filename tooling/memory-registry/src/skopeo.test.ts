import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hasBinary, tempDir } from '@scanner/test-lab';
import type { TempDir } from '@scanner/test-lab';
import { describe, expect, test } from 'vitest';
import { buildImage } from './image-builder.ts';
import { createMemoryRegistry } from './memory-registry.ts';
import { MEDIA_TYPES } from './media-types.ts';
import { writeOciLayout } from './oci-layout.ts';

const run = promisify(execFile);

/**
 * Runs skopeo hermetically: no system policy (`--insecure-policy`), an empty registries.conf, and a private
 * HOME so its auth file and blob-info cache stay inside the temp dir.
 */
async function skopeoIn(dir: TempDir): Promise<(args: string[]) => Promise<{ stdout: string; stderr: string }>> {
  const registriesConf = join(dir.path, 'registries.conf');
  await writeFile(registriesConf, '');
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir.path,
    XDG_RUNTIME_DIR: dir.path,
    REGISTRIES_CONFIG_PATH: registriesConf,
    REGISTRY_AUTH_FILE: join(dir.path, 'auth.json'),
  };
  return (args) => run('skopeo', ['--insecure-policy', '--tmpdir', dir.path, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
}

const sha256Hex = (digest: string) => digest.slice('sha256:'.length);

describe.skipIf(!hasBinary('skopeo'))('interop with skopeo', () => {
  test('copies an OCI image in, inspects it raw and copies it out unchanged', async () => {
    await using dir = await tempDir('memory-registry-skopeo-');
    await using registry = createMemoryRegistry();
    const { host } = await registry.listen();
    const skopeo = await skopeoIn(dir);
    const image = buildImage({ seed: 'interop', layers: 2, labels: { 'org.opencontainers.image.version': '1.0.0' } });
    const layout = join(dir.path, 'layout');
    await writeOciLayout(layout, image, { tag: 'v1' });

    await skopeo(['copy', '--retry-times', '0', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${host}/team/app:v1`]);
    const stored = registry.getManifest('team/app', 'v1');
    expect(stored?.digest).toBe(image.digest);
    expect(stored?.bytes.equals(image.bytes)).toBe(true);
    for (const [digest, bytes] of image.blobs) expect(registry.getBlob('team/app', digest)?.equals(bytes)).toBe(true);
    const pushes = registry.requests().filter((entry) => entry.status === 201).map((entry) => `${entry.method} ${entry.route}`);
    expect(pushes).toContain('PUT manifest');
    expect(pushes.filter((entry) => entry.endsWith('upload'))).toHaveLength(image.blobs.size);

    const { stdout: raw } = await skopeo(['inspect', '--retry-times', '0', '--raw', '--tls-verify=false', `docker://${host}/team/app:v1`]);
    expect(raw).toBe(image.bytes.toString('utf8'));
    const { stdout: inspected } = await skopeo(['inspect', '--retry-times', '0', '--tls-verify=false', `docker://${host}/team/app:v1`]);
    expect(JSON.parse(inspected)).toMatchObject({ Digest: image.digest, RepoTags: ['v1'], Labels: { 'org.opencontainers.image.version': '1.0.0' } });

    const out = join(dir.path, 'out');
    await skopeo(['copy', '--retry-times', '0', '--src-tls-verify=false', `docker://${host}/team/app:v1`, `dir:${out}`]);
    expect((await readFile(join(out, 'manifest.json'))).equals(image.bytes)).toBe(true);
    for (const [digest, bytes] of image.blobs) expect((await readFile(join(out, sha256Hex(digest)))).equals(bytes)).toBe(true);
  });

  test('copies a multi-arch index with --all in and out', async () => {
    await using dir = await tempDir('memory-registry-skopeo-');
    await using registry = createMemoryRegistry();
    const { host } = await registry.listen();
    const skopeo = await skopeoIn(dir);
    const image = buildImage({ seed: 'multi', platforms: ['linux/amd64', 'linux/arm64/v8'], annotations: { 'org.example': 'x' } });
    const layout = join(dir.path, 'layout');
    await writeOciLayout(layout, image, { tag: 'v2' });

    await skopeo(['copy', '--retry-times', '0', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v2`, `docker://${host}/multi:v2`]);
    expect(registry.getManifest('multi', 'v2')).toMatchObject({ digest: image.digest, mediaType: MEDIA_TYPES.ociIndex });
    for (const child of image.images) expect(registry.getManifest('multi', child.digest)?.bytes.equals(child.bytes)).toBe(true);

    const { stdout: raw } = await skopeo(['inspect', '--retry-times', '0', '--raw', '--tls-verify=false', `docker://${host}/multi:v2`]);
    expect(raw).toBe(image.bytes.toString('utf8'));

    const out = join(dir.path, 'out');
    await skopeo(['copy', '--retry-times', '0', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/multi:v2`, `oci:${out}:v2`]);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((entry) => entry.digest)).toEqual([image.digest]);
    for (const child of image.images) {
      expect((await readFile(join(out, 'blobs', 'sha256', sha256Hex(child.digest)))).equals(child.bytes)).toBe(true);
    }
    for (const [digest, bytes] of image.blobs) {
      expect((await readFile(join(out, 'blobs', 'sha256', sha256Hex(digest)))).equals(bytes)).toBe(true);
    }
  });

  test('reads a seeded Docker schema2 image and mounts blobs across repositories', async () => {
    await using dir = await tempDir('memory-registry-skopeo-');
    await using registry = createMemoryRegistry();
    const { host } = await registry.listen();
    const skopeo = await skopeoIn(dir);
    const image = registry.seedImage('docker/app', 'v1', { format: 'docker', layers: 2 });

    const out = join(dir.path, 'out');
    await skopeo(['copy', '--retry-times', '0', '--src-tls-verify=false', `docker://${host}/docker/app:v1`, `dir:${out}`]);
    expect((await readFile(join(out, 'manifest.json'))).equals(image.bytes)).toBe(true);

    registry.resetRequests();
    await skopeo(['copy', '--retry-times', '0', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/docker/app:v1`, `docker://${host}/docker/copy:v1`]);
    expect(registry.getManifest('docker/copy', 'v1')?.digest).toBe(image.digest);
    // skopeo learned where the blobs live while pulling, so it mounts them instead of uploading the bytes again.
    const mounts = registry.requests().filter((entry) => entry.route === 'upload' && entry.query.includes('mount=') && entry.status === 201);
    expect(mounts.length).toBeGreaterThan(0);
  });

  test('pushes with Basic credentials and is refused without them', async () => {
    await using dir = await tempDir('memory-registry-skopeo-');
    await using registry = createMemoryRegistry({ auth: { username: 'alice', password: 'pa55' } });
    const { host } = await registry.listen();
    const skopeo = await skopeoIn(dir);
    const image = buildImage({ seed: 'auth' });
    const layout = join(dir.path, 'layout');
    await writeOciLayout(layout, image, { tag: 'v1' });
    const copy = (extra: string[]) =>
      skopeo(['copy', '--retry-times', '0', '--preserve-digests', '--dest-tls-verify=false', ...extra, `oci:${layout}:v1`, `docker://${host}/private:v1`]);

    await expect(copy([])).rejects.toThrow(/401|unauthorized|authentication required/i);
    expect(registry.getManifest('private', 'v1')).toBeUndefined();
    await copy(['--dest-creds', 'alice:pa55']);
    expect(registry.getManifest('private', 'v1')?.digest).toBe(image.digest);
  });
});
