// The dry run: for each (image, target), which selected tags are missing at the target, which mutable tags
// moved, and which are there already. Costs the tag lists and HEADs only; never a manifest GET for a tag
// compared by name.
import { isScannerError, parseImageReference, withDigest, withTag } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import { createScanner, isRegistryError } from '@scanner/registry';
import type { Cache, RegistryClient, Scanner } from '@scanner/registry';
import { createTagFilter, isTagName } from '@scanner/tag';
import { needsMetadata, parsePolicy, rankTags } from '@scanner/version';
import type { Policy } from '@scanner/version';
import { createPlanCache } from './plan-cache.ts';
import { REFERRERS_TAG_PATTERN, isReferrersTag } from './referrers.ts';
import { targetRepository, targetTagName } from './target-path.ts';
import type { MirrorConfig, MirrorImage, MirrorTarget, Plan, PlanAction, PlanError, PlanItem, PlanRepository } from './types.ts';

/** Options of {@link planImage}. */
export interface PlanImageOptions {
  /** The registry client; its settings carry the credentials of sources and targets. */
  readonly client: RegistryClient;
  readonly signal?: AbortSignal | undefined;
  /**
   * Where tag lists (and, for `newest-build` or `platforms` rules, digests and image metadata) are kept. With a
   * shared cache, plans of one image for several targets list its source tags once; tag lists are reused for
   * the scanner's `tagListTtlMs` (60 s).
   * @default a cache private to this call
   */
  readonly cache?: Cache | undefined;
  /** HEAD requests of one (image, target) in flight at once. @default 8 */
  readonly concurrency?: number | undefined;
}

/** Options of {@link planMirror}. */
export interface PlanMirrorOptions extends PlanImageOptions {
  /** Only images owned by this team. */
  readonly owner?: string | undefined;
  /** Only this target (by name). */
  readonly target?: string | undefined;
  /** Only this image: its {@link MirrorImage.id}, or a reference naming its source repository (`nginx`). */
  readonly image?: string | undefined;
  /** (image, target) pairs planned at once; HEADs within each are bounded by the same number. @default 8 */
  readonly concurrency?: number | undefined;
}

/** What the rules chose in a source repository: tags by name, and pinned digests. */
interface Selection {
  /** Source tag → digest when the selection learnt it (newest-build, platforms), else undefined. */
  readonly tags: ReadonlyMap<string, string | undefined>;
  readonly pinned: readonly { readonly digest: string; readonly tag: string }[];
}

/** Work one plan shares between its (image, target) units. */
interface PlanSession {
  readonly client: RegistryClient;
  readonly scanner: Scanner;
  readonly signal: AbortSignal | undefined;
  readonly concurrency: number;
  readonly selections: Map<string, Promise<Selection>>;
  readonly heads: Map<string, Promise<string>>;
}

const DEFAULT_CONCURRENCY = 8;

function createSession(options: PlanImageOptions): PlanSession {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`@scanner/sync: concurrency must be a positive integer, got ${String(concurrency)}`);
  return {
    client: options.client,
    scanner: createScanner({ client: options.client, cache: options.cache ?? createPlanCache(), concurrency }),
    signal: options.signal,
    concurrency,
    selections: new Map(),
    heads: new Map(),
  };
}

/** Runs `fn` over `items` with at most `limit` at once, keeping the order of results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function memo<T>(map: Map<string, Promise<T>>, key: string, work: () => Promise<T>): Promise<T> {
  let promise = map.get(key);
  if (promise === undefined) {
    promise = work();
    map.set(key, promise);
  }
  return promise;
}

/** The policy of a rule with the image's `exclude` added to `ignoreTags`, so `limit` counts only tags that may be mirrored. */
function withExclude(policy: Policy, exclude: readonly string[]): Policy {
  if (exclude.length === 0) return policy;
  return parsePolicy({ ...policy, ignoreTags: [...(policy.ignoreTags ?? []), ...exclude] });
}

/**
 * Applies the rules to the source repository's tags (listed once, whatever the number of rules and
 * targets): the union of what each rule selects, `limit` per rule, `exclude` before `limit`. Rules that rank
 * by name need nothing else; `newest-build` and `platforms` rules go through the scanner, which reuses the
 * same tag list and fetches only the metadata they need.
 */
function select(session: PlanSession, image: MirrorImage): Promise<Selection> {
  return memo(session.selections, image.id, async () => {
    const tags = new Map<string, string | undefined>();
    const pinned: { digest: string; tag: string }[] = [];
    // Referrers-schema and cosign tags are the referrers step's (see REFERRERS_TAG_PATTERN), never a rule's.
    const exclude = [...image.exclude, `regexp:${REFERRERS_TAG_PATTERN.source}`];
    const policies = image.rules.flatMap((rule) => (rule.kind === 'policy' ? [withExclude(parsePolicy(rule.policy), exclude)] : []));
    for (const rule of image.rules) if (rule.kind === 'digest') pinned.push({ digest: rule.digest, tag: rule.tag });
    if (policies.length === 0) return { tags, pinned };
    const signalOptions = session.signal === undefined ? {} : { signal: session.signal };
    const names = (await session.scanner.tags(image.source, signalOptions)).filter((tag) => !isReferrersTag(tag));
    for (const policy of policies) {
      if (!needsMetadata(policy)) {
        const ranked = rankTags(names, policy);
        for (const candidate of policy.limit === undefined ? ranked : ranked.slice(0, policy.limit)) {
          if (!tags.has(candidate.tag)) tags.set(candidate.tag, undefined);
        }
        continue;
      }
      // The scanner stops at `limit` (1 when absent, for platforms): a rule without one means every tag.
      const bounded = policy.limit === undefined ? parsePolicy({ ...policy, limit: Math.max(1, names.length) }) : policy;
      const result = await session.scanner.select(image.source, bounded, signalOptions);
      for (const candidate of result.candidates) {
        if (tags.get(candidate.tag) === undefined) tags.set(candidate.tag, candidate.digest);
      }
    }
    return { tags, pinned };
  });
}

function head(session: PlanSession, reference: ImageReference): Promise<string> {
  const key = String(reference);
  return memo(session.heads, key, () => session.client.resolveDigest(reference, session.signal === undefined ? {} : { signal: session.signal }));
}

function isMissing(error: unknown): boolean {
  return isRegistryError(error) && (error.code === 'NAME_UNKNOWN' || error.code === 'not_found' || error.code === 'MANIFEST_UNKNOWN');
}

function codeOf(error: unknown): string {
  if (isScannerError(error)) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'internal';
}

function oneLine(error: unknown): string {
  const text = isScannerError(error) ? error.detail : error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

function planError(image: MirrorImage, targetName: string, error: unknown, prefix = ''): PlanError {
  return {
    owner: image.owner,
    source: String(image.source),
    targetName,
    code: codeOf(error),
    message: `${prefix}${oneLine(error)}`,
    imageId: image.id,
    file: image.file,
  };
}

function issue(image: MirrorImage, targetName: string, code: string, message: string): PlanError {
  return { owner: image.owner, source: String(image.source), targetName, code, message, imageId: image.id, file: image.file };
}

/** One tag to decide at the target. */
interface Wanted {
  readonly source: ImageReference;
  readonly targetTag: string;
  /** Compared by digest: a `mutable` tag or a pinned digest. */
  readonly byDigest: boolean;
  /** Known without asking: a pinned digest, or what the selection learnt. */
  readonly knownDigest: string | undefined;
}

function wantedTags(image: MirrorImage, target: MirrorTarget, selection: Selection, errors: PlanError[]): Wanted[] {
  const isMutable = image.mutable.length === 0 ? () => false : createTagFilter({ allow: image.mutable });
  const pinnedTags = new Map<string, Wanted>();
  // Pinned digests first: their tag was written by hand, so it wins over a computed one.
  for (const pin of selection.pinned) {
    if (isReferrersTag(pin.tag)) {
      errors.push(issue(image, target.name, 'reserved_target_tag', `the pinned tag "${pin.tag}" is a name of the referrers tag schema (sha256-<hex>, cosign's .sig/.att/.sbom); the digest is left out`));
      continue;
    }
    const from = `${String(image.source)}@${pin.digest}`;
    const first = pinnedTags.get(pin.tag);
    if (first !== undefined) {
      errors.push(issue(image, target.name, 'target_tag_conflict', `target tag "${pin.tag}" is pinned to ${String(first.source)} and to ${from}; kept the first (fix the pinned tag)`));
      continue;
    }
    pinnedTags.set(pin.tag, { source: withDigest(image.source, pin.digest), targetTag: pin.tag, byDigest: true, knownDigest: pin.digest });
  }
  // Computed names (targetTag): several source tags turning into one name is a conflict in which no tag wins,
  // since which one a user meant (the newest? a "major" alias?) cannot be told.
  const computed = new Map<string, Wanted[]>();
  for (const [tag, digest] of [...selection.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const name = targetTagName(image.targetTag, tag);
    if (!isTagName(name)) {
      errors.push(issue(image, target.name, 'invalid_target_tag', `targetTag turns "${tag}" into "${name}", which is not a valid tag name; the tag is left out`));
      continue;
    }
    if (isReferrersTag(name)) {
      errors.push(
        issue(image, target.name, 'reserved_target_tag', `targetTag turns "${tag}" into "${name}", a name of the referrers tag schema (sha256-<hex>, cosign's .sig/.att/.sbom); the tag is left out`),
      );
      continue;
    }
    const wanted: Wanted = { source: withTag(image.source, tag), targetTag: name, byDigest: isMutable(tag), knownDigest: digest };
    computed.set(name, [...(computed.get(name) ?? []), wanted]);
  }
  const result = [...pinnedTags.values()];
  for (const [name, candidates] of computed) {
    const list = candidates.map((candidate) => String(candidate.source)).join(', ');
    const pinned = pinnedTags.get(name);
    if (pinned !== undefined) {
      errors.push(issue(image, target.name, 'target_tag_conflict', `target tag "${name}" is the pinned tag of ${String(pinned.source)}; left out ${list} (fix targetTag or the pinned tag)`));
    } else if (candidates.length > 1) {
      errors.push(
        issue(image, target.name, 'target_tag_conflict', `target tag "${name}" would be written from ${list}; none of them is copied (fix targetTag so that each selected tag gets its own name)`),
      );
    } else {
      result.push(...candidates);
    }
  }
  return result;
}

/** Manifest GETs the sync will make per source registry: see {@link Plan.pulls} and the README. */
function countPulls(items: readonly PlanItem[]): Record<string, number> {
  const seen = new Map<string, Set<string>>();
  for (const item of items) {
    if (item.action === 'skip') continue;
    const registry = parseImageReference(item.source).registry;
    let set = seen.get(registry);
    if (set === undefined) {
      set = new Set();
      seen.set(registry, set);
    }
    set.add(item.sourceDigest ?? item.source);
  }
  const pulls: Record<string, number> = {};
  for (const registry of [...seen.keys()].sort()) pulls[registry] = seen.get(registry)?.size ?? 0;
  return pulls;
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareItems(a: PlanItem, b: PlanItem): number {
  return compareText(a.owner, b.owner) || compareText(a.targetName, b.targetName) || compareText(a.target, b.target) || compareText(a.source, b.source);
}

function compareErrors(a: PlanError, b: PlanError): number {
  return (
    compareText(a.owner, b.owner) ||
    compareText(a.targetName, b.targetName) ||
    compareText(a.source, b.source) ||
    compareText(a.imageId, b.imageId) ||
    compareText(a.code, b.code) ||
    compareText(a.message, b.message)
  );
}

function compareRepositories(a: PlanRepository, b: PlanRepository): number {
  return compareText(a.targetName, b.targetName) || compareText(a.repository, b.repository);
}

/**
 * Merges plans (of several (image, target) pairs) into one: items, errors and repositories sorted (items by
 * owner, target name, target reference, source; so the JSON is the same on every run), repositories
 * deduplicated, and `pulls` counted over the merged items.
 */
export function mergePlans(plans: readonly Plan[]): Plan {
  const repositories = new Map<string, PlanRepository>();
  for (const plan of plans) {
    for (const repository of plan.repositories) {
      const key = `${repository.targetName}\u0000${repository.repository}`;
      const known = repositories.get(key);
      // One listing that found the repository is enough to say it exists.
      if (known === undefined || (!known.exists && repository.exists)) repositories.set(key, repository);
    }
  }
  const items = plans.flatMap((plan) => plan.items).sort(compareItems);
  return {
    items,
    errors: plans.flatMap((plan) => plan.errors).sort(compareErrors),
    repositories: [...repositories.values()].sort(compareRepositories),
    pulls: countPulls(items),
  };
}

async function planUnit(session: PlanSession, image: MirrorImage, target: MirrorTarget): Promise<Plan> {
  const errors: PlanError[] = [];
  const empty = (): Plan => ({ items: [], errors, repositories: [], pulls: {} });
  const rethrowAbort = (error: unknown): void => {
    if (session.signal?.aborted === true) throw session.signal.reason;
    if (isRegistryError(error) && error.code === 'aborted') throw error;
  };

  let repository: ImageReference;
  try {
    repository = targetRepository(image, target);
  } catch (error) {
    errors.push(planError(image, target.name, error, 'invalid target repository: '));
    return empty();
  }
  let selection: Selection;
  try {
    selection = await select(session, image);
  } catch (error) {
    rethrowAbort(error);
    errors.push(planError(image, target.name, error, `source ${String(image.source)}: `));
    return empty();
  }
  const wanted = wantedTags(image, target, selection, errors);
  // Nothing selected: nothing to compare, and a missing target repository is nothing to create.
  if (wanted.length === 0) return empty();

  let present: ReadonlySet<string>;
  let exists = true;
  try {
    present = new Set(await session.client.listTags(repository, session.signal === undefined ? {} : { signal: session.signal }));
  } catch (error) {
    rethrowAbort(error);
    if (!isMissing(error)) {
      errors.push(planError(image, target.name, error, `target ${String(repository)}: `));
      return empty();
    }
    // A repository that does not exist yet: every tag is missing, and some registries want it created first.
    exists = false;
    present = new Set();
  }

  const decide = async (want: Wanted): Promise<PlanItem | undefined> => {
    const targetRef = withTag(repository, want.targetTag);
    const base = {
      owner: image.owner,
      targetName: target.name,
      source: String(want.source),
      target: String(targetRef),
      imageId: image.id,
      file: image.file,
      mutable: want.byDigest,
      referrers: image.referrers,
      provenance: image.provenance,
    };
    const item = (action: PlanAction, sourceDigest: string | null, targetDigest: string | null): PlanItem => ({
      owner: base.owner,
      targetName: base.targetName,
      source: base.source,
      target: base.target,
      action,
      sourceDigest,
      targetDigest,
      imageId: base.imageId,
      file: base.file,
      mutable: base.mutable,
      referrers: base.referrers,
      provenance: base.provenance,
    });
    const isPresent = present.has(want.targetTag);
    if (!want.byDigest) return item(isPresent ? 'skip' : 'copy', want.knownDigest ?? null, null);

    let sourceDigest: string;
    try {
      sourceDigest = want.knownDigest ?? (await head(session, want.source));
    } catch (error) {
      rethrowAbort(error);
      errors.push(planError(image, target.name, error, `source ${String(want.source)}: `));
      return undefined;
    }
    if (!isPresent) return item('copy', sourceDigest, null);
    let targetDigest: string;
    try {
      targetDigest = await head(session, targetRef);
    } catch (error) {
      rethrowAbort(error);
      // Listed without a manifest (a registry mid-delete): as good as missing.
      if (isMissing(error)) return item('copy', sourceDigest, null);
      errors.push(planError(image, target.name, error, `target ${String(targetRef)}: `));
      return undefined;
    }
    return item(targetDigest === sourceDigest ? 'skip' : 'update', sourceDigest, targetDigest);
  };
  const decided = await mapLimit(wanted, session.concurrency, decide);
  const items = decided.filter((value): value is PlanItem => value !== undefined);
  return { items, errors, repositories: [{ targetName: target.name, repository: String(repository), exists }], pulls: countPulls(items) };
}

/**
 * Plans one image for one target: the unit the worker runs per (file, image, target).
 *
 * Requests: the source tag list (once per image and cache: see {@link PlanImageOptions.cache}), the target tag
 * list, and HEADs only where a digest decides: on both sides for `mutable` tags present at the target, the
 * source side for `mutable` tags missing there, the target side for pinned digests present there. Tags
 * compared by name cost no manifest request at all. `newest-build` and `platforms` rules also cost what a scan
 * with that policy costs.
 *
 * A target repository that does not exist (`NAME_UNKNOWN`/404 on its tag list) makes every tag `copy` and is
 * listed with `exists: false`. A failure (source unreachable, auth) becomes an entry of `errors`; only an
 * aborted `signal` rejects.
 */
export async function planImage(image: MirrorImage, target: MirrorTarget, options: PlanImageOptions): Promise<Plan> {
  return mergePlans([await planUnit(createSession(options), image, target)]);
}

function matchesImage(filter: string, image: MirrorImage): boolean {
  if (filter === image.id) return true;
  try {
    const ref = parseImageReference(filter);
    return ref.registry === image.source.registry && ref.repository === image.source.repository;
  } catch {
    return false;
  }
}

/**
 * Plans a whole config (or the part `owner`, `target` and `image` select): for each (image, target), list the
 * source tags once per image (shared by its targets and rules), select with the rules, apply `targetTag`, list
 * the target's tags and decide per tag `copy` (missing), `update` (a `mutable` tag or pinned digest whose
 * digest differs at the target) or `skip` (present). See {@link planImage} for the requests this costs.
 *
 * The result is sorted (items by owner, target name, target, source; errors and repositories likewise) so
 * its JSON is stable. `pulls` counts, per source registry, the manifest GETs the sync of this plan makes for
 * the top-level manifests: one per distinct source digest (when the plan knows it) or reference among `copy`
 * and `update` items. An index costs one more GET per child manifest, which the plan cannot see without
 * pulling the index itself, so the figure is a lower bound for multi-platform images; source mirrors may take
 * some of these GETs off the registry.
 *
 * @throws the signal's reason when `signal` aborts; nothing else (per-image failures are in `errors`).
 */
export async function planMirror(config: MirrorConfig, options: PlanMirrorOptions): Promise<Plan> {
  const session = createSession(options);
  const byName = new Map(config.targets.map((target) => [target.name, target]));
  const units: { image: MirrorImage; target: MirrorTarget }[] = [];
  for (const image of config.images) {
    if (options.owner !== undefined && image.owner !== options.owner) continue;
    if (options.image !== undefined && !matchesImage(options.image, image)) continue;
    for (const name of image.targets) {
      if (options.target !== undefined && name !== options.target) continue;
      const target = byName.get(name);
      if (target !== undefined) units.push({ image, target });
    }
  }
  const plans = await mapLimit(units, session.concurrency, ({ image, target }) => planUnit(session, image, target));
  return mergePlans(plans);
}
