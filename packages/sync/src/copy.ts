// The copy of one manifest tree into one target repository: blobs (through the ledger, so each crosses the
// network once per target registry), child manifests by digest, exact bytes throughout. Tags are not written
// here; the caller writes the tag last, once everything below it is in place.
import { setTimeout as delay } from 'node:timers/promises';
import { withDigest } from '@scanner/image';
import type { Descriptor, ImageReference } from '@scanner/image';
import { isRegistryError } from '@scanner/registry';
import type { ManifestResult, RegistryClient } from '@scanner/registry';
import type { BlobLedger, BlobOutcome } from './ledger.ts';
import type { SourceReader } from './source.ts';

/** What a tree copy needs; one per plan item (its `signal` stops that item only). */
export interface CopyContext {
  readonly client: RegistryClient;
  readonly source: SourceReader;
  readonly ledger: BlobLedger;
  /** Blobs (and child manifests) of one manifest copied at the same time. */
  readonly concurrency: number;
  readonly signal: AbortSignal;
  /** Called once per blob of the tree that is not foreign. */
  readonly onBlob: (digest: string, outcome: BlobOutcome, bytes: number) => void;
  /** Called after each manifest PUT. */
  readonly onManifestPut: () => void;
}

// Foreign (Windows base) and non-distributable layers live outside the registry and are never pushed (OCI
// image spec, "Non-distributable layers"; Docker's foreign layer media type).
export function isForeign(descriptor: Descriptor): boolean {
  return (descriptor.urls?.length ?? 0) > 0 || /foreign|nondistributable/.test(descriptor.mediaType);
}

/** Runs `run` over `items`, at most `limit` at a time; the first failure rejects (the rest are not started). */
export async function forEachLimit<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await run(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}

// Failures a second attempt may get past: the network, an overloaded or limiting registry, an upload session
// the registry lost, bytes altered on the way (read again, from the registry itself rather than a mirror).
const TRANSIENT = new Set(['network', 'timeout', 'server_error', 'rate_limited', 'TOOMANYREQUESTS', 'BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'digest_mismatch', 'DIGEST_INVALID', 'unexpected_status']);
const BLOB_ATTEMPTS = 3;

const RETRY_AFTER_MAX_MS = 60_000;

// Backoff, or what a 429 asked for (`Retry-After`, which the client hands over as retryAfterMs), whichever is longer.
function retryDelayMs(error: unknown, attempt: number): number {
  const asked = isRegistryError(error) ? error.retryAfterMs : undefined;
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(200 * 2 ** attempt, asked ?? 0));
}

/** True for failures worth another attempt. */
export function isTransient(error: unknown): boolean {
  return isRegistryError(error) && TRANSIENT.has(error.code);
}

// A push the registry refuses whatever we mount: the repository is missing, or we may not write to it.
function isRefusedPush(error: unknown): boolean {
  return isRegistryError(error) && ['repository_not_found', 'NAME_UNKNOWN', 'unauthorized', 'auth_failed', 'credentials'].includes(error.code);
}

function name(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}`;
}

/**
 * Puts one blob into the target repository: known to the run → nothing; another repository of the target
 * registry got it in this run → mount from there; else HEAD, then a streamed GET → PUT with the digest checked
 * as the bytes pass (memory stays bounded whatever the size). The HEAD is sent even into a repository the plan
 * found missing: one without tags can hold the blobs of a copy that was killed or handed back before its tag. Transient failures are retried, the later
 * attempts reading from the source registry itself.
 */
export async function copyBlob(context: CopyContext, source: ImageReference, target: ImageReference, descriptor: Descriptor): Promise<void> {
  const { client, ledger, signal } = context;
  const outcome = await ledger.blob(target.registry, target.repository, descriptor.digest, async (mountFrom) => {
    let from = mountFrom;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await client.uploadBlob(
          target,
          async () => context.source.openBlob(source, descriptor, { mirrors: attempt === 0, signal }),
          { digest: descriptor.digest, size: descriptor.size, signal, skipExisting: true, ...(from === undefined ? {} : { mountFrom: from }) },
        );
        return result.outcome;
      } catch (error) {
        if (signal.aborted) throw error;
        if (from !== undefined && !isTransient(error) && !isRefusedPush(error)) {
          // The registry refused the mount itself (no pull access to the other repository, say): upload instead.
          from = undefined;
          continue;
        }
        if (attempt + 1 >= BLOB_ATTEMPTS || !isTransient(error)) throw error;
        await delay(retryDelayMs(error, attempt), undefined, { signal });
      }
    }
  });
  context.onBlob(descriptor.digest, outcome, outcome === 'uploaded' ? descriptor.size : 0);
}

function isAbort(error: unknown): boolean {
  return (isRegistryError(error) && error.code === 'aborted') || (error instanceof Error && error.name === 'AbortError');
}

// Work shared through the ledger runs under the signal of the item that started it; when that item is stopped
// (it failed elsewhere), the items waiting on the work do it themselves.
async function shared(context: CopyContext, key: string, work: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      await context.ledger.once(key, work);
      return;
    } catch (error) {
      if (context.signal.aborted || !isAbort(error)) throw error;
    }
  }
}

/**
 * Makes everything below the manifest `digest` present in the target repository: for an image its config
 * and layers, for an index each child manifest (pushed by digest, children first). Walks a tree once per
 * (target repository, digest) per run. Returns the source manifest (exact bytes).
 */
export async function copyTree(context: CopyContext, source: ImageReference, target: ImageReference, digest: string): Promise<ManifestResult> {
  const manifest = await context.source.manifest(source, digest);
  await shared(context, `tree ${name(target)}@${digest}`, async () => {
    if (manifest.kind === 'index') {
      await forEachLimit(manifest.index.manifests, context.concurrency, async (child) => {
        await copyManifest(context, source, target, child.digest);
      });
    } else {
      const blobs = [manifest.manifest.config, ...manifest.manifest.layers].filter((descriptor) => !isForeign(descriptor));
      await forEachLimit(blobs, context.concurrency, (descriptor) => copyBlob(context, source, target, descriptor));
    }
  });
  return manifest;
}

/** {@link copyTree}, then the manifest itself PUT by digest (exact bytes); once per (target repository, digest) per run. */
export async function copyManifest(context: CopyContext, source: ImageReference, target: ImageReference, digest: string): Promise<ManifestResult> {
  let manifest: ManifestResult | undefined;
  await shared(context, `manifest ${name(target)}@${digest}`, async () => {
    manifest = await copyTree(context, source, target, digest);
    await context.client.putManifest(withDigest(target, digest), manifest.bytes, { mediaType: manifest.mediaType, signal: context.signal });
    context.onManifestPut();
  });
  return manifest ?? (await context.source.manifest(source, digest));
}
