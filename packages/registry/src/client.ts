import { setTimeout as delay } from 'node:timers/promises';
import type { ImageReference, Platform } from '@scanner/image';
import type { BlobResult, GetBlobOptions } from './blobs.ts';
import { resolveEndpoint } from './endpoint.ts';
import { RegistryError } from './errors.ts';
import { clientEmitters, createEmitter } from './events.ts';
import type { RegistryEvent } from './events.ts';
import { createImageReference } from '@scanner/image/reference';
import type { ImageConfig } from '@scanner/image';
import { getManifest, resolveDigest } from './manifests.ts';
import type { GetManifestOptions, ManifestResult } from './manifests.ts';
import type { ImageMetadata, ImageMetadataOptions } from './metadata.ts';
import type { TagListOptions, TagPage } from './pagination.ts';
import type { HttpEngineName } from './http-engine.ts';
import type { RateLimitInfo, Sleep } from './rate-limit.ts';
import type { ClientLimits, Session } from './session.ts';
import type { RegistrySettings } from './settings.ts';
import { parseReference } from './reference-resolution.ts';
import { DEFAULT_OPERATION_TIMEOUT_MS, withOperationTimeout } from './operation-timeout.ts';
import { createTokenCache } from './token-cache.ts';
import { closeRegistryContext, createRegistryContext } from './transport.ts';
import type { RegistryContext, Runtime } from './transport.ts';
import type { AuthRuntime } from './auth.ts';
import type { CopyImageResult, CopyOptions } from './copy.ts';
import { createSyncMethods } from './sync-methods.ts';
import type { MirrorMethods, ReferrerMethods } from './sync-methods.ts';
import type { PutManifestOptions, PutManifestResult, UploadBlobOptions, UploadBlobResult, UploadSource } from './upload.ts';

/** Settings overrides for one registry; `registry` is filled in, `origin` defaults to `resolveEndpoint`. */
export type RegistrySettingsInput = Partial<RegistrySettings>;

/**
 * Where per-registry settings come from: a function of the registry host (may be async, e.g. reading a
 * config file once), or a static map keyed by registry host. Absent entries get defaults: HTTPS (plain HTTP
 * for loopback hosts), `docker.io` → `https://registry-1.docker.io`, no credentials.
 */
export type RegistrySettingsSource =
  | ((registry: string) => RegistrySettingsInput | undefined | Promise<RegistrySettingsInput | undefined>)
  | Readonly<Record<string, RegistrySettingsInput>>;

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions {
  /** Per-registry origin, credentials, TLS, limits. @default defaults for every registry */
  readonly settings?: RegistrySettingsSource;
  /**
   * Where reference strings that name no registry (`nginx`, `lab/web:1.2`) go: the host of a registries config
   * entry with `default: true`, as Argo CD Image Updater reads it (`createRegistryClientFromConfig` sets it from
   * the file). Docker's normalisation (`docker.io/library/…`) applies only when names go to Docker Hub. Parsed
   * references (`ImageReference` objects) already carry their registry and are taken as they are.
   * @default 'docker.io'
   */
  readonly defaultRegistry?: string;
  /** Sees every request, response, retry and warning (also published on `node:diagnostics_channel`). */
  readonly onEvent?: (event: RegistryEvent) => void;
  /** @default '@scanner/registry' */
  readonly userAgent?: string;
  /**
   * The HTTP/1.1 client that sends requests. `undici`: undici's connection pools, for many concurrent
   * requests and long-lived processes. `node`: Node's built-in `node:http`/`node:https` with keep-alive
   * agents, which a process loads about 50 ms sooner (it is part of the Node binary); for short processes that
   * send a few requests, such as one `scanner digest` per image. Time-outs, TLS settings, redirects, retries
   * and errors are the same with either.
   * @default 'undici'
   */
  readonly httpEngine?: HttpEngineName;
  /** Retries of idempotent requests after 429, 5xx and connection errors. @default 3 */
  readonly retries?: number;
  /** @default 250 */
  readonly retryBaseMs?: number;
  /** @default 10000 */
  readonly retryMaxMs?: number;
  /** A `Retry-After` longer than this is not waited for: the request fails with `rate_limited`. @default 60000 */
  readonly retryAfterMaxMs?: number;
  /**
   * Longest time one call may take, every request, retry and backoff included (listing all tags, resolving a
   * digest, fetching metadata, putting a manifest); it then fails with `timeout`. A registry's
   * `settings.operationTimeoutMs` (registries config `operation_timeout`) overrides it. Blob transfers
   * (`getBlob`, `uploadBlob`, `copyBlob`, `copyImage`) and `pageTags` are bounded per request by `timeoutMs` only.
   * @default 60000
   */
  readonly operationTimeoutMs?: number;
  /** @default 5 */
  readonly maxRedirects?: number;
  /** Largest manifest or index accepted. @default 4194304 (4 MiB) */
  readonly maxManifestBytes?: number;
  /** Largest image config accepted. @default 8388608 (8 MiB) */
  readonly maxConfigBytes?: number;
  /** Largest tag list page accepted. @default 33554432 (32 MiB) */
  readonly maxTagPageBytes?: number;
  /** Pages of `tags/list` followed at most (then a `page_cap` warning). @default 10000 */
  readonly maxPages?: number;
  /** Default `n` for `tags/list` when the registry's settings have no `pageSize`. @default 1000 */
  readonly pageSize?: number;
  /** Resumptions of one blob download after a broken connection. @default 3 */
  readonly blobResumes?: number;
  /** Chunk size of chunked uploads (raised to the registry's `OCI-Chunk-Min-Length`). @default 8388608 (8 MiB) */
  readonly chunkSizeBytes?: number;
  /** Bearer tokens are dropped this long before they expire (at most half their lifetime). @default 10000 */
  readonly tokenMarginMs?: number;
  /** For tests: replaces timers in backoff and rate limiting. @default node:timers/promises setTimeout */
  readonly sleep?: Sleep;
  /** For tests: the jitter source, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** For tests: the clock of token expiry and rate limiting. @default Date.now */
  readonly now?: () => number;
}

/** A reference string (`ghcr.io/org/app:1.2`) or a parsed reference. */
export type ReferenceInput = string | ImageReference;

/** A registry client. Every method takes `signal` in its options; see the README for the request budget of each. */
export interface RegistryClient extends MirrorMethods, ReferrerMethods, AsyncDisposable {
  /**
   * The reference as this client reads it: a name without a registry goes to `defaultRegistry`, and that
   * registry's `defaultNamespace` is applied to single-component repositories. Use it to key or display what a
   * call will fetch. @throws {RegistryError} `invalid_reference`
   */
  resolveReference(input: ReferenceInput): Promise<ImageReference>;
  /** All tags of a repository (`ghcr.io/org/app`; a tag or digest in the reference is ignored). */
  listTags(repository: ReferenceInput, options?: TagListOptions): Promise<string[]>;
  /** The tag list page by page. */
  pageTags(repository: ReferenceInput, options?: TagListOptions): AsyncIterable<TagPage>;
  /** The digest of a tag (HEAD, GET fallback), or of one platform's manifest with `platform`. */
  resolveDigest(reference: ReferenceInput, options?: GetManifestOptions): Promise<string>;
  /** A manifest or index with its raw bytes, media type and verified digest. */
  getManifest(reference: ReferenceInput, options?: GetManifestOptions): Promise<ManifestResult>;
  /** The image config of a single image (or of `platform` in an index). */
  getImageConfig(reference: ReferenceInput, options?: GetManifestOptions): Promise<{ readonly digest: string; readonly config: ImageConfig; readonly bytes: Uint8Array }>;
  /** Created time, labels, annotations and platform, per platform for an index. */
  getImageMetadata(reference: ReferenceInput, options?: ImageMetadataOptions): Promise<ImageMetadata>;
  /** Streams a blob, verifying its digest. */
  getBlob(repository: ReferenceInput, digest: string, options?: GetBlobOptions): Promise<BlobResult>;
  blobExists(repository: ReferenceInput, digest: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  /**
   * Uploads a blob (monolithic for bytes or a stream of known digest and size, else chunked); skips it when
   * present, or mounts it with `mountFrom`. `source` may be a function, called only if data must be sent.
   */
  uploadBlob(repository: ReferenceInput, source: UploadSource | (() => Promise<UploadSource>), options?: UploadBlobOptions): Promise<UploadBlobResult>;
  /** PUTs manifest bytes exactly as given under the reference's tag or digest. */
  putManifest(reference: ReferenceInput, bytes: Uint8Array, options: PutManifestOptions): Promise<PutManifestResult>;
  /** Copies one blob between repositories: mount within a registry, else stream GET → PUT. */
  copyBlob(from: ReferenceInput, to: ReferenceInput, descriptor: { readonly digest: string; readonly size: number }, options?: { signal?: AbortSignal }): Promise<UploadBlobResult>;
  /** Copies a manifest or an index with all children and blobs; digests are preserved. */
  copyImage(from: ReferenceInput, to: ReferenceInput, options?: CopyOptions): Promise<CopyImageResult>;
  /** The last `RateLimit-*` figures the registry sent (Docker Hub), or undefined. */
  rateLimit(registry: string): RateLimitInfo | undefined;
  /** The settings in use for a registry, after defaults. */
  settingsFor(registry: string): Promise<RegistrySettings>;
  /** Closes the connection pools. The client must not be used afterwards. Also `await using client = …`. */
  close(): Promise<void>;
}

const DEFAULT_LIMITS: ClientLimits = {
  maxManifestBytes: 4 * 1024 * 1024,
  maxConfigBytes: 8 * 1024 * 1024,
  maxTagPageBytes: 32 * 1024 * 1024,
  maxPages: 10_000,
  pageSize: 1000,
  blobResumes: 3,
  chunkSizeBytes: 8 * 1024 * 1024,
};

const defaultSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal === undefined ? {} : { signal });
};

/** Internal: what `createRegistryClient` shares with the write operations. */
export interface ClientCore {
  readonly runtime: AuthRuntime;
  readonly limits: ClientLimits;
  /** The client's `operationTimeoutMs` (see {@link RegistryClientOptions.operationTimeoutMs}). */
  readonly operationTimeoutMs: number;
  session(registry: string): Promise<Session>;
  reference(input: ReferenceInput, settings?: RegistrySettings): Promise<{ session: Session; reference: ImageReference }>;
  contexts(): RegistryContext[];
}

function toReference(input: ReferenceInput, defaultRegistry: string | undefined): ImageReference {
  if (typeof input !== 'string') return input;
  return parseReference(input, { defaultRegistry });
}

/** Builds the shared core; exported for the write path, not part of the public API. */
export function createClientCore(options: RegistryClientOptions = {}): ClientCore {
  const now = options.now ?? Date.now;
  const base: Runtime = {
    retry: {
      retries: options.retries ?? 3,
      retryBaseMs: options.retryBaseMs ?? 250,
      retryMaxMs: options.retryMaxMs ?? 10_000,
      retryAfterMaxMs: options.retryAfterMaxMs ?? 60_000,
    },
    maxRedirects: options.maxRedirects ?? 5,
    userAgent: options.userAgent ?? '@scanner/registry',
    httpEngine: options.httpEngine ?? 'undici',
    sleep: options.sleep ?? defaultSleep,
    random: options.random ?? Math.random,
    now,
    emit: createEmitter(options.onEvent),
    secrets: new Set(),
  };
  const onDrop = (token: string): void => {
    base.secrets.delete(token);
  };
  const runtime: AuthRuntime = { ...base, tokens: createTokenCache({ now, marginMs: options.tokenMarginMs ?? 10_000, onDrop }) };
  const limits: ClientLimits = {
    maxManifestBytes: options.maxManifestBytes ?? DEFAULT_LIMITS.maxManifestBytes,
    maxConfigBytes: options.maxConfigBytes ?? DEFAULT_LIMITS.maxConfigBytes,
    maxTagPageBytes: options.maxTagPageBytes ?? DEFAULT_LIMITS.maxTagPageBytes,
    maxPages: options.maxPages ?? DEFAULT_LIMITS.maxPages,
    pageSize: options.pageSize ?? DEFAULT_LIMITS.pageSize,
    blobResumes: options.blobResumes ?? DEFAULT_LIMITS.blobResumes,
    chunkSizeBytes: options.chunkSizeBytes ?? DEFAULT_LIMITS.chunkSizeBytes,
  };
  const sessions = new Map<string, Promise<Session>>();
  const created: RegistryContext[] = [];
  const source = options.settings;

  const settingsFor = async (registry: string): Promise<RegistrySettings> => {
    const given = typeof source === 'function' ? await source(registry) : source?.[registry];
    // Credentials are read lazily, on the first challenge, never here.
    return { origin: given?.origin ?? resolveEndpoint(registry), ...given, registry };
  };

  const session = (registry: string): Promise<Session> => {
    let pending = sessions.get(registry);
    if (pending === undefined) {
      pending = settingsFor(registry).then((settings) => {
        const context = createRegistryContext(settings, runtime);
        created.push(context);
        return { context, runtime, limits };
      });
      sessions.set(registry, pending);
      pending.catch(() => sessions.delete(registry));
    }
    return pending;
  };

  return {
    runtime,
    limits,
    operationTimeoutMs: options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
    session,
    contexts: () => created,
    async reference(input) {
      const parsed = toReference(input, options.defaultRegistry);
      const resolved = await session(parsed.registry);
      const namespace = resolved.context.settings.defaultNamespace;
      if (namespace === undefined || parsed.repository.includes('/')) return { session: resolved, reference: parsed };
      try {
        const reference = createImageReference({ registry: parsed.registry, repository: `${namespace}/${parsed.repository}`, tag: parsed.tag, digest: parsed.digest });
        return { session: resolved, reference };
      } catch (error) {
        throw new RegistryError('config', `defaultNamespace ${JSON.stringify(namespace)} of ${parsed.registry} does not make a valid repository with ${JSON.stringify(parsed.repository)}`, {
          registry: parsed.registry,
          cause: error,
        });
      }
    },
  };
}

/** Closes every registry context the core opened. */
export async function closeCore(core: ClientCore): Promise<void> {
  await Promise.all(core.contexts().map((context) => closeRegistryContext(context)));
}

/**
 * Creates a registry client. Nothing connects until the first call.
 *
 * @example
 * const client = createRegistryClient({ settings: { 'ghcr.io': { credentials } } });
 * const tags = await client.listTags('ghcr.io/org/app');
 * const digest = await client.resolveDigest('ghcr.io/org/app:1.2.3');
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const core = createClientCore(options);
  // Each group of operations loads with its first call, so that a process that only resolves digests (one
  // `scanner digest` per image in a script) does not load paging, metadata, blobs, uploads or copies.
  const pagination = () => import('./pagination.ts');
  const blobs = () => import('./blobs.ts');
  const upload = () => import('./upload.ts');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= closeCore(core));
  const bounded = <T>(session: Session, what: string, repository: string, signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    withOperationTimeout(session, core.operationTimeoutMs, what, repository, signal, run);
  const client: RegistryClient = {
    async listTags(repository, callOptions = {}) {
      const { session, reference } = await core.reference(repository);
      return bounded(session, `listing the tags of ${reference.repository}`, reference.repository, callOptions.signal, async (signal) => (await pagination()).listTags(session, reference.repository, { ...callOptions, signal }));
    },
    async *pageTags(repository, callOptions) {
      const { session, reference } = await core.reference(repository);
      yield* (await pagination()).pageTags(session, reference.repository, callOptions);
    },
    async resolveDigest(input, callOptions = {}) {
      const { session, reference } = await core.reference(input);
      return bounded(session, `resolving ${String(reference)}`, reference.repository, callOptions.signal, (signal) => resolveDigest(session, reference, { ...callOptions, signal }));
    },
    async getManifest(input, callOptions = {}) {
      const { session, reference } = await core.reference(input);
      return bounded(session, `fetching the manifest of ${String(reference)}`, reference.repository, callOptions.signal, (signal) => getManifest(session, reference, { ...callOptions, signal }));
    },
    async getImageConfig(input, givenOptions = {}) {
      const { session, reference } = await core.reference(input);
      return bounded(session, `fetching the image config of ${String(reference)}`, reference.repository, givenOptions.signal, async (signal) => {
        const callOptions = { ...givenOptions, signal };
        const manifest = await getManifest(session, reference, callOptions);
        if (manifest.kind !== 'manifest') {
          throw new RegistryError('unsupported_media_type', `${String(reference)} is an index; pass a platform to pick one image`, {
            registry: reference.registry,
            repository: reference.repository,
          });
        }
        const reason = (await import('./artifact.ts')).notAnImageReason(manifest.manifest);
        if (reason !== undefined) {
          throw new RegistryError('not_an_image', `${String(reference)} is not a container image: ${reason}`, {
            registry: reference.registry,
            repository: reference.repository,
            tag: reference.tag,
          });
        }
        const digest = manifest.manifest.config.digest;
        const bytes = await (await blobs()).getBlobBytes(session, reference.repository, digest, core.limits.maxConfigBytes, { signal });
        const { parseImageConfig } = await import('@scanner/image/manifest');
        try {
          return { digest, config: parseImageConfig(bytes), bytes };
        } catch (error) {
          throw new RegistryError('invalid_response', `the image config ${digest} of ${reference.repository} could not be read`, {
            registry: reference.registry,
            repository: reference.repository,
            cause: error,
          });
        }
      });
    },
    async getImageMetadata(input, callOptions = {}) {
      const { session, reference } = await core.reference(input);
      return bounded(session, `fetching the metadata of ${String(reference)}`, reference.repository, callOptions.signal, async (signal) => (await import('./metadata.ts')).getImageMetadata(session, reference, { ...callOptions, signal }));
    },
    async getBlob(repository, digest, callOptions) {
      const { session, reference } = await core.reference(repository);
      return (await blobs()).getBlob(session, reference.repository, digest, callOptions);
    },
    async blobExists(repository, digest, callOptions = {}) {
      const { session, reference } = await core.reference(repository);
      return bounded(session, `checking blob ${digest} in ${reference.repository}`, reference.repository, callOptions.signal, async (signal) => (await blobs()).blobExists(session, reference.repository, digest, { ...callOptions, signal }));
    },
    async uploadBlob(repository, source, callOptions) {
      const { session, reference } = await core.reference(repository);
      return (await upload()).uploadBlob(session, reference.repository, source, callOptions);
    },
    async putManifest(input, bytes, callOptions) {
      const { session, reference } = await core.reference(input);
      return bounded(session, `putting the manifest ${String(reference)}`, reference.repository, callOptions.signal, async (signal) => (await upload()).putManifest(session, reference, bytes, { ...callOptions, signal }));
    },
    async copyBlob(from, to, descriptor, callOptions) {
      const source = await core.reference(from);
      const target = await core.reference(to);
      const { copyBlob } = await import('./copy.ts');
      return copyBlob(
        { session: source.session, repository: source.reference.repository },
        { session: target.session, repository: target.reference.repository },
        descriptor,
        callOptions,
      );
    },
    async copyImage(from, to, callOptions) {
      const { copyImage } = await import('./copy.ts');
      return copyImage(await core.reference(from), await core.reference(to), callOptions);
    },
    rateLimit(registry) {
      return core.contexts().find((context) => context.registry === registry)?.rateLimit;
    },
    async settingsFor(registry) {
      return (await core.session(registry)).context.settings;
    },
    ...createSyncMethods(core),
    async resolveReference(input) {
      return (await core.reference(input)).reference;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  clientEmitters.set(client, core.runtime.emit);
  return client;
}

export type { Platform };
