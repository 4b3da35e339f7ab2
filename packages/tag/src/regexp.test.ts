// Tag regexps run on tags the upstream chooses: RE2 semantics and linear time (re2js), the JavaScript engine
// only for JavaScript-only syntax and then bounded.
import { describe, expect, test } from 'vitest';
import { compileTagRegExp, createExtractor, isTagError, parseMatcher } from './index.ts';

describe('compileTagRegExp', () => {
  // Before re2js, `^(a+)+$` against 25 × "a" + "-x" backtracked for seconds (doubling per character) and
  // blocked the event loop; the test timeout is far above what a linear engine needs.
  test('a catastrophic-backtracking pattern on a hostile tag answers at once (RE2 engine)', { timeout: 2000 }, () => {
    for (const pattern of ['^(a+)+$', '^(\\d+\\.?)+$', '^(v?[0-9]+)*-alpine$']) {
      const matcher = parseMatcher(`regexp:${pattern}`);
      expect(matcher.test(`${'a'.repeat(25)}-x`)).toBe(false);
      expect(matcher.test(`${'1'.repeat(25)}-x`)).toBe(false);
    }
    expect(createExtractor({ pattern: '^(a+)+(b)$', template: '$2' }).extract(`${'a'.repeat(25)}-x`)).toBeUndefined();
    expect(parseMatcher('regexp:^(a+)+$').test('aaaa')).toBe(true);
  });

  test.each([
    // [pattern, tag, matches]: Go syntax read as Go reads it
    ['^\\Qv1.2\\E$', 'v1.2', true],
    ['^\\Qv1.2\\E$', 'v1x2', false],
    ['^[[:^digit:]]+$', 'abc', true],
    ['^[[:^digit:]]+$', 'ab1', false],
    ['(?U)^(a+)', 'aaa', true],
    ['^(?P<major>\\d+)\\.(?P<minor>\\d+)$', '1.2', true],
    ['(?i)^RELEASE-', 'release-1', true],
    ['\\Av1\\z', 'v1', true],
  ])('%s against %j is %s, on the RE2 engine', (pattern, tag, expected) => {
    const regexp = compileTagRegExp(pattern);
    expect(regexp.engine).toBe('re2');
    expect(regexp.test(tag)).toBe(expected);
  });

  test('groups by number and name, leftmost-first as in Go; (?U) makes repetitions lazy', () => {
    expect(compileTagRegExp('^v(?P<version>.*)-(alpine)?$').exec('v1.2.3-alpine')).toMatchObject({ 0: 'v1.2.3-alpine', 1: '1.2.3', 2: 'alpine', groups: { version: '1.2.3' } });
    expect(compileTagRegExp('(?U)^(a+)').exec('aaa')?.[1]).toBe('a');
    expect(createExtractor({ pattern: '^(?P<semver>[0-9.]+)\\.[0-9]+-[0-9a-z]{9}$', template: '$semver' }).extract('1.9.7.4460-a39b25852')).toBe('1.9.7');
  });

  test('JavaScript-only syntax runs on the JavaScript engine, bounded to tags of 128 characters', () => {
    const lookahead = compileTagRegExp('^(?=.*-alpine$)v\\d+');
    expect(lookahead.engine).toBe('javascript');
    expect(lookahead.test('v1-alpine')).toBe(true);
    expect(lookahead.test('v1-debian')).toBe(false);
    expect(lookahead.test(`v1${'x'.repeat(130)}-alpine`)).toBe(false);
    expect(compileTagRegExp('^(\\d)\\1$').test('11')).toBe(true);
  });

  test.each(['^(?=a)(a+)+$', '^(\\d+\\.?)*\\1$', '(?!x)(?:a*b?)+'])('JavaScript-only %j nesting unbounded quantifiers is refused with a hint', (pattern) => {
    let error: unknown;
    try {
      compileTagRegExp(pattern);
    } catch (caught) {
      error = caught;
    }
    expect(isTagError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_matcher', fields: { input: pattern } });
    expect((error as Error).message).toMatch(/repeats a repetition.*exponential time.*rewrite it without nesting/);
  });

  test('syntax errors keep their words', () => {
    expect(() => compileTagRegExp('(')).toThrow(/invalid regexp "\("/);
    expect(() => compileTagRegExp('[[:bogus:]]')).toThrow(/unknown character class/);
    expect(() => compileTagRegExp('')).toThrow(/the pattern is empty/);
  });
});
