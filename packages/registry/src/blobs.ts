import { authorizedSend, repositoryScope } from './auth.ts';
import { RegistryError } from './errors.ts';
import { createDigester, parseDigest } from '@scanner/image/digest';
import { errorFromResponse } from './response-error.ts';
import { v2Url } from './session.ts';
import type { Session } from './session.ts';
import { discard, headerValue, transportError } from './transport.ts';
import type { SendResponse } from './transport.ts';

export interface GetBlobOptions {
  /** The size from the descriptor, checked against what arrives. */
  readonly size?: number;
  readonly signal?: AbortSignal;
}

/** A blob download in progress. */
export interface BlobResult {
  readonly digest: string;
  /** The size from the descriptor or `Content-Length`, when known. */
  readonly size: number | undefined;
  /**
   * The blob's bytes as a web `ReadableStream` (use `Readable.fromWeb` for a Node stream). The bytes are
   * hashed as they pass; if they do not match `digest` the stream errors with `digest_mismatch` instead of
   * closing. Read it to the end or `cancel()` it, so its connection is released.
   */
  readonly stream: ReadableStream<Uint8Array>;
}

/** Validates a digest given by the caller. */
export function checkedDigest(session: Session, digest: string, repository: string): ReturnType<typeof parseDigest> {
  try {
    return parseDigest(digest);
  } catch (error) {
    throw new RegistryError('invalid_reference', `${JSON.stringify(digest)} is not a digest (algorithm:hex)`, {
      registry: session.context.registry,
      repository,
      cause: error,
    });
  }
}

/**
 * Streams a blob, following redirects to storage without the registry's `Authorization`. A connection
 * reset mid-body resumes from the received offset with `Range: bytes=N-` (up to `blobResumes` times); if
 * the server answers 200 instead of 206 the download restarts and the bytes already delivered are skipped.
 */
export async function getBlob(session: Session, repository: string, digest: string, options: GetBlobOptions = {}): Promise<BlobResult> {
  const { context, runtime, limits } = session;
  const { algorithm } = checkedDigest(session, digest, repository);
  const url = v2Url(session, repository, `blobs/${digest}`);
  const scopes = [repositoryScope(repository, 'pull')];
  const base = { method: 'GET' as const, url, kind: 'blob' as const, repository, retry: true, signal: options.signal, scopes, releaseOnHeaders: true };
  const open = (offset: number): Promise<SendResponse> =>
    authorizedSend(context, runtime, offset === 0 ? base : { ...base, headers: { range: `bytes=${offset}-` } });

  let response = await open(0);
  if (response.status !== 200) throw await errorFromResponse(context, runtime, base, response, `fetching blob ${digest}`);
  const declared = headerValue(response.headers, 'content-length');
  const size = options.size ?? (declared === undefined ? undefined : Number(declared));
  const digester = createDigester(algorithm);
  let iterator = (response.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let offset = 0;
  let skip = 0;
  let resumes = 0;

  const fail = (code: 'digest_mismatch' | 'too_large', message: string): RegistryError =>
    new RegistryError(code, message, { registry: context.registry, repository });

  // Returns false when the stream has been errored.
  const resume = async (controller: ReadableStreamDefaultController<Uint8Array>, cause: unknown): Promise<boolean> => {
    response.body.destroy();
    if (options.signal?.aborted === true || resumes >= limits.blobResumes) {
      controller.error(transportError(context, runtime, base, cause));
      return false;
    }
    resumes++;
    runtime.emit({
      type: 'warning',
      code: 'blob_resumed',
      message: `download of ${digest} broke at byte ${offset}; resuming (${resumes}/${limits.blobResumes})`,
      registry: context.registry,
      repository,
    });
    let next: SendResponse;
    try {
      next = await open(offset);
    } catch (error) {
      controller.error(error);
      return false;
    }
    const range = /^bytes (\d+)-/.exec(headerValue(next.headers, 'content-range') ?? '');
    if (next.status === 206 && range !== null && Number(range[1]) === offset) {
      skip = 0;
    } else if (next.status === 200) {
      skip = offset;
    } else {
      controller.error(next.status === 206 ? fail('digest_mismatch', `the registry resumed ${digest} at the wrong offset`) : await errorFromResponse(context, runtime, base, next, `resuming blob ${digest}`));
      await discard(next.body);
      return false;
    }
    response = next;
    iterator = (next.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    return true;
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let result: IteratorResult<Buffer>;
          try {
            result = await iterator.next();
          } catch (error) {
            if (!(await resume(controller, error))) return;
            continue;
          }
          if (result.done) {
            if (size !== undefined && offset < size) {
              if (!(await resume(controller, new Error(`the body ended after ${offset} of ${size} bytes`)))) return;
              continue;
            }
            const actual = digester.digest();
            if (actual === digest) controller.close();
            else controller.error(fail('digest_mismatch', `blob ${digest} from ${context.registry}/${repository} hashed to ${actual}; the registry, its storage or a proxy altered it`));
            return;
          }
          let chunk: Buffer = result.value;
          if (skip > 0) {
            if (chunk.byteLength <= skip) {
              skip -= chunk.byteLength;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          offset += chunk.byteLength;
          if (size !== undefined && offset > size) {
            response.body.destroy();
            controller.error(fail('too_large', `blob ${digest} is larger than its ${size} bytes`));
            return;
          }
          digester.update(chunk);
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          return;
        }
      },
      cancel() {
        response.body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
  return { digest, size, stream };
}

/** Whether the repository holds the blob: HEAD, 200 → true, 404 → false. */
export async function blobExists(session: Session, repository: string, digest: string, options: { signal?: AbortSignal; actions?: 'pull' | 'pull,push' } = {}): Promise<boolean> {
  const { context, runtime } = session;
  checkedDigest(session, digest, repository);
  const request = {
    method: 'HEAD' as const,
    url: v2Url(session, repository, `blobs/${digest}`),
    kind: 'blob' as const,
    repository,
    retry: true,
    signal: options.signal,
    scopes: [repositoryScope(repository, options.actions ?? 'pull')],
  };
  const response = await authorizedSend(context, runtime, request);
  await discard(response.body);
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw await errorFromResponse(context, runtime, request, response, `checking blob ${digest}`);
}

/** A small blob (an image config) buffered in memory, verified, at most `maxBytes`. */
export async function getBlobBytes(session: Session, repository: string, digest: string, maxBytes: number, options: GetBlobOptions = {}): Promise<Uint8Array> {
  const blob = await getBlob(session, repository, digest, options);
  if (blob.size !== undefined && blob.size > maxBytes) {
    await blob.stream.cancel();
    throw new RegistryError('too_large', `blob ${digest} is ${blob.size} bytes, over the ${maxBytes}-byte limit`, {
      registry: session.context.registry,
      repository,
    });
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of blob.stream) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await blob.stream.cancel().catch(() => undefined);
      throw new RegistryError('too_large', `blob ${digest} is over the ${maxBytes}-byte limit`, { registry: session.context.registry, repository });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
