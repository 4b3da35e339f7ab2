import { formatSemver, parseSemver } from '@scanner/tag';
import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, test } from 'vitest';
import { parseRange, RangeSyntaxError, toNodeRange } from './range.ts';

describe('toNodeRange (Masterminds → node-semver)', () => {
  test.each([
    ['>=1.0, <2.0', '>=1.0 <2.0'],
    ['>=1.0,<2.0', '>=1.0 <2.0'],
    ['>= 1.0, < 2.0', '>= 1.0 < 2.0'],
    ['=>1.0, =<2.0', '>=1.0 <=2.0'],
    ['^1.2 || ^2.0', '^1.2 || ^2.0'],
    ['!=1.3.0', '<1.3.0 || >1.3.0'],
    ['>=1.0, <2.0, !=1.3.0', '>=1.0 <2.0 <1.3.0 || >=1.0 <2.0 >1.3.0'],
    ['>=1, != 1.2, != 1.4', '>=1 <1.2 <1.4 || >=1 <1.2 >1.4 || >=1 >1.2 <1.4 || >=1 >1.2 >1.4'],
    ['1.x', '1.x'],
  ])('%j becomes %j', (input, output) => {
    expect(toNodeRange(input)).toBe(output);
  });

  test.each(['^1 || ', '>=1.0,', ',', '>=1.0,,<2.0', ', <2.0'])('%j is an error, not a silent "*"', (text) => {
    expect(() => toNodeRange(text)).toThrow(RangeSyntaxError);
  });
});

function accepts(range: string, tag: string): boolean {
  const version = parseSemver(tag, { strict: false });
  if (version === undefined) throw new Error(`not a version: ${tag}`);
  return parseRange(range).test(version);
}

describe('parseRange', () => {
  test.each([
    // [range, version, satisfied]
    ['>=1.0, <2.0', '1.0.0', true],
    ['>=1.0, <2.0', '1.9.9', true],
    ['>=1.0, <2.0', '2.0.0', false],
    ['>=1.0, <2.0', '0.9.0', false],
    ['1.x', '1.7.0', true],
    ['1.x', '2.0.0', false],
    ['v1.x', '1.7.0', true],
    ['>=v1.2.0', '1.2.0', true],
    ['!=1.3.0', '1.3.0', false],
    ['!=1.3.0', '1.3.1', true],
    ['>=1.0, !=1.3', '1.3.5', false],
    ['>=1.0, !=1.3', '1.4.0', true],
    ['~1.0', '1.0.9', true],
    ['~1.0', '1.1.0', false],
    ['^1.0', '1.1.2', true],
    ['^0.2.3', '0.2.9', true],
    ['^0.2.3', '0.3.0', false],
    ['1.2 - 1.4.5', '1.4.5', true],
    ['1.2 - 1.4.5', '1.4.6', false],
    ['>0,<2.0', '1.5.0', true],
    ['*', '0.0.1', true],
  ])('%j accepts %j: %s', (range, version, expected) => {
    expect(accepts(range, version)).toBe(expected);
  });

  test('namesPrerelease is about what the user wrote, not node-semver desugaring', () => {
    expect(parseRange('<2.0').namesPrerelease).toBe(false);
    expect(parseRange('^1.0').namesPrerelease).toBe(false);
    expect(parseRange('1.0 - 2.0').namesPrerelease).toBe(false);
    expect(parseRange('>=1.0.0-rc.1').namesPrerelease).toBe(true);
    expect(parseRange('~2.0.0-0').namesPrerelease).toBe(true);
  });

  test('property: agrees with node-semver (includePrerelease) on node-syntax ranges', () => {
    const version = fc
      .tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.constantFrom('', '-0', '-rc.1', '-alpha', '-rc.2'))
      .map(([major, minor, patch, pre]) => `${major}.${minor}.${patch}${pre}`);
    const partial = fc.oneof(
      version,
      fc.tuple(fc.nat(3), fc.nat(3)).map(([a, b]) => `${a}.${b}`),
      fc.nat(3).map(String),
      fc.tuple(fc.nat(3), fc.constantFrom('x', '*')).map(([a, x]) => `${a}.${x}`),
    );
    const comparator = fc.tuple(fc.constantFrom('', '=', '<', '<=', '>', '>=', '^', '~'), partial).map(([op, v]) => `${op}${v}`);
    const alternative = fc.oneof(
      fc.array(comparator, { minLength: 1, maxLength: 3 }).map((set) => set.join(' ')),
      fc.tuple(partial, partial).map(([a, b]) => `${a} - ${b}`),
    );
    const range = fc.array(alternative, { minLength: 1, maxLength: 2 }).map((alts) => alts.join(' || '));
    fc.assert(
      fc.property(range, version, (text, tag) => {
        const parsed = parseSemver(tag);
        if (parsed === undefined) throw new Error(tag);
        expect(parseRange(text).test(parsed)).toBe(semver.satisfies(formatSemver(parsed), text, { includePrerelease: true }));
      }),
      { numRuns: 500 },
    );
  });

  test.each(['1.x.y', '', '   ', 'latest', '>=1.0 ||'])('%j is a RangeSyntaxError', (text) => {
    expect(() => parseRange(text)).toThrow(RangeSyntaxError);
  });
});
