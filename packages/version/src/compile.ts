import type { Platform } from '@scanner/image';
import { isImageError, parsePlatform } from '@scanner/image';
import type { Extractor, SemanticVersion } from '@scanner/tag';
import { compareBytes, compareSemver, createExtractor, createTagFilter, isTagError, isTagName, parseNumber, parseSemver } from '@scanner/tag';
import { policyError } from './errors.ts';
import type { PolicyError, PolicyProblem } from './errors.ts';
import type { Policy } from './policy.ts';
import { RangeSyntaxError, parseRange } from './range.ts';
import type { VersionRange } from './range.ts';
import type { Strategy } from './strategy.ts';
import { resolveStrategy, strategyList } from './strategy.ts';

/** What {@link CompiledPolicy.read} fills in for a name that passes: reused between calls to spare allocations. */
export interface Slot {
  /** The name, or what `extract` made of it. */
  value: string;
  /** The parsed version (semver); `undefined` for the other strategies. */
  version: SemanticVersion | undefined;
  /**
   * A number that orders candidates, greater is better, or `-1` when it cannot (semver beyond the packed
   * range): semver packs major, minor, patch and "is a release"; numerical holds the number; the others 0.
   */
  primary: number;
}

/**
 * The candidates being ranked, column by column (index `i` is one candidate), so that ranking 100,000 tags
 * allocates no object per tag beyond its result.
 */
export interface Columns {
  readonly names: string[];
  readonly values: string[];
  readonly versions: (SemanticVersion | undefined)[];
  readonly primary: number[];
  /** Some name or value holds a UTF-16 surrogate, so `<` would not be byte order. */
  astral: boolean;
  /**
   * Set when the comparator found two equal names. A comparison sort compares every pair it leaves adjacent,
   * so if this stays false after sorting, no name occurs twice and there is nothing to deduplicate.
   */
  sawEqualNames: boolean;
}

/** A policy checked and turned into functions, cached per policy object. */
export interface CompiledPolicy {
  readonly strategy: Strategy;
  readonly limit: number | undefined;
  readonly platforms: readonly Platform[] | undefined;
  /** Fills `slot` for a name that passes the name filters; false when they drop it. */
  readonly read: (name: string, slot: Slot) => boolean;
  /** Best first over the indices of `columns`; a total order over distinct names. */
  readonly comparator: (columns: Columns) => (i: number, j: number) => number;
}

const cache = new WeakMap<Policy, CompiledPolicy>();

/** The same hint for every audience: the fix is in the value itself. */
function everyone(hint: string): NonNullable<PolicyProblem['hints']> {
  return { cli: hint, config: hint, library: hint };
}

/** A nested package's error (`TagError`, `ImageError`) as the problem of one policy field. */
function fromNested(field: string, input: string, error: { detail: string; fields: { reason?: string | undefined; hints?: PolicyProblem['hints'] } }): PolicyProblem {
  return { field, input, reason: error.fields.reason ?? error.detail, hints: error.fields.hints, cause: error };
}

function onlyFor(root: string, field: string, strategy: Strategy, allowed: readonly Strategy[]): PolicyError {
  return policyError('invalid_policy', {
    field: `${root}.${field}`,
    reason: `not used by strategy "${strategy}" (only by ${allowed.join(', ')})`,
    hints: everyone('remove it'),
  });
}

function compileMatchers(root: string, policy: Policy): (name: string) => boolean {
  for (const field of ['allowTags', 'ignoreTags'] as const) {
    const list = policy[field];
    if (list === undefined) continue;
    if (field === 'allowTags' && list.length === 0) {
      throw policyError('invalid_policy', { field: `${root}.allowTags`, reason: 'an empty list allows no tag', hints: everyone('omit it to allow every tag') });
    }
    list.forEach((matcher, index) => {
      try {
        createTagFilter({ allow: [matcher] });
      } catch (error) {
        if (!isTagError(error)) throw error;
        throw policyError('invalid_matcher', fromNested(`${root}.${field}[${index}]`, matcher, error));
      }
    });
  }
  return createTagFilter({ allow: policy.allowTags, ignore: policy.ignoreTags });
}

function compileExtract(root: string, policy: Policy, strategy: Strategy): Extractor | undefined {
  if (policy.extract === undefined) return undefined;
  if (strategy === 'digest') throw onlyFor(root, 'extract', strategy, ['semver', 'newest-build', 'alphabetical', 'numerical']);
  try {
    return createExtractor(policy.extract);
  } catch (error) {
    if (!isTagError(error)) throw error;
    const field = error.code === 'invalid_template' ? 'template' : 'pattern';
    throw policyError('invalid_extract', fromNested(`${root}.extract.${field}`, policy.extract[field], error));
  }
}

function compilePlatforms(root: string, policy: Policy): readonly Platform[] | undefined {
  if (policy.platforms === undefined) return undefined;
  if (policy.platforms.length === 0) {
    throw policyError('invalid_policy', { field: `${root}.platforms`, reason: 'an empty list', hints: everyone('omit it to accept any platform') });
  }
  return policy.platforms.map((text, index) => {
    try {
      return parsePlatform(text);
    } catch (error) {
      if (!isImageError(error)) throw error;
      throw policyError('invalid_platform', fromNested(`${root}.platforms[${index}]`, text, error));
    }
  });
}

function compileRange(root: string, constraint: string): VersionRange {
  try {
    return parseRange(constraint);
  } catch (error) {
    if (!(error instanceof RangeSyntaxError)) throw error;
    throw policyError('invalid_constraint', { field: `${root}.constraint`, input: constraint, reason: error.message, cause: error.cause ?? error });
  }
}

function checkFields(root: string, policy: Policy, strategy: Strategy): void {
  if (policy.constraint !== undefined && strategy !== 'semver' && strategy !== 'digest') {
    throw onlyFor(root, 'constraint', strategy, ['semver', 'digest']);
  }
  if (policy.strict !== undefined && strategy !== 'semver') throw onlyFor(root, 'strict', strategy, ['semver']);
  if (policy.prereleases !== undefined && strategy !== 'semver') throw onlyFor(root, 'prereleases', strategy, ['semver']);
  if (policy.order !== undefined && strategy !== 'alphabetical' && strategy !== 'numerical') {
    throw onlyFor(root, 'order', strategy, ['alphabetical', 'numerical']);
  }
  if (policy.limit !== undefined && !(Number.isSafeInteger(policy.limit) && policy.limit > 0)) {
    throw policyError('invalid_policy', { field: `${root}.limit`, reason: `expected a positive integer, got ${String(policy.limit)}` });
  }
}

// Semver triples that fit pack into one safe integer: ((major·2^16 + minor)·2^16 + patch)·2 + isRelease.
const PACK_LIMIT = 0x10000;
const MAJOR_LIMIT = 0x40000;

function packVersion(version: SemanticVersion): number {
  if (version.major >= MAJOR_LIMIT || version.minor >= PACK_LIMIT || version.patch >= PACK_LIMIT) return -1;
  return ((version.major * PACK_LIMIT + version.minor) * PACK_LIMIT + version.patch) * 2 + (version.prerelease.length === 0 ? 1 : 0);
}

/** Byte-wise greater first; plain `<` is byte order when no surrogate is involved. */
function descending(columns: Columns, column: 'names' | 'values'): (i: number, j: number) => number {
  const texts = columns[column];
  const track = column === 'names';
  if (columns.astral) {
    return (i, j) => {
      const order = compareBytes(texts[j] ?? '', texts[i] ?? '');
      if (order === 0 && track) columns.sawEqualNames = true;
      return order;
    };
  }
  return (i, j) => {
    const a = texts[i] ?? '';
    const b = texts[j] ?? '';
    if (a > b) return -1;
    if (a < b) return 1;
    if (track) columns.sawEqualNames = true;
    return 0;
  };
}

function byPrimary(columns: Columns, greaterFirst: boolean, tie: (i: number, j: number) => number): (i: number, j: number) => number {
  const primary = columns.primary;
  return greaterFirst
    ? (i, j) => {
        const a = primary[i] ?? 0;
        const b = primary[j] ?? 0;
        return a !== b ? (a > b ? -1 : 1) : tie(i, j);
      }
    : (i, j) => {
        const a = primary[i] ?? 0;
        const b = primary[j] ?? 0;
        return a !== b ? (a < b ? -1 : 1) : tie(i, j);
      };
}

/**
 * Checks a policy and compiles it; the result is cached per policy object, so do not mutate a policy after
 * using it (those from `parsePolicy` are frozen).
 *
 * @throws {PolicyError} naming the field under `root`.
 */
export function compilePolicy(policy: Policy, root = 'policy'): CompiledPolicy {
  const cached = cache.get(policy);
  if (cached !== undefined) return cached;
  const strategy = resolveStrategy(policy.strategy);
  if (strategy === undefined) {
    throw policyError('invalid_policy', {
      field: `${root}.strategy`,
      input: policy.strategy,
      reason: `unknown strategy ${JSON.stringify(policy.strategy)}`,
      hints: everyone(`use one of ${strategyList}`),
    });
  }
  checkFields(root, policy, strategy);
  const accept = compileMatchers(root, policy);
  const extractor = compileExtract(root, policy, strategy);
  const platforms = compilePlatforms(root, policy);
  const valueOf = extractor === undefined ? (name: string) => name : (name: string) => extractor.extract(name);
  const ascending = policy.order !== 'desc';

  let read: CompiledPolicy['read'];
  let comparator: CompiledPolicy['comparator'];
  switch (strategy) {
    case 'semver': {
      const options = { strict: policy.strict ?? true };
      const range = policy.constraint === undefined ? undefined : compileRange(root, policy.constraint);
      const prereleases = policy.prereleases === true || range?.namesPrerelease === true;
      // Cheapest test first: most tags of a busy repository are no versions at all; the matchers run last.
      read = (name, slot) => {
        const value = valueOf(name);
        if (value === undefined) return false;
        const version = parseSemver(value, options);
        if (version === undefined) return false;
        if (!prereleases && version.prerelease.length > 0) return false;
        if (range !== undefined && !range.test(version)) return false;
        if (!accept(name)) return false;
        slot.value = value;
        slot.version = version;
        slot.primary = packVersion(version);
        return true;
      };
      comparator = (columns) => {
        const { primary, versions } = columns;
        const byName = descending(columns, 'names');
        return (i, j) => {
          const a = primary[i] ?? -1;
          const b = primary[j] ?? -1;
          if (a !== b && a >= 0 && b >= 0) return a > b ? -1 : 1;
          const x = versions[i];
          const y = versions[j];
          return (x === undefined || y === undefined ? 0 : compareSemver(y, x)) || byName(i, j);
        };
      };
      break;
    }
    case 'numerical': {
      read = (name, slot) => {
        const value = valueOf(name);
        const number = value === undefined ? undefined : parseNumber(value);
        if (value === undefined || number === undefined || !accept(name)) return false;
        slot.value = value;
        slot.version = undefined;
        // -0 and 0 are the same number; keep one so ties fall through to the name.
        slot.primary = number === 0 ? 0 : number;
        return true;
      };
      comparator = (columns) => byPrimary(columns, ascending, descending(columns, 'names'));
      break;
    }
    case 'alphabetical':
    case 'newest-build': {
      read = (name, slot) => {
        if (!accept(name)) return false;
        const value = valueOf(name);
        if (value === undefined) return false;
        slot.value = value;
        slot.version = undefined;
        slot.primary = 0;
        return true;
      };
      comparator =
        strategy === 'newest-build'
          ? // The caller stores creation times (ms, -Infinity when unknown) in `primary`.
            (columns) => byPrimary(columns, true, descending(columns, 'names'))
          : (columns) => {
              const byValue = descending(columns, 'values');
              const byName = descending(columns, 'names');
              return ascending ? (i, j) => byValue(i, j) || byName(i, j) : (i, j) => byValue(j, i) || byName(i, j);
            };
      break;
    }
    case 'digest': {
      const tracked = policy.constraint;
      if (tracked === undefined) {
        throw policyError('invalid_constraint', {
          field: `${root}.constraint`,
          reason: 'required by strategy "digest"',
          hints: {
            cli: 'name the tag to track, e.g. --constraint latest',
            config: 'name the tag to track, e.g. constraint: latest',
            library: 'name the tag to track, e.g. "latest"',
          },
        });
      }
      if (!isTagName(tracked)) {
        throw policyError('invalid_constraint', {
          field: `${root}.constraint`,
          input: tracked,
          reason: `"${tracked}" is not a valid tag name ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})`,
        });
      }
      read = (name, slot) => {
        if (name !== tracked || !accept(name)) return false;
        slot.value = name;
        slot.version = undefined;
        slot.primary = 0;
        return true;
      };
      comparator = (columns) => descending(columns, 'names');
      break;
    }
  }
  const compiled: CompiledPolicy = { strategy, limit: policy.limit, platforms, read, comparator };
  cache.set(policy, compiled);
  return compiled;
}
