import type { ConfigIssue, MirrorImage, MirrorTarget, Plan, SyncEvent, SyncReport } from '@scanner/sync';

/** One config file as read now: what it holds, or why it is invalid. */
export type FileLoad<T> =
  | { readonly file: string; readonly ok: true; readonly value: T }
  | { readonly file: string; readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** A team file's content, validated. */
export interface TeamFile {
  /** The file's `owner`. */
  readonly owner: string;
  readonly images: readonly MirrorImage[];
}

/** The config directory as read now, file by file. */
export interface DirLoad {
  /** `targets.yaml`. */
  readonly targets: FileLoad<readonly MirrorTarget[]>;
  /** Every other `*.yaml` / `*.yml`, by relative name, in name order; checked against `targets` when it is valid, else against `fallbackTargets`. */
  readonly teams: readonly FileLoad<TeamFile>[];
}

/**
 * What the worker uses of `@scanner/sync` (and the registry client under it). The worker holds no sync logic:
 * this is a seam so that the scheduling, queueing and HTTP parts can be tested with a stand-in, and the
 * production implementation ({@link createSyncEngine}) only forwards.
 */
export interface SyncEngine extends AsyncDisposable {
  /**
   * Reads every file of `dir`; a file that cannot be read or is invalid is a `FileLoad` with issues, never a
   * rejection. Team files are checked against `targets.yaml`, or `fallbackTargets` (the last valid ones) when it is
   * invalid now.
   */
  loadDir(dir: string, fallbackTargets: readonly MirrorTarget[] | undefined, signal?: AbortSignal): Promise<DirLoad>;
  /** The `concurrency` the registries config gives a registry host, if any. */
  registryConcurrency(registry: string): number | undefined;
  /** Plans one image at one target; per-image failures are in `Plan.errors`. */
  plan(image: MirrorImage, target: MirrorTarget, signal: AbortSignal): Promise<Plan>;
  /** Copies what the plan says; per-tag failures are in the report. */
  sync(plan: Plan, signal: AbortSignal, onEvent: (event: SyncEvent) => void): Promise<SyncReport>;
}
