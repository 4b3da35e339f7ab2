// What current skopeo (`images-by-semver`) and the retagger (`semver`) select, per Masterminds/semver v3
// (`NewVersion` coercing `1.2` to 1.2.0 and allowing a `v` prefix; `Constraints.Check` with its per-condition
// prerelease rule), next to what a converted rule (`semver`, `strict: false`) selects here. Each expectation
// was worked out from Masterminds' `version.go` and `constraints.go`, cited per row.
import { parsePolicy, rankTags } from '@scanner/version';
import { describe, expect, it } from 'vitest';
import { mastermindsConstraintProblem, namesPrerelease } from './masterminds.ts';
import { checkSemver } from './rule-checks.ts';

/** Whether the converted rule selects `tag`, as the plan's selection (rankTags) does. */
function selects(constraint: string, tag: string): boolean {
  return rankTags([tag], parsePolicy({ strategy: 'semver', constraint, strict: false })).length === 1;
}

// [constraint, tag, Masterminds selects it, why]
const agreed: readonly (readonly [string, string, boolean, string])[] = [
  ['>= 1.2', '1.2', true, 'NewVersion coerces 1.2 to 1.2.0'],
  ['>= 1.2', 'v1.3', true, 'a lower-case v prefix is allowed'],
  ['>= 1.2', '1', false, '1 is 1.0.0'],
  ['>= 1.2', '2', true, '2 is 2.0.0'],
  ['>= 1.2', '01.3.0', true, 'leading zeros are coerced'],
  ['>= 1.2', '1.3.0+build.7', true, 'build metadata is ignored'],
  ['>= 1.2', 'V1.3.0', false, 'only a lower-case v is a prefix'],
  ['>= 1.2', '1.2.3.4', false, 'four parts are not a version'],
  ['>= 1.2', 'latest', false, 'not a version'],
  ['>= 1.2', '1.3.0-rc.1', false, 'a prerelease fails a condition that names none'],
  ['>= 16.0', '16.4.0-debian-12-r5', false, 'the Bitnami suffix is a prerelease'],
  ['=> 1.2', '1.2.0', true, '=> is >='],
  ['>= v0.22.0', 'v0.22.1', true, 'v in the constraint too'],
  ['~1.2', '1.2.9', true, '~1.2 is >=1.2.0 <1.3.0'],
  ['~1.2', '1.3.0', false, '~1.2 is >=1.2.0 <1.3.0'],
  ['~> 1.2', '1.2.4', true, '~> is ~'],
  ['~1', '1.9.0', true, '~1 is >=1.0.0 <2.0.0'],
  ['^1.2', '1.9.0', true, '^1.2 is >=1.2.0 <2.0.0'],
  ['^1.2', '2.0.0', false, '^1.2 is >=1.2.0 <2.0.0'],
  ['^0.2.3', '0.2.9', true, '^0.2.3 is >=0.2.3 <0.3.0'],
  ['^0.2.3', '0.3.0', false, '^0.2.3 is >=0.2.3 <0.3.0'],
  ['^0.0.3', '0.0.3', true, '^0.0.3 is >=0.0.3 <0.0.4'],
  ['^0.0.3', '0.0.4', false, '^0.0.3 is >=0.0.3 <0.0.4'],
  ['^0', '0.9.0', true, '^0 is >=0.0.0 <1.0.0'],
  ['1.2.x', '1.2.7', true, 'a wildcard is a tilde range'],
  ['1.2.x', '1.3.0', false, 'a wildcard is a tilde range'],
  ['1.2', '1.2.5', true, 'a bare 1.2 is 1.2.x'],
  ['1.2.3', '1.2.3', true, 'a bare full version is ='],
  ['1.2.3', '1.2.4', false, 'a bare full version is ='],
  ['>1.2', '1.2.5', false, '>1.2 needs a greater minor (patchDirty)'],
  ['>1.2', '1.3.0', true, '>1.2 needs a greater minor (patchDirty)'],
  ['>11', '11.1.0', false, '>11 needs a greater major (minorDirty)'],
  ['>11', '12.0.0', true, '>11 needs a greater major (minorDirty)'],
  ['<=1.2', '1.2.9', true, '<=1.2 takes every 1.2.x (dirty)'],
  ['<=1.2', '1.3.0', false, '<=1.2 takes every 1.2.x (dirty)'],
  ['<1.2', '1.1.9', true, '<1.2 is <1.2.0'],
  ['<1.2', '1.2.0', false, '<1.2 is <1.2.0'],
  ['!=1.2.3', '1.2.3', false, 'not equal'],
  ['!=1.2.3', '1.2.4', true, 'not equal'],
  ['!=1.2', '1.2.7', false, '!=1.2 excludes every 1.2.x'],
  ['>= 1.0, < 2.0', '1.5.0', true, 'a comma is AND'],
  ['>= 1.0, < 2.0', '2.0.0', false, 'a comma is AND'],
  ['>= 1.0 < 2.0', '1.5', true, 'a space is AND'],
  ['1.2 - 1.4.5', '1.4.5', true, 'a hyphen range is >= low, <= high'],
  ['1.2 - 1.4.5', '1.4.6', false, 'a hyphen range is >= low, <= high'],
  ['1.2 - 1.4.5', '1.1.9', false, 'a hyphen range is >= low, <= high'],
  ['1.2 - 1.4', '1.4.9', true, '<= 1.4 takes every 1.4.x'],
  ['< 1.0 || >= 3.0', '0.9.0', true, '|| is OR'],
  ['< 1.0 || >= 3.0', '2.0.0', false, '|| is OR'],
  ['< 1.0 || >= 3.0', '3.1.0', true, '|| is OR'],
  ['*', '0.0.1', true, '* is any release'],
  ['*', '1.0.0-rc.1', false, '* names no prerelease'],
  ['>= 1.0.0-rc.1', '1.0.0-rc.2', true, 'the condition names a prerelease'],
  ['>= 1.0.0-rc.1', '1.5.0-beta', true, 'Masterminds compares any prerelease once the condition names one'],
  ['>= 1.0.0-rc.1', '0.9.0', false, 'below the range'],
];

// Where a converted rule and Masterminds part ways: rare forms, documented in the README.
const differing: readonly (readonly [string, string, boolean, string])[] = [
  ['>= 1.0.0-rc.1, < 2.0.0', '1.5.0-beta', false, 'Masterminds: "< 2.0.0" names no prerelease, so the AND fails; here the range names one, so prereleases are in'],
  ['!=1.2.3', '1.5.0-rc.1', true, 'Masterminds: a non-wildcard != skips the prerelease check; here prereleases need a range that names one'],
  ['~0.0.0', '5.0.0', true, 'Masterminds: ~0.0.0 is a special case meaning any version; here it is >=0.0.0 <0.1.0'],
  ['>= 1.0.0-0', '1.2.3-01', false, 'Masterminds refuses a numeric prerelease identifier with a leading zero as a version; here it is read'],
];

describe('semver rules converted from skopeo and the retagger', () => {
  it.each(agreed)('%s on %s: Masterminds %s (%s), and so does the converted rule', (constraint, tag, expected) => {
    expect(selects(constraint, tag)).toBe(expected);
  });

  it.each(differing)('%s on %s: Masterminds %s, the converted rule differs (%s)', (constraint, tag, masterminds) => {
    expect(selects(constraint, tag)).toBe(!masterminds);
    // Every differing case names a prerelease or is a special form the README lists; the converter warns on the former.
    if (namesPrerelease(constraint)) expect(checkSemver(constraint).warning).toMatch(/names a prerelease/);
  });

  it('tests the extracted part, as the retagger tests the first group of filter', () => {
    const policy = parsePolicy({ strategy: 'semver', constraint: '>= 3.10', strict: false, extract: { pattern: '^(.+)-alpine$', template: '$1' } });
    expect(rankTags(['3.12-alpine', '3.9-alpine', '3.12', 'edge-alpine', '3.11.2-alpine'], policy).map((candidate) => candidate.tag)).toEqual(['3.12-alpine', '3.11.2-alpine']);
  });
});

describe('mastermindsConstraintProblem', () => {
  it.each(['>= 1.2', '>=1.2, <2', '>= 1.0 < 2.0', '~1.2.3', '~> 1.2', '^2', '1.2.x', '*', 'x', '=> 1', '=< 2', '!= 1.3', 'v1.2.3', '1.2 - 1.4.5', '< 1.0 || >= 3.0', '>= 1.0.0-rc.1+build.2', ' >= 1.2 '])(
    'accepts %j',
    (constraint) => {
      expect(mastermindsConstraintProblem(constraint)).toBeUndefined();
    },
  );

  it.each(['', ' ', '1.x.y', '>= 1.2 <<', '>= 1.2 ||', '|| 1', 'latest', '>==1.2', '1.2.3.4', '>= 1.2;', '~=1.2', '== 1.2'])('refuses %j', (constraint) => {
    expect(mastermindsConstraintProblem(constraint)).toMatch(/Masterminds\/semver \(skopeo, retagger\) refuses/);
  });
});
