// Reads the source side of a sync: manifests and blobs by digest, through the source registry's mirrors first
// (in order) and the registry itself last. Content is only ever asked for by digest, and the client verifies
// every byte against that digest, so a mirror can serve a copy but never substitute an image: the digest comes
// from the plan or from a HEAD on the registry itself.
import { withDigest, withoutTagOrDigest } from '@scanner/image';
import type { Descriptor, ImageReference } from '@scanner/image';
import { isRegistryError } from '@scanner/registry';
import type { ManifestResult, RegistryClient } from '@scanner/registry';

/** Options of {@link createSourceReader}. */
export interface SourceReaderOptions {
  readonly client: RegistryClient;
  /** Aborts every read (manifest reads are shared by the items of a run, so they follow the run's signal). */
  readonly signal?: AbortSignal | undefined;
  /** Bytes of manifests kept for reuse within the run (a tag mirrored to two targets is read once). @default 33554432 (32 MiB) */
  readonly manifestCacheBytes?: number | undefined;
}

/** The source side of a run. */
export interface SourceReader {
  /** The digest a tag points at, by HEAD on the registry itself (mirrors are never asked: they may be stale). */
  resolve(reference: ImageReference, signal?: AbortSignal): Promise<string>;
  /**
   * The digest to copy for a tag. With mirrors: one HEAD at the registry itself (mirrors may be stale). Without:
   * one GET by tag at the registry, whose manifest is kept for the copy, so the tag costs one request, not two.
   * Once per tag per run (shared by the run's items, so it follows the run's signal).
   */
  pin(reference: ImageReference): Promise<string>;
  /** A manifest or index by digest, verified; from the first mirror that has it, else the registry. */
  manifest(repository: ImageReference, digest: string): Promise<ManifestResult>;
  /** A blob stream by digest, verified while it flows; `mirrors: false` reads the registry only (after a bad mirror copy). */
  openBlob(repository: ImageReference, descriptor: Pick<Descriptor, 'digest' | 'size'>, options: { readonly mirrors: boolean; readonly signal?: AbortSignal | undefined }): Promise<ReadableStream<Uint8Array>>;
  /** The repository's tags, listed once per run. */
  tags(repository: ImageReference): Promise<readonly string[]>;
  /** Manifest GETs sent to each source registry itself (Docker Hub counts these as pulls). */
  pulls(): Record<string, number>;
  /** Manifest GETs answered by each mirror. */
  mirrorPulls(): Record<string, number>;
}

// A mirror that does not have the content, refuses us, or is down is skipped; an abort is not.
function fallsThrough(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted === true) return false;
  return !(isRegistryError(error) && error.code === 'aborted');
}

function count(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Creates the source reader of one run. */
export function createSourceReader(options: SourceReaderOptions): SourceReader {
  const { client, signal } = options;
  const cacheLimit = options.manifestCacheBytes ?? 32 * 1024 * 1024;
  const manifests = new Map<string, { promise: Promise<ManifestResult>; bytes: number }>();
  let cachedBytes = 0;
  const tagLists = new Map<string, Promise<readonly string[]>>();
  const pins = new Map<string, Promise<string>>();
  const mirrorLists = new Map<string, Promise<readonly ImageReference[]>>();
  const upstreamGets = new Map<string, number>();
  const mirrorGets = new Map<string, number>();
  const withSignal = signal === undefined ? {} : { signal };

  // The mirror references of a repository, from its registry's settings (`mirrors:` in the registries config).
  const mirrorsOf = (repository: ImageReference): Promise<readonly ImageReference[]> => {
    const key = `${repository.registry}/${repository.repository}`;
    let found = mirrorLists.get(key);
    if (found === undefined) {
      found = client.mirrorsFor(withoutTagOrDigest(repository));
      mirrorLists.set(key, found);
    }
    return found;
  };

  const fetchManifest = async (repository: ImageReference, digest: string): Promise<ManifestResult> => {
    for (const mirror of await mirrorsOf(repository)) {
      try {
        const result = await client.getManifest(withDigest(mirror, digest), withSignal);
        count(mirrorGets, mirror.registry);
        return result;
      } catch (error) {
        if (!fallsThrough(error, signal)) throw error;
      }
    }
    // Counted once answered: a GET that never left (paused under a ratelimit floor, then aborted) or failed
    // is no pull.
    const result = await client.getManifest(withDigest(withoutTagOrDigest(repository), digest), withSignal);
    count(upstreamGets, repository.registry);
    return result;
  };

  const remember = (key: string, promise: Promise<ManifestResult>): void => {
    const entry = { promise, bytes: 0 };
    manifests.set(key, entry);
    promise.then(
      (result) => {
        if (manifests.get(key) !== entry) return;
        entry.bytes = result.bytes.byteLength;
        cachedBytes += entry.bytes;
        // Oldest first: Map keeps insertion order.
        for (const [oldKey, old] of manifests) {
          if (cachedBytes <= cacheLimit) break;
          manifests.delete(oldKey);
          cachedBytes -= old.bytes;
        }
      },
      () => {
        if (manifests.get(key) === entry) manifests.delete(key);
      },
    );
  };

  return {
    resolve(reference, callSignal) {
      const effective = callSignal ?? signal;
      return client.resolveDigest(reference, effective === undefined ? {} : { signal: effective });
    },
    pin(reference) {
      // Once per tag and run: a tag mirrored to several targets is read once, and they all get the same digest.
      const tagKey = String(reference);
      let pinned = pins.get(tagKey);
      if (pinned === undefined) {
        pinned = (async () => {
          if ((await mirrorsOf(reference)).length > 0) return client.resolveDigest(reference, withSignal);
          const result = await client.getManifest(reference, withSignal);
          count(upstreamGets, reference.registry);
          const key = `${reference.registry}/${reference.repository}@${result.digest}`;
          if (!manifests.has(key)) remember(key, Promise.resolve(result));
          return result.digest;
        })();
        pins.set(tagKey, pinned);
        pinned.catch(() => pins.delete(tagKey));
      }
      return pinned;
    },
    manifest(repository, digest) {
      const key = `${repository.registry}/${repository.repository}@${digest}`;
      const cached = manifests.get(key);
      if (cached !== undefined) return cached.promise;
      const promise = fetchManifest(repository, digest);
      remember(key, promise);
      return promise;
    },
    async openBlob(repository, descriptor, blobOptions) {
      const callSignal = blobOptions.signal ?? signal;
      const getOptions = { size: descriptor.size, ...(callSignal === undefined ? {} : { signal: callSignal }) };
      if (blobOptions.mirrors) {
        for (const mirror of await mirrorsOf(repository)) {
          try {
            return (await client.getBlob(mirror, descriptor.digest, getOptions)).stream;
          } catch (error) {
            if (!fallsThrough(error, callSignal)) throw error;
          }
        }
      }
      return (await client.getBlob(withoutTagOrDigest(repository), descriptor.digest, getOptions)).stream;
    },
    tags(repository) {
      const key = `${repository.registry}/${repository.repository}`;
      let found = tagLists.get(key);
      if (found === undefined) {
        found = client.listTags(withoutTagOrDigest(repository), withSignal);
        tagLists.set(key, found);
        found.catch(() => tagLists.delete(key));
      }
      return found;
    },
    pulls: () => Object.fromEntries(upstreamGets),
    mirrorPulls: () => Object.fromEntries(mirrorGets),
  };
}
