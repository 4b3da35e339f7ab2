import { createImageReference, withDigest } from '@scanner/image/reference';
import type { Descriptor, ImageReference } from '@scanner/image';
import { getBlob } from './blobs.ts';
import { getManifest } from './manifests.ts';
import type { ManifestResult } from './manifests.ts';
import type { Session } from './session.ts';
import { putManifest, uploadBlob } from './upload.ts';
import type { UploadBlobResult } from './upload.ts';

/** A repository in a registry, as the copy helpers see it. */
export interface CopyEndpoint {
  readonly session: Session;
  readonly repository: string;
}

/** What a copy did; request counts are in the events. */
export interface CopyImageResult {
  /** Digest of the top-level manifest or index at the target (identical to the source's). */
  readonly digest: string;
  readonly mediaType: string;
  /** Manifests pushed (the index and each child). */
  readonly manifests: number;
  readonly blobs: { readonly uploaded: number; readonly mounted: number; readonly exists: number; readonly skipped: number };
}

export interface CopyOptions {
  /** Blobs copied at the same time. @default 4 */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

// Foreign (Windows base) and non-distributable layers live outside the registry and must not be pushed.
function isForeign(descriptor: Descriptor): boolean {
  return (descriptor.urls?.length ?? 0) > 0 || /foreign|nondistributable/.test(descriptor.mediaType);
}

/**
 * Copies one blob: a cross-repository mount when both repositories are in the same registry (falling back
 * to an upload when the registry declines), else a streamed GET → PUT. Skips blobs the target has.
 */
export async function copyBlob(from: CopyEndpoint, to: CopyEndpoint, descriptor: Pick<Descriptor, 'digest' | 'size'>, options: { signal?: AbortSignal } = {}): Promise<UploadBlobResult> {
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const sameRegistry = from.session === to.session;
  const source = async () => (await getBlob(from.session, from.repository, descriptor.digest, { size: descriptor.size, ...signal })).stream;
  return uploadBlob(to.session, to.repository, source, {
    digest: descriptor.digest,
    size: descriptor.size,
    ...(sameRegistry && from.repository !== to.repository ? { mountFrom: from.repository } : {}),
    ...signal,
  });
}

async function mapLimit<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Copies a manifest, or an index with every child, and all their blobs, from one reference to another,
 * pushing the exact manifest bytes so every digest is preserved. Children are pushed by digest before the
 * index; the top level goes to the target's tag (or the source's tag, or by digest).
 */
export async function copyImage(source: { session: Session; reference: ImageReference }, target: { session: Session; reference: ImageReference }, options: CopyOptions = {}): Promise<CopyImageResult> {
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const counts = { uploaded: 0, mounted: 0, exists: 0, skipped: 0 };
  let manifests = 0;
  const from: CopyEndpoint = { session: source.session, repository: source.reference.repository };
  const to: CopyEndpoint = { session: target.session, repository: target.reference.repository };

  const copyTree = async (manifest: ManifestResult, destination: ImageReference): Promise<void> => {
    if (manifest.kind === 'index') {
      for (const child of manifest.index.manifests) {
        const fetched = await getManifest(source.session, withDigest(source.reference, child.digest), signal);
        await copyTree(fetched, createImageReference({ registry: destination.registry, repository: destination.repository, digest: child.digest }));
      }
    } else {
      const blobs = [manifest.manifest.config, ...manifest.manifest.layers];
      await mapLimit(blobs, options.concurrency ?? 4, async (descriptor) => {
        if (isForeign(descriptor)) {
          counts.skipped++;
          return;
        }
        const result = await copyBlob(from, to, descriptor, signal);
        counts[result.outcome]++;
      });
    }
    await putManifest(target.session, destination, manifest.bytes, { mediaType: manifest.mediaType, ...signal });
    manifests++;
  };

  const top = await getManifest(source.session, source.reference, signal);
  const tag = target.reference.tag ?? source.reference.tag;
  const { registry, repository } = target.reference;
  await copyTree(top, createImageReference(tag === undefined ? { registry, repository, digest: top.digest } : { registry, repository, tag }));
  return { digest: top.digest, mediaType: top.mediaType, manifests, blobs: counts };
}
