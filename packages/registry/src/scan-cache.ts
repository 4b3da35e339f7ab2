import type { z } from 'zod';
import type { Cache } from './cache.ts';
import { lazySchema } from './lazy-schema.ts';

/**
 * What the scanner keeps about one image (a manifest, or an index and its platform images). Immutable for a
 * digest, so both strategies share it under `image:` keys, kept for `imageTtlMs` (a shared Redis must run with
 * `noeviction` for BullMQ, so nothing may live without a TTL).
 */
export interface ImageRecord {
  readonly digest: string;
  /** The index's own `org.opencontainers.image.created` annotation, or the single image's creation time. */
  readonly created?: string | undefined;
  /** One entry per platform image: `os/arch[/variant]` and its creation time. */
  readonly images: readonly { readonly platform: string; readonly created?: string | undefined }[];
  /** True for an index: `created` then only speaks for the index when its annotation set it. */
  readonly index: boolean;
  /**
   * False when only the index was read (enough for a platform filter): its images' creation times are then
   * unknown, and a scan that ranks by creation time fetches the image again.
   */
  readonly dated: boolean;
}

/**
 * Why the content of a digest was skipped (not an image, an unreadable config, …), kept under `skipped:` keys
 * for `imageTtlMs` so that a warm scan replays the warning without a request. `dated` is true when the verdict
 * came from reading an index's images, which a scan that reads only the index would not have reached.
 */
export interface SkipRecord {
  readonly code: string;
  readonly reason: string;
  readonly dated: boolean;
}

/** What the tag strategy keeps about `repo:tag`, with a TTL: the digest, and the image once fetched. */
export interface TagRecord {
  readonly digest: string;
  readonly image?: ImageRecord | undefined;
}

const schemas = lazySchema((z) => {
  const image = z.object({
    digest: z.string(),
    created: z.string().optional(),
    images: z.array(z.object({ platform: z.string(), created: z.string().optional() })),
    index: z.boolean(),
    dated: z.boolean(),
  });
  const skipped = z.object({ code: z.string(), reason: z.string(), dated: z.boolean() });
  return { image, tag: z.object({ digest: z.string(), image: image.optional() }), tagList: z.array(z.string()), skipped };
});
type Schemas = Awaited<ReturnType<typeof schemas>>;

// Bumped whenever a record's shape changes, so that replicas on different versions never read each other's.
const KEY_VERSION = 'v1';

/**
 * Keys of the scanner's cache entries; `repository` is `registry/repository`. A backend stores them under its
 * namespace (`<namespace>:<key>`, e.g. `scanner:v1:tags:ghcr.io/org/app` with `@scanner/cache-redis`'s default),
 * and every one is written with a TTL: `tags:` for `tagListTtlMs`, `tag:` for `tagTtlMs`, `image:` and
 * `skipped:` for `imageTtlMs`.
 */
export const scanKeys = {
  tagList: (repository: string) => `${KEY_VERSION}:tags:${repository}`,
  tag: (repository: string, tag: string) => `${KEY_VERSION}:tag:${repository}:${tag}`,
  image: (repository: string, digest: string) => `${KEY_VERSION}:image:${repository}@${digest}`,
  skipped: (repository: string, digest: string) => `${KEY_VERSION}:skipped:${repository}@${digest}`,
};

/**
 * The scanner's view of a {@link Cache}: a failing backend or an entry of the wrong shape counts as a miss,
 * and a failing write is dropped, so a cache can make a scan cheaper but never make it fail. The first
 * failure is reported through `onError`; later ones only count.
 */
export interface ScanCache {
  tagList(repository: string): Promise<string[] | undefined>;
  setTagList(repository: string, tags: readonly string[], ttlMs: number): Promise<void>;
  tag(repository: string, tag: string): Promise<TagRecord | undefined>;
  setTag(repository: string, tag: string, record: TagRecord, ttlMs: number): Promise<void>;
  image(repository: string, digest: string): Promise<ImageRecord | undefined>;
  setImage(repository: string, record: ImageRecord, ttlMs: number): Promise<void>;
  skipped(repository: string, digest: string): Promise<SkipRecord | undefined>;
  setSkipped(repository: string, digest: string, record: SkipRecord, ttlMs: number): Promise<void>;
  /** Cache operations that failed so far (each counted as a miss or a dropped write). */
  readonly failures: number;
}

export function createScanCache(cache: Cache | undefined, onError: (error: unknown) => void): ScanCache {
  let failures = 0;
  const failed = (error: unknown): void => {
    failures += 1;
    if (failures === 1) onError(error);
  };

  async function read<T>(key: string, schemaOf: (all: Schemas) => z.ZodType<T>): Promise<T | undefined> {
    if (cache === undefined) return undefined;
    let value: unknown;
    try {
      value = await cache.get(key);
    } catch (error) {
      failed(error);
      return undefined;
    }
    if (value === undefined) return undefined;
    const parsed = schemaOf(await schemas()).safeParse(value);
    return parsed.success ? parsed.data : undefined;
  }

  async function write(key: string, value: unknown, ttlMs: number): Promise<void> {
    if (cache === undefined) return;
    try {
      await cache.set(key, value, { ttlMs });
    } catch (error) {
      failed(error);
    }
  }

  return {
    get failures() {
      return failures;
    },
    tagList: (repository) => read(scanKeys.tagList(repository), (all) => all.tagList),
    setTagList: (repository, tags, ttlMs) => write(scanKeys.tagList(repository), tags, ttlMs),
    tag: (repository, tag) => read(scanKeys.tag(repository, tag), (all) => all.tag),
    setTag: (repository, tag, record, ttlMs) => write(scanKeys.tag(repository, tag), record, ttlMs),
    image: (repository, digest) => read(scanKeys.image(repository, digest), (all) => all.image),
    setImage: (repository, record, ttlMs) => write(scanKeys.image(repository, record.digest), record, ttlMs),
    skipped: (repository, digest) => read(scanKeys.skipped(repository, digest), (all) => all.skipped),
    setSkipped: (repository, digest, record, ttlMs) => write(scanKeys.skipped(repository, digest), record, ttlMs),
  };
}
