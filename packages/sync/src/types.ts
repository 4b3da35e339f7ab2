// The shared shapes of @scanner/sync: the mirror config, the plan, the sync report. Config, planning, copying,
// conversion, the CLI and the worker all meet here; change a shape only together with every user of it.
import type { ImageReference } from '@scanner/image';
import type { PolicyInput } from '@scanner/version';

/** One `targets.yaml` entry: a registry images are mirrored into. */
export interface MirrorTarget {
  /** Unique name team files refer to (`main`, `regional`). */
  readonly name: string;
  /** Normalised registry host, e.g. `mirror.example.io` or `127.0.0.1:5000`. */
  readonly registry: string;
  /** Path put before every repository at this target (`acme` → `<registry>/acme/<path>`). */
  readonly prefix: string | undefined;
}

/**
 * How a tag at the target is named, from the source tag: `pattern` (a regexp, Go syntax as in extract)
 * matched against the source tag and `template` expanded with its groups (`$1`, `${name}`), as an extract
 * template of `@scanner/tag`. A source tag the pattern does not match keeps its name.
 */
export interface TargetTagTemplate {
  readonly pattern: string;
  readonly template: string;
}

/**
 * One rule of `images[].tags`, validated. A tag is mirrored when any rule selects it.
 * - `policy`: a scan policy in short form (`semver:`, `regexp:`, `names:`, or `strategy`/`constraint` with the
 *   policy fields), compiled to the `@scanner/version` policy it means, so a tag means the same in a scan
 *   and in a sync;
 * - `digest`: a pinned digest, given the tag `tag` at the target.
 */
export type TagRule =
  | { readonly kind: 'policy'; readonly policy: PolicyInput; readonly path: string }
  | { readonly kind: 'digest'; readonly digest: string; readonly tag: string; readonly path: string };

/** One `images[]` entry of a team file, validated and with the file's defaults applied. */
export interface MirrorImage {
  /**
   * Stable id of this entry across reloads while the file keeps it: `<file>#<source repository>`, e.g.
   * `team-storage.yaml#docker.io/bitnami/postgresql`; a later entry of the same source in the same file (to
   * another target repository) adds its position: `…#images[3]`. The worker derives job ids from it.
   */
  readonly id: string;
  /** The team file, relative to the config directory. */
  readonly file: string;
  /** Position in `images[]`, for messages. */
  readonly index: number;
  /** The owning team: the image's `owner`, else the file's. */
  readonly owner: string;
  /** The source repository (no tag, no digest), normalised (`docker.io/library/nginx`). */
  readonly source: ImageReference;
  readonly rules: readonly TagRule[];
  /** Matchers (scanner syntax) of tags never mirrored. */
  readonly exclude: readonly string[];
  /** Matchers (scanner syntax) of tags re-checked by digest on every run; the others are compared by name. */
  readonly mutable: readonly string[];
  /** Target repository path; `undefined` keeps the source repository path. */
  readonly rename: string | undefined;
  /** Renames tags at the target; `undefined` keeps the source tag. */
  readonly targetTag: TargetTagTemplate | undefined;
  /** Names of the targets this image goes to (the image's, else the file's, else every target). */
  readonly targets: readonly string[];
  /** Copy cosign-style `.sig`/`.att`/`.sbom` tags and OCI referrers of each copied digest. @default true */
  readonly referrers: boolean;
  /** Attach a provenance artifact (owner, source, config file) to each mirrored manifest. @default false */
  readonly provenance: boolean;
  /** A cron expression for the worker (the image's, else the file's); `undefined` uses the worker's interval. */
  readonly schedule: string | undefined;
}

/** A validated config directory. */
export interface MirrorConfig {
  /** The directory it was read from. */
  readonly dir: string;
  readonly targets: readonly MirrorTarget[];
  readonly images: readonly MirrorImage[];
}

/** One problem of a config file: `team-storage.yaml:9:17 images[0].tags[1].regexp: invalid regexp …`. */
export interface ConfigIssue {
  /** Relative to the config directory. */
  readonly file: string;
  /** 1-based; absent when the problem is not at one place (a missing file). */
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** Key path in the file, e.g. `images[0].tags[1].regexp`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/** What the plan decided for one tag at one target. */
export type PlanAction = 'copy' | 'update' | 'skip';

/** One (tag, target) decision. The JSON of `scanner plan -o json` is these fields, in this order. */
export interface PlanItem {
  readonly owner: string;
  readonly targetName: string;
  /** Source reference with tag (`docker.io/bitnami/postgresql:16.4.0`), or with digest for a pinned digest. */
  readonly source: string;
  /** Target reference with tag (`mirror.example.io/bitnami/postgresql:16.4.0`). */
  readonly target: string;
  readonly action: PlanAction;
  /** `null` for an immutable tag the plan did not need to resolve. */
  readonly sourceDigest: string | null;
  /** `null` when the target has no such tag, or when it was compared by name only. */
  readonly targetDigest: string | null;
  /** The {@link MirrorImage.id} this item came from. */
  readonly imageId: string;
  /** The team file (relative), for provenance and messages. */
  readonly file: string;
  /** Compared by digest (a `mutable` tag, or a pinned digest). */
  readonly mutable: boolean;
  readonly referrers: boolean;
  readonly provenance: boolean;
}

/** A (image, target) that could not be planned, or failed as a whole. */
export interface PlanError {
  readonly owner: string;
  /** The source repository. */
  readonly source: string;
  readonly targetName: string;
  /** A `RegistryError`/`SyncError` code, e.g. `unauthorized`, `network`. */
  readonly code: string;
  /** One line, free of credentials. */
  readonly message: string;
  readonly imageId: string;
  readonly file: string;
}

/** A target repository the plan writes to, and whether it exists yet. */
export interface PlanRepository {
  readonly targetName: string;
  /** `mirror.example.io/bitnami/postgresql`. */
  readonly repository: string;
  /** False when listing its tags answered `NAME_UNKNOWN` / 404: registries such as Harbor or ECR refuse pushes until it is created. */
  readonly exists: boolean;
}

/** The plan: every decision, the failures, and what it will cost upstream. */
export interface Plan {
  readonly items: readonly PlanItem[];
  readonly errors: readonly PlanError[];
  readonly repositories: readonly PlanRepository[];
  /** Manifest GETs (Docker Hub "pulls") the sync of this plan will make, per source registry host. */
  readonly pulls: Readonly<Record<string, number>>;
}

/** What the sync did with one plan item. */
export type SyncResult = 'copied' | 'updated' | 'skipped' | 'failed';

/** A plan item with its outcome. The JSON of `scanner sync -o json` has these fields. */
export interface SyncItem extends PlanItem {
  readonly result: SyncResult;
  /** `null` unless `result` is `failed`. */
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** Counters of one sync run (all targets). */
export interface SyncStats {
  readonly manifestsPut: number;
  readonly blobsUploaded: number;
  readonly blobsMounted: number;
  readonly blobsExisting: number;
  /** Bytes of blob content sent to target registries. */
  readonly bytesUploaded: number;
  /** Signature/attestation tags and referrers copied along. */
  readonly referrersCopied: number;
  /** Provenance artifacts written. */
  readonly provenanceWritten: number;
  /** Blobs a manifest shares with another this run had already put in the same repository (no request). */
  readonly blobsKnown?: number;
  /** Manifest GETs sent to each source registry itself (Docker Hub counts these as pulls), by registry host. */
  readonly pulls?: Readonly<Record<string, number>>;
  /** Manifest GETs answered by source mirrors instead, by mirror host. */
  readonly mirrorPulls?: Readonly<Record<string, number>>;
}

/** The outcome of a sync. */
export interface SyncReport {
  readonly items: readonly SyncItem[];
  /** The plan's errors, and (image, target)s that failed as a whole. */
  readonly errors: readonly PlanError[];
  readonly stats: SyncStats;
}

/** Progress of a sync, for a progress display or metrics. */
export type SyncEvent =
  /**
   * `attempt` is 1, or 2 when a failed item is tried again at the end of the run (its first `item_done` said
   * `failed`); absent on `skip` items. Count outcomes from the last `item_done` of an item, or from the report.
   */
  | { readonly type: 'item_start'; readonly item: PlanItem; readonly attempt?: number }
  | { readonly type: 'item_done'; readonly item: SyncItem; readonly durationMs: number; readonly attempt?: number }
  | {
      readonly type: 'blob';
      readonly targetName: string;
      readonly digest: string;
      readonly outcome: 'uploaded' | 'mounted' | 'exists';
      /** Bytes sent (0 unless uploaded). */
      readonly bytes: number;
    };
