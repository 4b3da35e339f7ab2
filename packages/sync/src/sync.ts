// syncPlan: carries out a plan's copy and update items, each an exact copy whose tag is written last, sharing
// blobs across items through the run's ledger, retrying failed items once at the end.
import { nameOnly, parseImageReference } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import { isRegistryError } from '@scanner/registry';
import type { RegistryClient } from '@scanner/registry';
import { copyManifest, copyTree } from './copy.ts';
import type { CopyContext } from './copy.ts';
import { SyncError, isSyncError } from './errors.ts';
import { createBlobLedger } from './ledger.ts';
import type { BlobLedger, BlobOutcome } from './ledger.ts';
import { copyReferrers, isReferrersTag } from './referrers.ts';
import { writeProvenance } from './provenance.ts';
import { createSourceReader } from './source.ts';
import type { SourceReader } from './source.ts';
import type { Plan, PlanItem, SyncEvent, SyncItem, SyncReport, SyncStats } from './types.ts';

/** Options of {@link syncPlan}. */
export interface SyncOptions {
  /** The registry client; per-registry credentials, concurrency and rate limits come from its settings. */
  readonly client: RegistryClient;
  /**
   * Stops the run: items not finished fail with `aborted` (`timeout` when the signal's reason is a
   * `TimeoutError`, as `AbortSignal.timeout` gives), no tag is written after the abort.
   */
  readonly signal?: AbortSignal | undefined;
  /** Plan items copied at the same time. @default 4 */
  readonly concurrency?: number | undefined;
  /** Blobs (and child manifests) of one manifest copied at the same time. @default 4 */
  readonly blobConcurrency?: number | undefined;
  /** Progress, for a display or metrics. A throwing hook is ignored. */
  readonly onEvent?: ((event: SyncEvent) => void) | undefined;
  /**
   * What this run knows of target registries (blobs put where). Pass one ledger to several calls to share
   * it, e.g. for one worker cycle. @default a new ledger per call
   */
  readonly ledger?: BlobLedger | undefined;
  /** Failed items are tried once more after all others (not `repository_missing`). @default true */
  readonly retryFailed?: boolean | undefined;
  /** The config directory the plan was made from, recorded in provenance artifacts. @default not recorded */
  readonly configDir?: string | undefined;
  /** The clock of provenance times, in milliseconds since the epoch. @default Date.now */
  readonly now?: (() => number) | undefined;
}

interface MutableStats {
  manifestsPut: number;
  blobsUploaded: number;
  blobsMounted: number;
  blobsExisting: number;
  blobsKnown: number;
  bytesUploaded: number;
  referrersCopied: number;
  provenanceWritten: number;
}

/** Everything one run shares between its items. */
export interface RunContext {
  readonly client: RegistryClient;
  readonly source: SourceReader;
  readonly ledger: BlobLedger;
  readonly blobConcurrency: number;
  readonly stats: MutableStats;
  readonly emit: (event: SyncEvent) => void;
  readonly configDir: string | undefined;
  readonly now: () => number;
  /** `registry/repository` of targets that refused a push because they do not exist. */
  readonly missing: Map<string, SyncError>;
  /** Source registries whose referrers came from the tag schema (no referrers API). */
  readonly withoutReferrersApi: Set<string>;
}

function repositoryName(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}`;
}

/**
 * True when a registry refused a write because the target repository does not exist (Harbor projects, ECR
 * repositories, Aliyun namespaces). `@scanner/registry` classifies push refusals (`repository_not_found`: a 404
 * on an upload start, `NAME_UNKNOWN`, or a 403/404 whose message says the repository is missing); this only
 * checks that the refusal is about `target`.
 */
export function isRepositoryMissing(error: unknown, target: ImageReference): boolean {
  if (!isRegistryError(error)) return false;
  if (error.registry !== undefined && error.registry !== target.registry) return false;
  if (error.repository !== undefined && error.repository !== target.repository) return false;
  const code = error.code as string;
  return code === 'repository_not_found' || code === 'NAME_UNKNOWN';
}

function repositoryMissingError(target: ImageReference, cause: unknown): SyncError {
  const name = repositoryName(target);
  // The registry's own words say what to create (Harbor: "project harbortest not found"); registry error
  // messages carry no credentials.
  const said = isRegistryError(cause) ? (cause.detail.split('\n')[0] ?? '').slice(0, 300) : '';
  const words = said === '' ? '' : ` (${target.registry} said: ${said})`;
  return new SyncError('repository_missing', `${name} does not exist and ${target.registry} does not create repositories on push${words}; create the repository ${target.repository} (a Harbor project, an ECR repository…) and run the sync again`, {
    registry: target.registry,
    repository: target.repository,
    hints: { cli: `create ${name} in the registry, then run scanner sync again`, config: `create ${name}, or point this image's target elsewhere` },
    cause,
  });
}

// Messages of registry and sync errors are free of credentials by construction; anything else is reduced
// to its message's first line.
function itemError(error: unknown): { code: string; message: string } {
  if (isSyncError(error) || isRegistryError(error)) return { code: error.code, message: error.detail };
  if (error instanceof Error && error.name === 'AbortError') return { code: 'aborted', message: 'the copy was aborted' };
  const text = error instanceof Error ? error.message : String(error);
  return { code: 'copy_failed', message: text.split('\n')[0] ?? '' };
}

// An item the run's signal stopped: `timeout` when the signal was a time limit (`AbortSignal.timeout`, whose
// reason is a `TimeoutError`), so that a caller can name its bound; else `aborted`.
function abortedError(signal: AbortSignal): { code: string; message: string } {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return { code: 'timeout', message: "the run's time limit ran out before this item finished; its target tag was not moved" };
  }
  return { code: 'aborted', message: 'the sync was aborted before this item finished; its target tag was not moved' };
}

function parseItemReference(text: string, what: string): ImageReference {
  try {
    return parseImageReference(text);
  } catch (error) {
    throw new SyncError('copy_failed', `the plan item's ${what} ${JSON.stringify(text)} is not an image reference`, { input: text, cause: error });
  }
}

async function copyItem(run: RunContext, item: PlanItem, signal: AbortSignal): Promise<void> {
  const source = parseItemReference(item.source, 'source');
  const target = parseItemReference(item.target, 'target');
  if (target.tag === undefined) throw new SyncError('copy_failed', `the plan item's target ${item.target} has no tag`, { input: item.target });
  if (isReferrersTag(target.tag)) {
    throw new SyncError('copy_failed', `the plan item's target tag ${target.tag} names a referrers index (sha256-<hex>) or cosign tag; it is never written as a tag`, { input: item.target });
  }
  const known = run.missing.get(repositoryName(target));
  if (known !== undefined) throw known;
  if (item.sourceDigest !== null && source.digest !== undefined && item.sourceDigest !== source.digest) {
    throw new SyncError('digest_mismatch', `the plan says ${item.source} has digest ${item.sourceDigest}; the plan is inconsistent, make a new one`, { input: item.source });
  }
  // The digest the plan saw (or the registry's own answer now, by HEAD): everything is then read by digest,
  // so what lands at the target is exactly that, whichever mirror served it.
  const digest = item.sourceDigest ?? source.digest ?? (await run.source.pin(source));
  const from = nameOnly(source);
  const to = nameOnly(target);
  const context: CopyContext = {
    client: run.client,
    source: run.source,
    ledger: run.ledger,
    concurrency: run.blobConcurrency,
    signal,
    onBlob: (blobDigest: string, outcome: BlobOutcome, bytes: number) => {
      countBlob(run.stats, outcome, bytes);
      if (outcome !== 'known') run.emit({ type: 'blob', targetName: item.targetName, digest: blobDigest, outcome, bytes });
    },
    onManifestPut: () => {
      run.stats.manifestsPut++;
    },
  };
  try {
    let manifest = await copyTree(context, from, to, digest);
    if (item.referrers || item.provenance) {
      // Referrers and provenance point at the manifest by digest, so it goes first; the tag still comes last.
      manifest = await copyManifest(context, from, to, digest);
      if (item.referrers) {
        const copied = await copyReferrers(run, context, from, to, manifest);
        run.stats.referrersCopied += copied;
      }
      if (item.provenance) {
        if (await writeProvenance(run, context, to, manifest, item)) run.stats.provenanceWritten++;
      }
    }
    signal.throwIfAborted();
    const written = await run.client.putManifest(target, manifest.bytes, { mediaType: manifest.mediaType, signal });
    run.stats.manifestsPut++;
    if (written.digest !== digest) {
      throw new SyncError('digest_mismatch', `${item.target} was written as ${written.digest}, not the source's ${digest}`, { registry: target.registry, repository: target.repository });
    }
  } catch (error) {
    if (isRepositoryMissing(error, to)) {
      const missing = repositoryMissingError(to, error);
      run.missing.set(repositoryName(to), missing);
      throw missing;
    }
    throw error;
  }
}

function countBlob(stats: MutableStats, outcome: BlobOutcome, bytes: number): void {
  if (outcome === 'uploaded') {
    stats.blobsUploaded++;
    stats.bytesUploaded += bytes;
  } else if (outcome === 'mounted') {
    stats.blobsMounted++;
  } else if (outcome === 'exists') {
    stats.blobsExisting++;
  } else {
    stats.blobsKnown++;
  }
}

async function syncItem(run: RunContext, item: PlanItem, runSignal: AbortSignal | undefined, attempt: number): Promise<SyncItem> {
  if (item.action === 'skip') {
    const skipped: SyncItem = { ...item, result: 'skipped', error: null };
    run.emit({ type: 'item_done', item: skipped, durationMs: 0 });
    return skipped;
  }
  const started = performance.now();
  run.emit({ type: 'item_start', item, attempt });
  // One item's failure stops its own blob copies, not the other items'.
  const controller = new AbortController();
  const signal = runSignal === undefined ? controller.signal : AbortSignal.any([runSignal, controller.signal]);
  let done: SyncItem;
  try {
    await copyItem(run, item, signal);
    done = { ...item, result: item.action === 'update' ? 'updated' : 'copied', error: null };
  } catch (error) {
    controller.abort();
    const aborted = runSignal?.aborted === true ? abortedError(runSignal) : undefined;
    done = { ...item, result: 'failed', error: aborted ?? itemError(error) };
  }
  run.emit({ type: 'item_done', item: done, durationMs: performance.now() - started, attempt });
  return done;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * Carries out a plan: each `copy` and `update` item becomes an exact copy at its target (whole index, every
 * platform, children and blobs before the index, manifest bytes unchanged, the tag written last), `skip` items
 * are reported `skipped`. Never throws for an item: a failed item is reported `failed` with its error, its target
 * tag untouched, and the other items go on; failed items are retried once at the end.
 *
 * - The source content is read by the digest the plan saw (`sourceDigest`), or the digest the source tag has now
 *   (one HEAD) when the plan did not resolve it; mirrors of the source registry are read first.
 * - Each blob crosses the network at most once per target registry per run (see {@link BlobLedger}).
 * - With `referrers`, cosign tags (`sha256-<hex>.sig|.att|.sbom`) and OCI referrers of the digest come along;
 *   with `provenance`, a provenance artifact is attached (see `writeProvenance`).
 * - A target repository that does not exist where the registry wants it created first fails its items with
 *   one `repository_missing` error each.
 *
 * Credentials never appear in the report: errors carry the client's scrubbed messages.
 */
export async function syncPlan(plan: Plan, options: SyncOptions): Promise<SyncReport> {
  const { client, signal } = options;
  const hook = options.onEvent;
  const run: RunContext = {
    client,
    source: createSourceReader({ client, signal }),
    ledger: options.ledger ?? createBlobLedger(),
    blobConcurrency: options.blobConcurrency ?? 4,
    stats: { manifestsPut: 0, blobsUploaded: 0, blobsMounted: 0, blobsExisting: 0, blobsKnown: 0, bytesUploaded: 0, referrersCopied: 0, provenanceWritten: 0 },
    emit: (event) => {
      if (hook === undefined) return;
      try {
        hook(event);
      } catch {
        // A progress display's bug must not fail a copy.
      }
    },
    configDir: options.configDir,
    now: options.now ?? Date.now,
    missing: new Map(),
    withoutReferrersApi: new Set(),
  };
  const concurrency = options.concurrency ?? 4;
  const items = await mapLimit(plan.items, concurrency, (item) => syncItem(run, item, signal, 1));
  if (options.retryFailed !== false && signal?.aborted !== true) {
    const again = items.flatMap((item, index) => (item.result === 'failed' && item.error?.code !== 'repository_missing' ? [index] : []));
    await mapLimit(again, concurrency, async (index) => {
      items[index] = await syncItem(run, plan.items[index] as PlanItem, signal, 2);
    });
  }
  const stats: SyncStats = { ...run.stats, pulls: run.source.pulls(), mirrorPulls: run.source.mirrorPulls() };
  return { items, errors: plan.errors, stats };
}
