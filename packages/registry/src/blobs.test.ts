import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { json, startServer, testClient } from './http.fixture.ts';
import type { Handler } from './http.fixture.ts';
import { computeDigest } from '@scanner/image';

const blob = randomBytes(256 * 1024);
const digest = computeDigest(blob);

async function readAll(stream: ReadableStream<Uint8Array>): Promise<{ bytes: Buffer; error: unknown }> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { bytes: Buffer.concat(chunks), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

/** Serves `blob`, honouring Range when `ranges`; the first `breaks` responses are cut after `cutAt` bytes. */
function flakyBlob(options: { breaks: number; cutAt: number; ranges: boolean }): Handler {
  let broken = 0;
  return (request, response) => {
    const range = options.ranges ? /^bytes=(\d+)-$/.exec(request.headers.range ?? '') : null;
    const start = range ? Number(range[1]) : 0;
    const body = blob.subarray(start);
    response.writeHead(range ? 206 : 200, {
      'content-length': body.byteLength,
      ...(range ? { 'content-range': `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}` } : {}),
    });
    if (broken < options.breaks) {
      broken++;
      response.write(body.subarray(0, options.cutAt), () => {
        setTimeout(() => response.socket?.destroy(), 10);
      });
      return;
    }
    response.end(body);
  };
}

describe('blobs', () => {
  test('streams and verifies a blob', async () => {
    await using registry = await startServer(flakyBlob({ breaks: 0, cutAt: 0, ranges: false }));
    await using t = testClient();
    const result = await t.client.getBlob(`${registry.host}/a/b`, digest);
    expect(result.size).toBe(blob.byteLength);
    const { bytes, error } = await readAll(result.stream);
    expect(error).toBeUndefined();
    expect(bytes.equals(blob)).toBe(true);
  });

  test('corrupted bytes: every byte is delivered, then the stream errors with digest_mismatch', async () => {
    const corrupted = Buffer.from(blob);
    corrupted[1000] = (corrupted[1000] ?? 0) ^ 0xff;
    await using registry = await startServer((_request, response) => {
      response.writeHead(200, { 'content-length': corrupted.byteLength }).end(corrupted);
    });
    await using t = testClient();
    const { bytes, error } = await readAll((await t.client.getBlob(`${registry.host}/a/b`, digest)).stream);
    expect(bytes.byteLength).toBe(blob.byteLength);
    expect(error).toMatchObject({ code: 'digest_mismatch', repository: 'a/b' });
  });

  test('a reset mid-body resumes with Range from the received offset', async () => {
    await using registry = await startServer(flakyBlob({ breaks: 2, cutAt: 50_000, ranges: true }));
    await using t = testClient();
    const { bytes, error } = await readAll((await t.client.getBlob(`${registry.host}/a/b`, digest)).stream);
    expect(error).toBeUndefined();
    expect(bytes.equals(blob)).toBe(true);
    const ranges = registry.requests.map((r) => r.headers.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges.slice(1).map((r) => Number(/\d+/.exec(r ?? '')?.[0]))).toEqual([expect.any(Number), expect.any(Number)]);
    expect(Number(/\d+/.exec(ranges[1] ?? '')?.[0])).toBeGreaterThanOrEqual(50_000);
    expect(t.events.filter((e) => e.type === 'warning' && e.code === 'blob_resumed')).toHaveLength(2);
  });

  test('a server that ignores Range: the download restarts and the delivered prefix is skipped', async () => {
    await using registry = await startServer(flakyBlob({ breaks: 1, cutAt: 70_000, ranges: false }));
    await using t = testClient();
    const { bytes, error } = await readAll((await t.client.getBlob(`${registry.host}/a/b`, digest)).stream);
    expect(error).toBeUndefined();
    expect(bytes.equals(blob)).toBe(true);
    expect(registry.requests).toHaveLength(2);
  });

  test('resumption is bounded', async () => {
    await using registry = await startServer(flakyBlob({ breaks: 100, cutAt: 10_000, ranges: true }));
    await using t = testClient({ blobResumes: 2 });
    const { error } = await readAll((await t.client.getBlob(`${registry.host}/a/b`, digest)).stream);
    expect(error).toMatchObject({ code: 'network' });
    expect(registry.requests).toHaveLength(3);
  });

  test('blobExists: 200 → true, 404 → false', async () => {
    await using registry = await startServer((request, response) => {
      if (request.url.endsWith(digest)) return response.writeHead(200, { 'content-length': blob.byteLength }).end();
      json(response, 404, {});
    });
    await using t = testClient();
    expect(await t.client.blobExists(`${registry.host}/a/b`, digest)).toBe(true);
    expect(await t.client.blobExists(`${registry.host}/a/b`, computeDigest('other'))).toBe(false);
    expect(registry.requests.map((r) => r.method)).toEqual(['HEAD', 'HEAD']);
  });

  test('a malformed digest is invalid_reference, before any request', async () => {
    await using t = testClient();
    await expect(t.client.getBlob('127.0.0.1:1/a/b', 'sha256:nothex')).rejects.toMatchObject({ code: 'invalid_reference' });
  });

  test('BLOB_UNKNOWN from the body', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
    });
    await using t = testClient();
    await expect(t.client.getBlob(`${registry.host}/a/b`, digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN', status: 404 });
  });
});
