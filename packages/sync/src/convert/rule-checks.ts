// Checks shared by both converters: a regexp or semver constraint from the old pipeline becomes a rule only
// when the old tool accepted it and a team file can say the same thing.
import { compileTagRegExp, isTagError } from '@scanner/tag';
import type { TagRegExp } from '@scanner/tag';
import { isPolicyError, parsePolicy } from '@scanner/version';
import { mastermindsConstraintProblem, namesPrerelease } from './masterminds.ts';

/**
 * Tags the old pipeline always re-copied (retagger's `FindMissingTags`): a converted image marks the ones its
 * rules can select as `mutable`, so the plan re-checks them by digest.
 */
export const MUTABLE_TAGS: readonly string[] = ['latest', 'develop', 'debug'];

function withoutPackage(message: string): string {
  return message.replace(/^@scanner\/[\w-]+: /, '');
}

/** A compiled regexp (Go's RE2 syntax and semantics, as the old tools read it), or why it cannot be one. */
export function checkRegExp(pattern: string): { regexp: TagRegExp } | { problem: string } {
  try {
    return { regexp: compileTagRegExp(pattern) };
  } catch (error) {
    if (isTagError(error)) return { problem: withoutPackage(error.message) };
    throw error;
  }
}

/** What a semver constraint needs before it becomes a rule: why it cannot, and what to review. */
export interface SemverCheck {
  readonly problem: string | undefined;
  readonly warning: string | undefined;
}

/**
 * Checks a Masterminds constraint: refused when Masterminds refuses it (the old tools then copied nothing for
 * it) or when `@scanner/version` cannot read it; a warning when it names a prerelease, where the two differ
 * (Masterminds lets a prerelease through an AND only when every condition of it names one).
 */
export function checkSemver(constraint: string, extract?: { pattern: string; template: string }): SemverCheck {
  const refused = mastermindsConstraintProblem(constraint);
  if (refused !== undefined) return { problem: refused, warning: undefined };
  try {
    parsePolicy({ strategy: 'semver', constraint, strict: false, ...(extract === undefined ? {} : { extract }) }, { path: 'semver' });
  } catch (error) {
    if (!isPolicyError(error)) throw error;
    return { problem: withoutPackage(error.message).replace(/^semver(?:\.constraint)?: /, ''), warning: undefined };
  }
  const warning = namesPrerelease(constraint)
    ? `"${constraint}" names a prerelease: here any prerelease in the range matches, while Masterminds/semver lets one through an AND only when every condition names a prerelease; check the prereleases the plan selects`
    : undefined;
  return { problem: undefined, warning };
}
