// The run-scoped memory of what the copies of one run have put where, so that a blob crosses the network at
// most once per target registry: a second copy of a blob into the same registry waits for the first and then
// mounts it, and a manifest tree already pushed to a repository is not walked again.

/** How a blob came to be in a target repository. `known`: this run had already put it there (no request). */
export type BlobOutcome = 'uploaded' | 'mounted' | 'exists' | 'known';

/**
 * Run-scoped knowledge of target registries, shared by every copy of a run (and across `syncPlan` calls when
 * the same ledger is passed, e.g. by the worker for one cycle). Holds digests and repository names only
 * (no content), so it stays small: about 100 bytes per (registry, blob).
 */
export interface BlobLedger {
  /**
   * Records that `repository` of `registry` holds the blob `digest` (seen by a plan, or written by another
   * tool), so copies into that registry mount it from there instead of uploading it.
   */
  remember(registry: string, repository: string, digest: string): void;
  /** Repositories of `registry` known to hold `digest`, in the order they were learnt. */
  holders(registry: string, digest: string): readonly string[];
  /**
   * Puts a blob into `repository` of `registry` at most once per run. When the run already put it there the
   * answer is `known` without calling `transfer`. When a copy of the same digest into the same registry is in
   * flight, waits for it and then calls `transfer` with a repository to mount from. Otherwise calls
   * `transfer(undefined)`, which HEADs and uploads. A failed transfer is forgotten: the next caller tries again.
   */
  blob(registry: string, repository: string, digest: string, transfer: (mountFrom: string | undefined) => Promise<Exclude<BlobOutcome, 'known'>>): Promise<BlobOutcome>;
  /**
   * Runs `work` once per key while it succeeds; concurrent callers share the one in flight, later callers
   * return at once. Used for manifest trees (`<registry>/<repository>@<digest>`). A failure is not remembered.
   * Keeps no result, so nothing but the key is held for the rest of the run.
   */
  once(key: string, work: () => Promise<void>): Promise<void>;
}

interface BlobEntry {
  readonly holders: Set<string>;
  /** The upload in flight, when no repository of the registry held the blob yet. */
  pending: Promise<unknown> | undefined;
}

/** Creates an empty {@link BlobLedger}. Create one per run (or per worker cycle) and drop it afterwards. */
export function createBlobLedger(): BlobLedger {
  const blobs = new Map<string, BlobEntry>();
  const done = new Map<string, Promise<void>>();
  const entry = (registry: string, digest: string): BlobEntry => {
    const key = `${registry} ${digest}`;
    let found = blobs.get(key);
    if (found === undefined) {
      found = { holders: new Set(), pending: undefined };
      blobs.set(key, found);
    }
    return found;
  };
  return {
    remember(registry, repository, digest) {
      entry(registry, digest).holders.add(repository);
    },
    holders(registry, digest) {
      return [...(blobs.get(`${registry} ${digest}`)?.holders ?? [])];
    },
    async blob(registry, repository, digest, transfer) {
      const found = entry(registry, digest);
      for (;;) {
        if (found.holders.has(repository)) return 'known';
        if (found.pending !== undefined) {
          // Whatever became of the copy in flight, look again: it either left a holder to mount from, or failed
          // and this caller makes its own attempt.
          await found.pending.catch(() => undefined);
          continue;
        }
        const [mountFrom] = found.holders;
        if (mountFrom !== undefined) {
          // Mounts need no bytes, so concurrent mounts into several repositories are not serialised.
          const outcome = await transfer(mountFrom);
          found.holders.add(repository);
          return outcome;
        }
        const attempt = transfer(undefined);
        found.pending = attempt;
        try {
          const outcome = await attempt;
          found.holders.add(repository);
          return outcome;
        } finally {
          found.pending = undefined;
        }
      }
    },
    once(key, work) {
      const existing = done.get(key);
      if (existing !== undefined) return existing;
      const started = work();
      done.set(key, started);
      started.catch(() => {
        if (done.get(key) === started) done.delete(key);
      });
      return started;
    },
  };
}
