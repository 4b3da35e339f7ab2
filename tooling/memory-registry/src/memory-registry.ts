import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { isIndexMediaType } from '@scanner/image';
import { MemoryRegistryError } from './errors.ts';
import { isDigestReference, isRepositoryName, isTag } from './grammar.ts';
import { createRequestHandler } from './handler.ts';
import { buildImage } from './image-builder.ts';
import type { BuildImageOptions, BuiltImage } from './image-builder.ts';
import type { RecordedRequest } from './request-log.ts';
import { RegistryStore } from './store.ts';

/** Options of `createMemoryRegistry`. */
export interface MemoryRegistryOptions {
  /** When set, every request needs these Basic credentials; others get 401 with `WWW-Authenticate: Basic`. */
  auth?: { username: string; password: string };
  /** Realm of the `WWW-Authenticate` challenge. @default 'memory-registry' */
  realm?: string;
  /** Largest blob accepted (whole upload); larger bodies get 413. @default 536870912 (512 MiB) */
  maxBlobBytes?: number;
  /** Largest manifest accepted; larger bodies get 413. @default 4194304 (4 MiB) */
  maxManifestBytes?: number;
  /** Sent as `OCI-Chunk-Min-Length` when an upload starts (advisory: smaller chunks are still accepted). */
  chunkMinLength?: number;
  /**
   * Caps `n` of tag and catalog listings and is the page size when `n` is absent, to make clients paginate
   * like they must against Docker Hub or GHCR. @default undefined (no cap: one page holds everything)
   */
  maxPageSize?: number;
  /** Called with each answered request, after it is recorded and before the response is sent. */
  onRequest?: (request: RecordedRequest) => void;
}

/** Options of `listen`. */
export interface ListenOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

/** Where a listening registry answers. */
export interface RegistryAddress {
  /** `http://127.0.0.1:54321`: for clients that take a base URL. */
  origin: string;
  /** `127.0.0.1:54321`: the registry part of an image reference. */
  host: string;
  /** `http://127.0.0.1:54321/v2/`: the API root. */
  url: string;
  port: number;
}

/** A manifest as the registry stores it. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** An in-memory OCI distribution registry. Nothing listens until `listen()`. */
export interface MemoryRegistry extends AsyncDisposable {
  /** Starts the HTTP server. Throws `ALREADY_LISTENING` if it already runs. */
  listen(options?: ListenOptions): Promise<RegistryAddress>;
  /** Stops the server and drops open connections; the stored content stays. Safe to call twice. */
  close(): Promise<void>;
  /** The address while listening. */
  readonly address: RegistryAddress | undefined;
  /** Requests answered since the start or the last `resetRequests()`, oldest first. */
  requests(): RecordedRequest[];
  resetRequests(): void;
  /** Stores a blob in a repository (creating it); returns its sha256 digest. */
  putBlob(repository: string, bytes: Uint8Array | string): string;
  /**
   * Stores a manifest under a tag or its digest with the same checks as a push (parses, `mediaType` matches,
   * referenced blobs and child manifests are in the repository); returns its digest.
   */
  putManifest(repository: string, reference: string, bytes: Uint8Array | string, mediaType: string): string;
  /** Builds an image (see `buildImage`), stores its blobs and manifests, and tags it. */
  seedImage(repository: string, tags: string | readonly string[], options?: BuildImageOptions): BuiltImage;
  /** A manifest by tag or digest. */
  getManifest(repository: string, reference: string): ManifestRecord | undefined;
  /** The bytes of a blob in a repository. */
  getBlob(repository: string, digest: string): Buffer | undefined;
  /** Removes a tag, or a manifest (and its tags) by digest; false when there was nothing to remove. */
  deleteManifest(repository: string, reference: string): boolean;
  /** Repository names in byte order. */
  repositories(): string[];
  /** Tags of a repository in byte order (empty when it does not exist). */
  tags(repository: string): string[];
}

const MiB = 1024 * 1024;

/** Creates an in-memory registry; call `listen()` to serve it over HTTP. */
export function createMemoryRegistry(options: MemoryRegistryOptions = {}): MemoryRegistry {
  const store = new RegistryStore();
  let log: RecordedRequest[] = [];
  let server: Server | undefined;
  let address: RegistryAddress | undefined;
  const handler = createRequestHandler(store, {
    auth: options.auth,
    realm: options.realm ?? 'memory-registry',
    maxBlobBytes: options.maxBlobBytes ?? 512 * MiB,
    maxManifestBytes: options.maxManifestBytes ?? 4 * MiB,
    chunkMinLength: options.chunkMinLength,
    maxPageSize: options.maxPageSize,
    record: (entry) => {
      log.push(entry);
      try {
        options.onRequest?.(entry);
      } catch (error) {
        // A failing hook must not change the response; rethrown outside the request so the test runner reports it.
        queueMicrotask(() => {
          throw error;
        });
      }
    },
  });

  const putManifest = (repository: string, reference: string, bytes: Uint8Array | string, mediaType: string): string => {
    checkName(repository);
    if (!isTag(reference) && !isDigestReference(reference)) {
      throw new MemoryRegistryError('REFERENCE_INVALID', `"${reference}" is neither a tag nor a digest`);
    }
    const result = store.putManifest(repository, reference, Buffer.from(bytes), mediaType);
    if (result.ok) return result.manifest.digest;
    const { rejection } = result;
    const message = rejection.code === 'MANIFEST_BLOB_UNKNOWN' ? `${rejection.message}: ${rejection.missing.join(', ')}` : rejection.message;
    throw new MemoryRegistryError(rejection.code, message, rejection.code === 'MANIFEST_INVALID' ? { cause: rejection.cause } : undefined);
  };

  const close = async (): Promise<void> => {
    const running = server;
    server = undefined;
    address = undefined;
    if (running === undefined) return;
    const closed = new Promise<void>((resolve) => running.close(() => { resolve(); }));
    running.closeAllConnections();
    await closed;
  };

  return {
    async listen({ port = 0, host = '127.0.0.1' } = {}) {
      if (server !== undefined) throw new MemoryRegistryError('ALREADY_LISTENING', `already listening on ${address?.origin ?? 'a port'}; close() it first`);
      const created = createServer(handler);
      server = created;
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject);
        created.listen(port, host, () => { created.off('error', reject); resolve(); });
      });
      const bound = created.address();
      if (bound === null || typeof bound === 'string') throw new Error('memory-registry: the server has no TCP address');
      const hostPart = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
      address = { origin: `http://${hostPart}`, host: hostPart, url: `http://${hostPart}/v2/`, port: bound.port };
      return address;
    },
    close,
    [Symbol.asyncDispose]: close,
    get address() {
      return address;
    },
    requests: () => [...log],
    resetRequests: () => {
      log = [];
    },
    putBlob(repository, bytes) {
      checkName(repository);
      return store.putBlob(repository, Buffer.from(bytes));
    },
    putManifest,
    seedImage(repository, tags, imageOptions = {}) {
      checkName(repository);
      const tagList = typeof tags === 'string' ? [tags] : [...tags];
      for (const tag of tagList) if (!isTag(tag)) throw new MemoryRegistryError('REFERENCE_INVALID', `"${tag}" is not a valid tag`);
      const image = buildImage({ seed: `${repository}:${tagList.join(',')}`, ...imageOptions });
      for (const [digest, bytes] of image.blobs) store.putBlob(repository, bytes, digest);
      if (isIndexMediaType(image.mediaType)) for (const child of image.images) putManifest(repository, child.digest, child.bytes, child.mediaType);
      putManifest(repository, image.digest, image.bytes, image.mediaType);
      for (const tag of tagList) putManifest(repository, tag, image.bytes, image.mediaType);
      return image;
    },
    getManifest(repository, reference) {
      const manifest = store.getManifest(repository, reference);
      return manifest === undefined ? undefined : { digest: manifest.digest, mediaType: manifest.mediaType, bytes: manifest.bytes };
    },
    getBlob: (repository, digest) => store.getBlob(repository, digest),
    deleteManifest: (repository, reference) => store.deleteManifest(repository, reference),
    repositories: () => store.repositoryNames(),
    tags: (repository) => store.tagNames(repository) ?? [],
  };
}

function checkName(repository: string): void {
  if (!isRepositoryName(repository)) {
    throw new MemoryRegistryError('NAME_INVALID', `"${repository}" is not a valid repository name (lowercase path components like "library/nginx")`);
  }
}
