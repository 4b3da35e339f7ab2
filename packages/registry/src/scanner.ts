import { isImageError } from '@scanner/image/errors';
import { formatPlatform, parsePlatform, platformMatches } from '@scanner/image/platform';
import { withoutTagOrDigest, withTag } from '@scanner/image/reference';
import { isScannerError } from '@scanner/image/scanner-error';
import type { ImageReference, Platform } from '@scanner/image';
import type { Tag } from '@scanner/tag';
import type { Policy, PolicyInput } from '@scanner/version';
import type { Cache } from './cache.ts';
import { createRegistryClient } from './client.ts';
import type { ReferenceInput, RegistryClient } from './client.ts';
import { RegistryError, isContentFailure, isRegistryError } from './errors.ts';
import { REGISTRY_CHANNELS, clientEmitters } from './events.ts';
import type { RegistryEvent } from './events.ts';
import { channel } from 'node:diagnostics_channel';
import { CREATED_ANNOTATION } from './metadata.ts';
import type { ImageMetadata } from './metadata.ts';
import { createSemaphore } from './rate-limit.ts';
import { createScanCache } from './scan-cache.ts';
import type { ImageRecord, ScanCache, SkipRecord, TagRecord } from './scan-cache.ts';

/**
 * How a scan caches what it learns.
 * - `tag`: `repo:tag` → digest and metadata, kept for `tagTtlMs`. A warm scan inside the TTL makes no request.
 * - `digest`: every scan resolves each tag it needs with one HEAD; digest → metadata is immutable, so a
 *   retagged image is seen at once and metadata is never fetched twice.
 * Both share the immutable digest → image entries (kept for `imageTtlMs`), so switching strategy never refetches
 * an image.
 */
export type CacheStrategy = 'tag' | 'digest';

export interface ScannerOptions {
  /** The registry client. @default createRegistryClient() */
  readonly client?: RegistryClient;
  /** Where scans keep tag lists, digests and metadata; without one, nothing is kept between scans. */
  readonly cache?: Cache;
  /** @default 'digest' */
  readonly cacheStrategy?: CacheStrategy;
  /** How long a repository's tag list is reused. @default 60000 */
  readonly tagListTtlMs?: number;
  /** How long the `tag` strategy reuses a tag's digest and metadata. @default 3600000 */
  readonly tagTtlMs?: number;
  /**
   * How long an image's metadata (immutable for its digest, shared by both strategies) is kept. Every entry
   * the scanner writes has a TTL, so a shared Redis with `noeviction` (which BullMQ requires) stays bounded.
   * @default 604800000 (7 days)
   */
  readonly imageTtlMs?: number;
  /** Tags resolved or images fetched at once within one scan. @default 8 */
  readonly concurrency?: number;
  /**
   * Told about the first cache failure (later ones only count: see {@link Scanner.cacheFailures}). A cache
   * failure never fails a scan: it counts as a miss.
   * @default emits a process warning
   */
  readonly onCacheError?: (error: unknown) => void;
}

export interface ScanOptions {
  /** Overrides the scanner's {@link ScannerOptions.cacheStrategy} for this scan. */
  readonly cacheStrategy?: CacheStrategy;
  readonly signal?: AbortSignal;
}

/** A tag that passed the policy, with what the scan learnt about it. */
export interface ScanCandidate {
  readonly tag: string;
  /** Known for the selected tag and for every tag whose metadata the policy needed. */
  readonly digest: string | undefined;
  /** ISO-8601 creation time, when the policy needed metadata and the image has one. */
  readonly createdAt: string | undefined;
  /** `os/arch[/variant]` of the image (every platform of an index), when the policy needed metadata. */
  readonly platforms: readonly string[] | undefined;
}

/** A tag the scan left out because of a failure that belongs to that tag alone. */
export interface SkippedTag {
  readonly tag: string;
  /** The error code, e.g. `not_an_image`, `MANIFEST_UNKNOWN`, `invalid_response`, `unsupported_media_type`. */
  readonly code: string;
  /** Why, in words (the error's message without the package prefix). */
  readonly reason: string;
}

export interface SelectResult {
  /** The repository scanned, canonical: `docker.io/library/nginx`. */
  readonly image: string;
  /** The best candidate, or null when no tag passed the policy. */
  readonly selected: ScanCandidate | null;
  /** Candidates best first: see {@link Scanner.select} for how many. */
  readonly candidates: readonly ScanCandidate[];
  /**
   * Tags the scan looked at and left out, each also reported once as a `tag_skipped` warning event: tags that
   * are not images (Helm charts, signatures, attestations), whose manifest or config cannot be read or is of an
   * unsupported kind (Docker schema1), whose platform data is unreadable, or that vanished between the listing
   * and the HEAD. Only failures of the whole repository (auth, network, rate limit, listing) fail a scan.
   */
  readonly skipped: readonly SkippedTag[];
}

export interface Scanner {
  /**
   * Ranks the repository's tags under `policy` and returns the best with its digest, fetching only what the
   * policy needs:
   * - `semver`, `alphabetical`, `numerical`: list the tags, rank them by name, one HEAD for the selected
   *   tag's digest; every ranked tag comes back as a candidate (up to `limit`), only the selected one with a
   *   digest. With `platforms`, metadata is fetched for candidates in rank order until `limit` (default 1)
   *   pass the platform filter.
   * - `newest-build`: list the tags, one HEAD per filtered tag, then metadata once per distinct digest.
   * - `digest`: one HEAD of the tracked tag; no listing.
   * Concurrent scans of the same repository share their requests.
   */
  select(image: ReferenceInput, policy: PolicyInput, options?: ScanOptions): Promise<SelectResult>;
  /** The repository's tags, through the tag-list cache. */
  tags(image: ReferenceInput, options?: ScanOptions): Promise<string[]>;
  /** Cache operations that failed so far, each counted as a miss. */
  readonly cacheFailures: number;
  /**
   * Closes the client the scanner created (a `client` passed in, and any `cache`, stay open: their owner closes
   * them). Idempotent; also `await using scanner = createScanner()`.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// Failures that belong to one tag: its manifest is gone (a 404 between the listing and the HEAD), is not an
// image, is of a kind we do not read, or its content cannot be read. Everything else (auth, network, rate limits,
// server errors, a digest mismatch, which may be a proxy tampering with content) concerns the repository.
const TAG_LEVEL_CODES = new Set<string>([
  'MANIFEST_UNKNOWN',
  'not_found',
  'NAME_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'BLOB_UNKNOWN',
  'DIGEST_INVALID',
  'unsupported_media_type',
  'not_an_image',
  'too_large',
]);

function isTagLevelFailure(error: unknown): boolean {
  if (isRegistryError(error)) return TAG_LEVEL_CODES.has(error.code) || (error.code === 'invalid_response' && isContentFailure(error));
  // Bad registry data caught by @scanner/image: an unreadable platform or a listed tag that is no valid tag.
  return isImageError(error);
}

// Tag-level failures that may not hold for long (content missing now, a size limit of this client): never
// remembered. Every other tag-level failure is a verdict on the digest's content, as immutable as its metadata.
const PASSING_CODES = new Set<string>(['MANIFEST_UNKNOWN', 'not_found', 'NAME_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN', 'BLOB_UNKNOWN', 'too_large']);

function isVerdictOnContent(error: unknown): boolean {
  return isTagLevelFailure(error) && !PASSING_CODES.has(String((error as { code?: unknown }).code));
}

/** A skip read back from the cache: replayed as the same `tag_skipped` warning, without a request. */
class RememberedSkip extends Error {
  readonly code: string;
  constructor(verdict: SkipRecord) {
    super(verdict.reason);
    this.code = verdict.code;
  }
}

const warningChannel = channel(REGISTRY_CHANNELS.warning);

function toRecord(metadata: ImageMetadata, dated: boolean): ImageRecord {
  const images = metadata.images.map((image) => ({ platform: formatPlatform(image.platform), created: image.created }));
  if (metadata.kind === 'manifest') return { digest: metadata.digest, created: metadata.created, images, index: false, dated: true };
  const annotated = metadata.annotations[CREATED_ANNOTATION];
  return { digest: metadata.digest, created: annotated === undefined ? undefined : metadata.created, images, index: true, dated };
}

/** The creation time of an image for the requested platforms: an index's own annotation, else the newest matching image. */
function createdFor(record: ImageRecord, requested: readonly Platform[] | undefined): string | undefined {
  if (!record.index || record.created !== undefined) return record.created;
  let newest: string | undefined;
  for (const image of record.images) {
    if (requested !== undefined && !requested.some((want) => platformMatches(want, parsePlatform(image.platform)))) continue;
    if (image.created !== undefined && (newest === undefined || image.created > newest)) newest = image.created;
  }
  return newest;
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, signal: AbortSignal | undefined): Promise<R[]> {
  const semaphore = createSemaphore(limit);
  return Promise.all(
    items.map(async (item) => {
      const release = await semaphore.acquire(signal);
      try {
        return await fn(item);
      } finally {
        release();
      }
    }),
  );
}

/**
 * Creates a scanner: tag selection on top of a {@link RegistryClient}, with caching.
 *
 * @example
 * const scanner = createScanner({ cache: createMemoryCache() });
 * const { selected } = await scanner.select('ghcr.io/org/app', { strategy: 'semver', constraint: '^1.2' });
 */
export function createScanner(options: ScannerOptions = {}): Scanner {
  const ownedClient = options.client === undefined ? createRegistryClient() : undefined;
  const client: RegistryClient = options.client ?? ownedClient ?? createRegistryClient();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= ownedClient === undefined ? Promise.resolve() : ownedClient.close());
  const defaultStrategy = options.cacheStrategy ?? 'digest';
  const tagListTtlMs = options.tagListTtlMs ?? 60_000;
  const tagTtlMs = options.tagTtlMs ?? 3_600_000;
  const imageTtlMs = options.imageTtlMs ?? 604_800_000;
  const concurrency = options.concurrency ?? 8;
  const cache: ScanCache = createScanCache(
    options.cache,
    options.onCacheError ??
      ((error) => {
        process.emitWarning(`@scanner/registry: the scan cache failed and is treated as empty until it recovers: ${String(error)}`, 'ScannerCacheWarning');
      }),
  );

  // Work in flight, shared by concurrent scans. It runs without any one caller's signal, so that one caller
  // giving up does not fail the others; each caller stops waiting on its own signal.
  const inflight = new Map<string, Promise<unknown>>();
  function share<T>(key: string, work: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    let promise = inflight.get(key) as Promise<T> | undefined;
    if (promise === undefined) {
      promise = work().finally(() => inflight.delete(key));
      inflight.set(key, promise);
    }
    return raceAbort(promise, signal);
  }

  interface Scan {
    readonly ref: ImageReference;
    readonly key: string;
    readonly strategy: CacheStrategy;
    readonly signal: AbortSignal | undefined;
    /** Whether the policy ranks by creation time, so images must be read in full. */
    readonly needsDates: boolean;
    /** Images this scan has fetched or is fetching, by digest. */
    readonly images: Map<string, Promise<ImageRecord>>;
    /** Tags this scan left out, each reported once. */
    readonly skipped: Map<string, SkippedTag>;
  }

  const emit = clientEmitters.get(client) ?? ((event: RegistryEvent) => {
    if (warningChannel.hasSubscribers) warningChannel.publish(event);
  });

  function skip(scan: Scan, tag: string, error: unknown): void {
    if (scan.skipped.has(tag)) return;
    const code = String((error as { code?: unknown }).code);
    const reason = isScannerError(error) ? error.detail : error instanceof Error ? error.message : String(error);
    scan.skipped.set(tag, { tag, code, reason });
    emit({
      type: 'warning',
      code: 'tag_skipped',
      message: `skipped tag ${JSON.stringify(tag)} of ${scan.key} (${code}): ${reason}`,
      registry: scan.ref.registry,
      repository: scan.ref.repository,
      tag,
      reason: code,
    });
  }

  function tagList(scan: Scan): Promise<string[]> {
    return share(
      `tags ${scan.key}`,
      async () => {
        const cached = await cache.tagList(scan.key);
        if (cached !== undefined) return cached;
        const tags = await client.listTags(scan.ref);
        await cache.setTagList(scan.key, tags, tagListTtlMs);
        return tags;
      },
      scan.signal,
    );
  }

  /**
   * What is known of a tag: its digest, and with the `tag` strategy whatever the cache kept with it; undefined
   * when the registry lists the tag but has no manifest for it.
   */
  function tagRecord(scan: Scan, tag: string): Promise<TagRecord | undefined> {
    return share(
      `head ${scan.strategy} ${scan.key}:${tag}`,
      async () => {
        if (scan.strategy === 'tag') {
          const cached = await cache.tag(scan.key, tag);
          if (cached !== undefined) return cached;
        }
        const digest = await client.resolveDigest(withTag(scan.ref, tag));
        if (scan.strategy === 'tag') await cache.setTag(scan.key, tag, { digest }, tagTtlMs);
        return { digest };
      },
      scan.signal,
    );
  }

  /**
   * The image a digest names: fetched at most once per scan (many tags share one image), cached per strategy.
   * A scan that needs no creation times reads only an index, not its images.
   */
  function imageByDigest(scan: Scan, digest: string): Promise<ImageRecord> {
    let record = scan.images.get(digest);
    if (record === undefined) {
      record = share(
        `image ${String(scan.needsDates)} ${scan.key}@${digest}`,
        async () => {
          // Shared by both strategies: what a digest names never changes.
          const cached = await cache.image(scan.key, digest);
          if (cached !== undefined && (cached.dated || !scan.needsDates)) return cached;
          // A verdict found reading the images' configs does not speak for a scan that reads only the index.
          const verdict = await cache.skipped(scan.key, digest);
          if (verdict !== undefined && (!verdict.dated || scan.needsDates)) throw new RememberedSkip(verdict);
          let metadata: ImageMetadata;
          try {
            metadata = await client.getImageMetadata(`${scan.key}@${digest}`, { children: scan.needsDates });
          } catch (error) {
            if (isVerdictOnContent(error)) {
              const code = String((error as { code?: unknown }).code);
              const reason = isScannerError(error) ? error.detail : error instanceof Error ? error.message : String(error);
              await cache.setSkipped(scan.key, digest, { code, reason, dated: scan.needsDates }, imageTtlMs);
            }
            throw error;
          }
          const fetched = toRecord(metadata, scan.needsDates);
          await cache.setImage(scan.key, fetched, imageTtlMs);
          return fetched;
        },
        scan.signal,
      );
      scan.images.set(digest, record);
    }
    return record;
  }

  async function imageOf(scan: Scan, tag: string, known: TagRecord): Promise<ImageRecord> {
    if (scan.strategy === 'digest') return imageByDigest(scan, known.digest);
    if (known.image !== undefined && (known.image.dated || !scan.needsDates)) return known.image;
    const record = await imageByDigest(scan, known.digest);
    await cache.setTag(scan.key, tag, { digest: known.digest, image: record }, tagTtlMs);
    return record;
  }

  function candidate(tag: string, digest: string | undefined, record: ImageRecord | undefined, requested: readonly Platform[] | undefined): ScanCandidate {
    return {
      tag,
      digest,
      createdAt: record === undefined ? undefined : createdFor(record, requested),
      platforms: record?.images.map((image) => image.platform),
    };
  }

  function toTag(value: ScanCandidate): Tag {
    return {
      name: value.tag,
      ...(value.digest === undefined ? {} : { digest: value.digest }),
      ...(value.createdAt === undefined ? {} : { createdAt: new Date(value.createdAt) }),
      ...(value.platforms === undefined ? {} : { platforms: value.platforms.map((platform) => parsePlatform(platform)) }),
    };
  }

  /**
   * What a scan learns about one tag, or undefined (with one `tag_skipped` warning) when a failure that belongs
   * to this tag alone stops it; repository-level failures are thrown.
   */
  async function describe(scan: Scan, tag: string, requested: readonly Platform[] | undefined, withImage: boolean): Promise<ScanCandidate | undefined> {
    try {
      const known = await tagRecord(scan, tag);
      if (known === undefined) return undefined;
      const record = withImage ? await imageOf(scan, tag, known) : undefined;
      return candidate(tag, known.digest, record, requested);
    } catch (error) {
      if (scan.signal?.aborted === true || !(error instanceof RememberedSkip || isTagLevelFailure(error))) throw error;
      skip(scan, tag, error);
      return undefined;
    }
  }

  function result(scan: Scan, candidates: readonly ScanCandidate[]): SelectResult {
    return { image: scan.key, selected: candidates[0] ?? null, candidates, skipped: [...scan.skipped.values()] };
  }

  async function begin(image: ReferenceInput, scanOptions: ScanOptions, needsDates = false): Promise<Scan> {
    scanOptions.signal?.throwIfAborted();
    // The client's reading: a name without a registry goes to its defaultRegistry, not always to Docker Hub.
    const ref = withoutTagOrDigest(await client.resolveReference(image));
    return { ref, key: String(ref), strategy: scanOptions.cacheStrategy ?? defaultStrategy, signal: scanOptions.signal, needsDates, images: new Map(), skipped: new Map() };
  }

  const scanner: Scanner = {
    get cacheFailures() {
      return cache.failures;
    },
    close,
    [Symbol.asyncDispose]: close,

    async tags(image, scanOptions = {}) {
      return [...(await tagList(await begin(image, scanOptions)))];
    },

    async select(image, policyInput, scanOptions = {}) {
      // The policy engine (semver and the strategies) loads with the first select: `tags` and a scanner
      // made only to be passed around do not need it.
      const { filterTags, matchesPlatforms, parsePolicy, rankTags, requiredMetadata, selectTags } = await import('@scanner/version');
      const policy: Policy = parsePolicy(policyInput);
      const needs = requiredMetadata(policy);
      const scan = await begin(image, scanOptions, needs.createdAt);
      const requested = policy.platforms?.map((platform) => parsePlatform(platform));

      if (policy.strategy === 'digest') {
        const tag = policy.constraint ?? '';
        const found = await describe(scan, tag, requested, needs.platforms);
        if (found === undefined) return result(scan, []);
        return result(scan, selectTags([toTag(found)], policy).map(() => found));
      }

      const names = await tagList(scan);

      if (policy.strategy === 'newest-build') {
        const filtered = filterTags(names, policy).map((entry) => entry.tag);
        const described = await mapLimit(filtered, concurrency, (tag) => describe(scan, tag, requested, true), scan.signal);
        const byName = new Map<string, ScanCandidate>();
        for (const value of described) if (value !== undefined) byName.set(value.tag, value);
        const ranked = selectTags([...byName.values()].map(toTag), policy);
        return result(
          scan,
          ranked.map((entry) => byName.get(entry.tag.name)).filter((value) => value !== undefined),
        );
      }

      const ranked = rankTags(names, policy).map((entry) => entry.tag);
      if (!needs.platforms) {
        const limited = policy.limit === undefined ? ranked : ranked.slice(0, policy.limit);
        // Only the selected tag needs its digest; walk past tags the registry lists without a manifest.
        for (let index = 0; index < limited.length; index++) {
          const tag = limited[index] ?? '';
          const found = await describe(scan, tag, requested, false);
          if (found === undefined) continue;
          const rest = limited.slice(index + 1).map((name) => candidate(name, undefined, undefined, requested));
          return result(scan, [found, ...rest]);
        }
        return result(scan, []);
      }

      // Platforms need metadata: walk in rank order and stop as soon as enough candidates pass.
      const wanted = policy.limit ?? 1;
      const passed: ScanCandidate[] = [];
      for (const tag of ranked) {
        if (passed.length >= wanted) break;
        const found = await describe(scan, tag, requested, true);
        if (found !== undefined && matchesPlatforms(toTag(found), policy)) passed.push(found);
      }
      return result(scan, passed);
    },
  };

  // An abort through a scan's signal rejects as the client's own calls do: a RegistryError `aborted` (which
  // isScannerError catches), not the signal's DOMException.
  const selectTag = scanner.select.bind(scanner);
  const listTags = scanner.tags.bind(scanner);
  scanner.select = (image, policyInput, scanOptions = {}) => abortedAsRegistryError('selecting a tag', scanOptions.signal, () => selectTag(image, policyInput, scanOptions));
  scanner.tags = (image, scanOptions = {}) => abortedAsRegistryError('listing tags', scanOptions.signal, () => listTags(image, scanOptions));
  return scanner;
}

async function abortedAsRegistryError<T>(what: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (signal?.aborted !== true || isScannerError(error)) throw error;
    const reason: unknown = signal.reason;
    const said = reason instanceof Error ? reason.message : String(reason);
    throw new RegistryError('aborted', `${what} was aborted by the caller (${said})`, { cause: reason });
  }
}
