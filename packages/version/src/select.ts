import type { Platform } from '@scanner/image';
import { platformMatches } from '@scanner/image';
import type { Tag } from '@scanner/tag';
import type { Columns, CompiledPolicy, Slot } from './compile.ts';
import { compilePolicy } from './compile.ts';
import { PolicyError } from './errors.ts';
import type { Policy } from './policy.ts';

/**
 * A tag that passed a policy: `tag` is the original (a name, or a {@link Tag} for {@link selectTags}),
 * `value` what the policy ranked it on (the name, or what `extract` pulled out of it).
 */
export interface Candidate<T = string> {
  readonly tag: T;
  readonly value: string;
}

/** Which metadata a policy needs beyond tag names, see {@link requiredMetadata}. */
export interface MetadataNeeds {
  /** Creation times (image config `created`): strategy `newest-build`. */
  readonly createdAt: boolean;
  /** Platforms (index entries or image config): the policy has `platforms`. */
  readonly platforms: boolean;
}

/** The candidates of one ranking: the columns the comparator reads, plus the original items. */
export interface Ranking<T> {
  readonly columns: Columns;
  readonly items: T[];
}

const astralPattern = /[\uD800-\uDFFF]/;

/**
 * Reads every item through the policy's name filters into columns. `createdAtOf` fills the newest-build
 * rank. With `dedupe`, a name seen before is skipped; without, the caller removes duplicates after ranking
 * (hashing every name is a large share of the cost of ranking 100,000 tags).
 */
export function collect<T>(
  items: Iterable<T>,
  nameOf: (item: T) => string,
  createdAtOf: ((item: T) => Date | undefined) | undefined,
  compiled: CompiledPolicy,
  dedupe: boolean,
): Ranking<T> {
  const columns: Columns = { names: [], values: [], versions: [], primary: [], astral: false, sawEqualNames: false };
  const kept: T[] = [];
  const seen = dedupe ? new Set<string>() : undefined;
  const slot: Slot = { value: '', version: undefined, primary: 0 };
  const byTime = compiled.strategy === 'newest-build';
  let extracted = false;
  for (const item of items) {
    const name = nameOf(item);
    if (seen !== undefined) {
      if (seen.has(name)) continue;
      seen.add(name);
    }
    if (!compiled.read(name, slot)) continue;
    let primary = slot.primary;
    if (byTime) {
      const time = createdAtOf?.(item)?.getTime();
      primary = time === undefined || Number.isNaN(time) ? -Infinity : time;
    }
    columns.names.push(name);
    columns.values.push(slot.value);
    if (slot.value !== name) extracted = true;
    columns.versions.push(slot.version);
    columns.primary.push(primary);
    kept.push(item);
  }
  // One scan of the joined text is far cheaper than a regexp call per name.
  columns.astral = astralPattern.test(columns.names.join('')) || (extracted && astralPattern.test(columns.values.join('')));
  return { columns, items: kept };
}

/** Indices of `ranking` best first. */
export function order<T>(ranking: Ranking<T>, compiled: CompiledPolicy): number[] {
  const count = ranking.items.length;
  const indices: number[] = [];
  for (let index = 0; index < count; index += 1) indices.push(index);
  return indices.sort(compiled.comparator(ranking.columns));
}

function candidates<T>(ranking: Ranking<T>, indices: readonly number[]): Candidate<T>[] {
  const { items, columns } = ranking;
  return indices.map((index) => ({ tag: items[index] as T, value: columns.values[index] ?? '' }));
}

const identity = (name: string): string => name;
const nameOfTag = (tag: Tag): string => tag.name;
const createdAtOfTag = (tag: Tag): Date | undefined => tag.createdAt;

/**
 * The tag names that pass the policy's name filters, in input order: `allowTags`/`ignoreTags`, `extract`,
 * and what the strategy can read (a version in range for `semver`, a finite number for `numerical`, the
 * tracked tag for `digest`). Needs no metadata, works for every strategy; duplicates keep their first
 * occurrence.
 *
 * @throws {PolicyError} when the policy is invalid.
 */
export function filterTags(names: Iterable<string>, policy: Policy): Candidate[] {
  const ranking = collect(names, identity, undefined, compilePolicy(policy), true);
  return candidates(ranking, ranking.items.map((_, index) => index));
}

/**
 * {@link filterTags}, then ranked best first by name alone: the first stage of a scan, before any metadata
 * is fetched. `limit` and `platforms` are not applied: walk the result, fetch platforms for each candidate
 * as needed, keep those {@link matchesPlatforms} accepts, and stop at `limit`.
 *
 * @throws {PolicyError} `needs_metadata` for `newest-build`, which cannot be ranked without creation times
 * (use {@link filterTags}, fetch the times, then {@link selectTags}); other codes when the policy is invalid.
 */
export function rankTags(names: Iterable<string>, policy: Policy): Candidate[] {
  const compiled = compilePolicy(policy);
  if (compiled.strategy === 'newest-build') {
    throw new PolicyError(
      'needs_metadata',
      'rankTags cannot rank strategy "newest-build" by name: it needs creation times; call filterTags, fetch each candidate\'s creation time, then selectTags',
    );
  }
  const ranking = collect(names, identity, undefined, compiled, false);
  const indices = order(ranking, compiled);
  if (!ranking.columns.sawEqualNames) return candidates(ranking, indices);
  // The key is a function of the name, so a duplicate compares equal and the stable sort puts it right
  // after its first occurrence.
  const sortedNames = ranking.columns.names;
  const unique = indices.filter((index, position) => position === 0 || sortedNames[index] !== sortedNames[indices[position - 1] ?? -1]);
  return candidates(ranking, unique);
}

/**
 * True when `tag` satisfies the policy's `platforms`: always without `platforms`; otherwise the tag must have
 * platform information and one of its platforms must match one requested (`platformMatches` of
 * `@scanner/image`: `linux/arm64` matches `linux/arm64/v8`, `linux/arm` matches any arm variant).
 *
 * @throws {PolicyError} when the policy is invalid.
 */
export function matchesPlatforms(tag: Pick<Tag, 'platforms'>, policy: Policy): boolean {
  const requested = compilePolicy(policy).platforms;
  if (requested === undefined) return true;
  const actual: readonly Platform[] | undefined = tag.platforms;
  if (actual === undefined) return false;
  return requested.some((want) => actual.some((have) => platformMatches(want, have)));
}

/**
 * Which metadata the policy needs beyond names: creation times for `newest-build`, platforms when `platforms`
 * is set.
 *
 * @throws {PolicyError} when the policy is invalid.
 */
export function requiredMetadata(policy: Policy): MetadataNeeds {
  const compiled = compilePolicy(policy);
  return { createdAt: compiled.strategy === 'newest-build', platforms: compiled.platforms !== undefined };
}

/**
 * True when names alone cannot decide: the strategy needs creation times (`newest-build`) or the policy
 * filters on `platforms`.
 *
 * @throws {PolicyError} when the policy is invalid.
 */
export function needsMetadata(policy: Policy): boolean {
  const needs = requiredMetadata(policy);
  return needs.createdAt || needs.platforms;
}

/**
 * Applies the whole policy to tags with whatever metadata they have: name filters, then `platforms`
 * (a tag without platform information does not pass), then ranking best first (`newest-build`: by
 * `createdAt`, undated tags last; ties always go to the byte-wise greater tag name), then `limit`. A name
 * given twice keeps its best-ranked occurrence.
 *
 * @throws {PolicyError} when the policy is invalid.
 */
export function selectTags(tags: Iterable<Tag>, policy: Policy): Candidate<Tag>[] {
  const compiled = compilePolicy(policy);
  const ranking = collect(tags, nameOfTag, createdAtOfTag, compiled, false);
  const limit = compiled.limit ?? Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  const chosen: number[] = [];
  for (const index of order(ranking, compiled)) {
    if (chosen.length >= limit) break;
    const name = ranking.columns.names[index] ?? '';
    // A name given twice (with different metadata) keeps its best-ranked occurrence.
    if (seen.has(name)) continue;
    seen.add(name);
    if (compiled.platforms !== undefined && !matchesPlatforms(ranking.items[index] as Tag, policy)) continue;
    chosen.push(index);
  }
  return candidates(ranking, chosen);
}
