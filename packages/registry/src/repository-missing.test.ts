import { describe, expect, test } from 'vitest';
import { MEDIA_TYPE_OCI_MANIFEST, computeDigest } from '@scanner/image';
import { createMemoryRegistry } from '@scanner/memory-registry';
import { failure } from './failure.fixture.ts';
import { json, startServer, testClient } from './http.fixture.ts';
import type { Handler } from './http.fixture.ts';
import { isRepositoryMissing } from './repository-missing.ts';

const blob = Buffer.from('layer bytes');
const digest = computeDigest(blob);
const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: blob.byteLength }, layers: [] }));

/** Blob HEADs answer 404 (nothing there); every write answers what `refuse` says. */
function refusing(refuse: (request: { method: string; url: string }) => { status: number; body?: unknown }): Handler {
  return (request, response) => {
    if (request.method === 'HEAD') {
      response.writeHead(404).end();
      return;
    }
    const { status, body } = refuse(request);
    if (body === undefined) response.writeHead(status, { 'content-type': 'text/plain' }).end('404 page not found\n');
    else json(response, status, body);
  };
}

describe('pushes to a repository that does not exist', () => {
  test('ECR: NAME_UNKNOWN on POST blobs/uploads/ and on the manifest PUT', async () => {
    const ecr = { errors: [{ code: 'NAME_UNKNOWN', message: "The repository with name 'team/app' does not exist in the registry with id '123456789012'" }] };
    await using server = await startServer(refusing(() => ({ status: 404, body: ecr })));
    await using t = testClient();
    const upload = await failure(t.client.uploadBlob(`${server.host}/team/app`, blob, { digest }));
    expect(upload).toMatchObject({ code: 'repository_not_found', status: 404, registry: server.host, repository: 'team/app' });
    expect(upload.message).toContain(`the repository ${server.host}/team/app does not exist`);
    expect(upload.message).toContain('create it');
    expect(upload.message).toContain("The repository with name 'team/app' does not exist");
    const put = await failure(t.client.putManifest(`${server.host}/team/app:1.0`, manifest, { mediaType: MEDIA_TYPE_OCI_MANIFEST }));
    expect(put).toMatchObject({ code: 'repository_not_found', repository: 'team/app' });
  });

  test('Harbor: NOT_FOUND "project … not found" on uploads and manifest PUTs, and on a cross-repository mount', async () => {
    const harbor = { errors: [{ code: 'NOT_FOUND', message: 'project team not found' }] };
    await using server = await startServer(refusing(() => ({ status: 404, body: harbor })));
    await using t = testClient();
    expect(await failure(t.client.uploadBlob(`${server.host}/team/app`, blob, { digest }))).toMatchObject({ code: 'repository_not_found' });
    expect(await failure(t.client.uploadBlob(`${server.host}/team/app`, blob, { digest, mountFrom: 'other/app' }))).toMatchObject({ code: 'repository_not_found' });
    expect(await failure(t.client.putManifest(`${server.host}/team/app:1.0`, manifest, { mediaType: MEDIA_TYPE_OCI_MANIFEST }))).toMatchObject({ code: 'repository_not_found' });
  });

  test('a plain 404 to POST blobs/uploads/, and a DENIED saying the namespace does not exist', async () => {
    await using plain = await startServer(refusing(() => ({ status: 404 })));
    await using denied = await startServer(refusing(() => ({ status: 403, body: { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied: namespace team does not exist' }] } })));
    await using t = testClient();
    expect(await failure(t.client.uploadBlob(`${plain.host}/team/app`, blob, { digest }))).toMatchObject({ code: 'repository_not_found' });
    expect(await failure(t.client.uploadBlob(`${denied.host}/team/app`, blob, { digest }))).toMatchObject({ code: 'repository_not_found', status: 403 });
  });

  test('other refusals keep their codes', async () => {
    await using server = await startServer(
      refusing((request) =>
        request.url.includes('/manifests/')
          ? { status: 400, body: { errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }] } }
          : { status: 403, body: { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] } },
      ),
    );
    await using t = testClient();
    expect(await failure(t.client.uploadBlob(`${server.host}/team/app`, blob, { digest }))).toMatchObject({ code: 'DENIED', status: 403 });
    const put = await failure(t.client.putManifest(`${server.host}/team/app:1.0`, manifest, { mediaType: MEDIA_TYPE_OCI_MANIFEST }));
    expect(put).toMatchObject({ code: 'MANIFEST_BLOB_UNKNOWN' });
    expect(put.message).toContain('blob unknown to registry');
    expect(isRepositoryMissing(404, { code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown to registry' }, 'manifest')).toBe(false);
    expect(isRepositoryMissing(500, { code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }, 'upload')).toBe(false);
  });

  test('a registry that creates repositories on push (the memory registry) accepts the same push', async () => {
    const memory = createMemoryRegistry();
    const { host } = await memory.listen();
    try {
      await using t = testClient();
      expect(await t.client.uploadBlob(`${host}/new/repo`, blob, { digest })).toMatchObject({ outcome: 'uploaded' });
      expect((await t.client.putManifest(`${host}/new/repo:1.0`, manifest, { mediaType: MEDIA_TYPE_OCI_MANIFEST })).digest).toBe(computeDigest(manifest));
    } finally {
      await memory.close();
    }
  });
});
