import type { SemanticVersion } from '@scanner/tag';
import { compareSemver } from '@scanner/tag';
import semver from 'semver';

type Operator = '' | '=' | '<' | '<=' | '>' | '>=';

interface Bound {
  readonly operator: Operator;
  readonly version: SemanticVersion;
}

/** A semver range compiled for fast repeated tests against parsed versions. */
export interface VersionRange {
  /** True when the range itself names a prerelease (e.g. `>=1.0.0-rc.1`), which lets prereleases in. */
  readonly namesPrerelease: boolean;
  /** True when `version` satisfies the range. */
  test(version: SemanticVersion): boolean;
}

/** Thrown by {@link parseRange} with a reason the caller puts after the field path. */
export class RangeSyntaxError extends Error {
  override readonly name = 'RangeSyntaxError';
}

// `!=1.2` (Masterminds) has no node-semver form: it becomes "below 1.2 or above 1.2", split per alternative.
const notEqualPattern = /!=\s*([^\s,|]+)/g;

/**
 * Rewrites a Masterminds constraint (Argo CD Image Updater, Kargo, Flux) into node-semver syntax: commas mean
 * AND (a space in node-semver), `=>`/`=<` are `>=`/`<=`, and `!=` splits an alternative in two. node-semver
 * syntax passes through unchanged.
 */
export function toNodeRange(constraint: string): string {
  const alternatives = constraint.split('||').map((alternative) => alternative.trim());
  if (alternatives.some((alternative) => alternative === '')) {
    throw new RangeSyntaxError(`invalid semver range "${constraint}": an alternative around "||" is empty`);
  }
  const sets: string[] = [];
  for (const alternative of alternatives) {
    if (alternative.split(',').some((condition) => condition.trim() === '')) {
      // node-semver would read the empty condition as `*` and silently widen the range.
      throw new RangeSyntaxError(`invalid semver range "${constraint}": a condition between commas is empty`);
    }
    const excluded: string[] = [];
    const rest = alternative
      .replace(notEqualPattern, (_match, version: string) => {
        excluded.push(version);
        return ' ';
      })
      .replace(/=>/g, '>=')
      .replace(/=</g, '<=')
      .replace(/,/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    let expanded = [rest];
    for (const version of excluded) expanded = expanded.flatMap((set) => [`${set} <${version}`.trim(), `${set} >${version}`.trim()]);
    sets.push(...expanded);
  }
  return sets.join(' || ');
}

function toSemanticVersion(version: semver.SemVer): SemanticVersion {
  return {
    major: version.major,
    minor: version.minor,
    patch: version.patch,
    prerelease: version.prerelease.map(String),
    build: [],
  };
}

function satisfies(version: SemanticVersion, bound: Bound): boolean {
  const order = compareSemver(version, bound.version);
  switch (bound.operator) {
    case '':
    case '=':
      return order === 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

/**
 * Parses a semver range once: node-semver ranges plus the Masterminds forms (`>=1.0, <2.0`, `!=1.3.0`,
 * `1.x`, `v` prefixes). Prereleases are not filtered here: the caller decides (see `namesPrerelease`).
 *
 * @throws {RangeSyntaxError} when the constraint is empty or not a range.
 */
export function parseRange(constraint: string): VersionRange {
  const invalid = `invalid semver range "${constraint}"`;
  if (constraint.trim() === '') throw new RangeSyntaxError(`${invalid}: it is empty; omit the constraint to accept every version`);
  const nodeRange = toNodeRange(constraint);
  // A prerelease the user wrote, not one node-semver adds when it desugars `<2.0` into `<2.0.0-0`.
  const namesPrerelease = /[\dxX*]-[0-9A-Za-z]/.test(constraint);
  let range: semver.Range;
  try {
    range = new semver.Range(nodeRange, { includePrerelease: true });
  } catch (error) {
    throw new RangeSyntaxError(invalid, { cause: error });
  }
  const sets: Bound[][] = range.set.map((comparators) =>
    comparators
      // `*` (an ANY comparator, whose `semver` is a symbol) constrains nothing.
      .filter((comparator) => typeof comparator.semver === 'object')
      .map((comparator) => ({ operator: comparator.operator, version: toSemanticVersion(comparator.semver) })),
  );
  return {
    namesPrerelease,
    // Plain loops: this runs once per tag, and closures per call would allocate.
    test(version) {
      for (const bounds of sets) {
        let all = true;
        for (const bound of bounds) {
          if (!satisfies(version, bound)) {
            all = false;
            break;
          }
        }
        if (all) return true;
      }
      return false;
    },
  };
}
