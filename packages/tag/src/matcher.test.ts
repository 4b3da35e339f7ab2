import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isScannerError } from '@scanner/image';
import { compileRegExp, createTagFilter, globToRegExp, isTagError, parseMatcher } from './index.ts';
import type { TagError } from './index.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseMatcher', () => {
  test.each([
    // [matcher, tag, matches]
    ['any', 'whatever', true],
    ['none', 'whatever', false],
    ['regexp:^v\\d+', 'v12-rc', true],
    ['regexp:^v\\d+', 'xv12', false],
    // unanchored, like the peers
    ['regexp:rc', 'v1.0.0-rc.1', true],
    ['regexp:^v1\\.0\\.0$', 'v1.0.0', true],
    ['regexp:^v1\\.0\\.0$', 'v1.0.01', false],
    ['glob:v1.*', 'v1.2.3', true],
    ['glob:v1.*', 'v2.1.0', false],
    // a glob covers the whole tag
    ['glob:1.2', '1.2.3', false],
    ['1.2', '1.2', true],
    ['1.2', '1x2', false],
    ['*-rc*', '1.0.0-rc.1', true],
    ['*-rc*', '1.0.0', false],
    ['v?.0', 'v1.0', true],
    ['v?.0', 'v10.0', false],
    ['[0-9]*', '1abc', true],
    ['[0-9]*', 'abc', false],
    ['[!0-9]*', 'abc', true],
    ['[^0-9]*', '1abc', false],
    ['[]a]x', ']x', true],
    ['[a-]x', '-x', true],
    ['a\\.b', 'a.b', true],
    ['a\\.b', 'axb', false],
    ['glob:any', 'any', true],
    ['glob:any', 'other', false],
    ['glob:none', 'none', true],
  ])('%s against %s is %s', (matcher, tag, expected) => {
    expect(parseMatcher(matcher).test(tag)).toBe(expected);
  });

  test('reports the kind and source', () => {
    expect(parseMatcher('regexp:^v').kind).toBe('regexp');
    expect(parseMatcher('glob:v*').kind).toBe('glob');
    expect(parseMatcher('v*').kind).toBe('glob');
    expect(parseMatcher('any').kind).toBe('any');
    expect(parseMatcher('none').kind).toBe('none');
    expect(parseMatcher('v*').source).toBe('v*');
  });

  test.each([
    ['', /empty matcher/],
    ['regexp:', /invalid regexp "": the pattern is empty/],
    ['glob:', /invalid glob "": the pattern is empty/],
    ['regexp:(', /invalid regexp "\("/],
    ['regexp:[a-', /invalid regexp "\[a-"/],
    ['regexp:a**', /invalid regexp "a\*\*"/],
    ['regexp:\\', /lone backslash/],
    ['regexp:[[:bogus:]]', /unknown character class/],
    ['[abc', /invalid glob "\[abc": the "\[" at position 1 is never closed/],
    ['[]', /never closed/],
    ['[z-a]', /range "z-a" is reversed/],
    ['abc\\', /lone backslash/],
  ])('%j is an error naming the pattern', (matcher, message) => {
    const error = thrown(() => parseMatcher(matcher));
    expect(isTagError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_matcher' });
    expect((error as Error).message).toMatch(/^@scanner\/tag: /);
    expect((error as Error).message).toMatch(message);
  });

  test('every error is a ScannerError with the matcher as input and the reason apart from the hint', () => {
    const error = thrown(() => parseMatcher('regexp:('));
    expect(isScannerError(error)).toBe(true);
    expect(error).toMatchObject({
      package: '@scanner/tag',
      code: 'invalid_matcher',
      fields: { input: '(', hints: { cli: 'fix the pattern (RE2/Go or JavaScript syntax)' } },
    });
    const { fields, detail } = error as TagError;
    expect(detail).toBe(`${fields.reason ?? ''}; ${fields.hints?.library ?? ''}`);
  });

  // The example: `regex:` (a typo for `regexp:`) was silently a glob that matched nothing.
  test.each([
    ['regex:^1\\.2', /unknown matcher prefix "regex:" in "regex:\^1\\\.2"/, 'did you mean "regexp:^1\\.2"?'],
    ['Regexp:^v', /unknown matcher prefix "Regexp:"/, 'did you mean "regexp:^v"?'],
    ['regep:^v', /unknown matcher prefix/, 'did you mean "regexp:^v"?'],
    ['re:^v', /unknown matcher prefix/, 'did you mean "regexp:^v"?'],
    ['blob:v*', /unknown matcher prefix/, 'did you mean "glob:v*"?'],
    ['wildcard:v*', /unknown matcher prefix/, 'did you mean "glob:v*"?'],
    ['glob:regexp:^1', /unknown matcher prefix "regexp:" in "glob:regexp:\^1"/, 'did you mean "regexp:^1"?'],
    ['semver:^1.2', /unknown matcher prefix "semver:"/, 'write "regexp:<re>", "glob:<pattern>" (or a bare glob), "any" or "none"'],
    ['ghcr.io/org/app:1.*', /glob "ghcr\.io\/org\/app:1\.\*" can never match a tag: no tag contains "\/"/, 'did you mean "1.*"? (a matcher tests the tag alone, not the image)'],
    ['org/app-*', /no tag contains "\/"/, 'did you mean "app-*"? (a matcher tests the tag alone, not the image)'],
    ['1.2.3+build*', /no tag contains "\+"/, 'did you mean "1.2.3_build*"? (registries store a semver "+" as "_" in tags)'],
    ['v1 *', /no tag contains " "/, 'or use "regexp:<re>" for a regular expression'],
    ['-rc*', /no tag starts with "-"/, 'did you mean "*-rc*"? (a glob covers the whole tag)'],
    ['glob:.hidden', /no tag starts with "\."/, 'did you mean "*.hidden"? (a glob covers the whole tag)'],
    ['a\\*', /no tag contains "\*"/, 'or use "regexp:<re>" for a regular expression'],
  ])('%j can never match a tag: an error with a hint', (matcher, message, hint) => {
    const error = thrown(() => parseMatcher(matcher));
    expect(error).toMatchObject({ code: 'invalid_matcher', fields: { input: matcher, hints: { cli: hint, config: hint, library: hint } } });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(hint);
  });

  test.each(['*', 'v*', '[.-]x', '*.*', 'glob:*-debug', 'x[/:]y', '[!a]*', 'a?b', 'v1.0_rc-2'])('%j may match a tag and is accepted', (matcher) => {
    expect(() => parseMatcher(matcher)).not.toThrow();
  });

  test('property: a suggested fix is itself a valid matcher', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '1', '.', '-', '*', ':', '/', '+', 'regex', 'glob', '^', ' '), maxLength: 8 }), (matcher) => {
        let error: unknown;
        try {
          parseMatcher(matcher);
        } catch (caught) {
          error = caught;
        }
        const hint = isTagError(error) ? error.fields.hints?.cli : undefined;
        const suggested = hint === undefined ? undefined : /^did you mean "(.*)"\?/.exec(hint)?.[1];
        if (suggested !== undefined) expect(() => parseMatcher(suggested)).not.toThrow();
      }),
    );
  });

  test('a regexp matcher keeps no state between calls (no g/y flags)', () => {
    const matcher = parseMatcher('regexp:v');
    expect([matcher.test('v1'), matcher.test('v1'), matcher.test('v1')]).toEqual([true, true, true]);
  });
});

describe('compileRegExp (Go/RE2 syntax the peers use)', () => {
  test.each([
    // [pattern, tag, matches]
    ['^(?P<major>\\d+)\\.(?P<minor>\\d+)$', '1.2', true],
    ['(?i)^RELEASE-', 'release-1', true],
    ['^release-', 'RELEASE-1', false],
    ['\\Av1\\z', 'v1', true],
    ['\\Av1\\z', 'v1\n', false],
    ['^[[:digit:]]+$', '123', true],
    ['^[[:digit:]]+$', '12a', false],
    ['^[[:alpha:]_]+$', 'abc_', true],
    ['^[^[:digit:]]+$', 'abc', true],
    ['^[^[:digit:]]+$', 'ab1', false],
    // Go allows escaping any punctuation; JavaScript's `u` mode would reject `\-`, `\_`, `\#` outside a class.
    ['^v\\-\\_\\#$', 'v-_#', true],
    ['^[\\w\\-]+$', 'a-b', true],
    ['^\\d+\\.\\d+$', '1.2', true],
    ['^\\d+\\.\\d+$', '1x2', false],
  ])('%s against %j is %s', (pattern, tag, expected) => {
    expect(compileRegExp(pattern).test(tag)).toBe(expected);
  });

  test('(?P<name>) groups are named groups', () => {
    expect(compileRegExp('^(?P<major>\\d+)\\.(?P<minor>\\d+)$').exec('10.3')?.groups).toEqual({ major: '10', minor: '3' });
  });

  test('an escape JavaScript does not know is an error, not a different pattern', () => {
    expect(() => compileRegExp('^\\q$')).toThrow(/invalid regexp "\^\\q\$"/);
  });
});

describe('globToRegExp', () => {
  test('`*` matches any run of characters, also none', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (prefix, rest) => {
        const literal = prefix.replace(/[*?[\\]/g, '');
        expect(globToRegExp(`${literal === '' ? 'x' : literal}*`).test(`${literal === '' ? 'x' : literal}${rest}`)).toBe(true);
      }),
    );
  });

  test('a glob without metacharacters matches exactly itself', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\w.-]{1,20}$/), fc.stringMatching(/^[\w.-]{1,20}$/), (glob, tag) => {
        expect(globToRegExp(glob).test(tag)).toBe(glob === tag);
      }),
    );
  });

  test.each([
    // [glob, tag, matches]: leading and trailing stars become missing anchors
    ['*', '', true],
    ['**', 'anything', true],
    ['*-debug', 'v1-debug', true],
    ['*-debug', 'v1-debug-x', false],
    ['v1*', 'v1.2', true],
    ['v1*', 'xv1', false],
    ['*rc*', 'v1-rc.1', true],
    ['*rc*', 'v1', false],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
    ['a\\\\*', 'a\\bc', true],
    ['*[0-9]', 'build-7', true],
    ['*[0-9]', 'build-x', false],
  ])('%j against %j is %s', (glob, tag, expected) => {
    expect(globToRegExp(glob).test(tag)).toBe(expected);
  });

  test('property: a glob agrees with a naive backtracking matcher', () => {
    const naive = (glob: string, tag: string): boolean => {
      if (glob === '') return tag === '';
      const [head = '', ...rest] = glob;
      const tail = rest.join('');
      if (head === '*') return naive(tail, tag) || (tag !== '' && naive(glob, tag.slice(1)));
      if (tag === '') return false;
      return (head === '?' || head === tag.charAt(0)) && naive(tail, tag.slice(1));
    };
    const globArb = fc.string({ unit: fc.constantFrom('a', 'b', '-', '*', '?'), minLength: 1, maxLength: 6 });
    const tagArb = fc.string({ unit: fc.constantFrom('a', 'b', '-'), maxLength: 6 });
    fc.assert(
      fc.property(globArb, tagArb, (glob, tag) => {
        expect(globToRegExp(glob).test(tag)).toBe(naive(glob, tag));
      }),
      { numRuns: 2000 },
    );
  });

  test('`?` matches exactly one character', () => {
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('a?c').test('ac')).toBe(false);
    expect(globToRegExp('a?c').test('abbc')).toBe(false);
  });
});

describe('createTagFilter', () => {
  test('defaults: allow everything, ignore nothing', () => {
    const filter = createTagFilter();
    expect(['a', 'latest', 'v1'].every(filter)).toBe(true);
  });

  test('ignore wins over allow', () => {
    const filter = createTagFilter({ allow: ['regexp:^v'], ignore: ['*-rc*'] });
    expect(filter('v1.0.0')).toBe(true);
    expect(filter('v1.0.0-rc.1')).toBe(false);
    expect(filter('1.0.0')).toBe(false);
  });

  test('a tag passes when it matches any allow matcher', () => {
    const filter = createTagFilter({ allow: ['glob:main-*', 'regexp:^release-'] });
    expect(filter('main-abc123')).toBe(true);
    expect(filter('release-7')).toBe(true);
    expect(filter('feature-x')).toBe(false);
  });

  test('ignore "any" drops everything, allow "none" allows nothing', () => {
    expect(createTagFilter({ ignore: ['any'] })('v1')).toBe(false);
    expect(createTagFilter({ allow: ['none'] })('v1')).toBe(false);
  });

  // Argo CD Image Updater registry-scanner pkg/image/version_test.go, Test_VersionConstraint_IsTagIgnored:
  // the ignore list holds globs.
  test('Argo CD Image Updater ignore-list cases', () => {
    const ignored = (list: string[], tag: string) => !createTagFilter({ ignore: list })(tag);
    expect(ignored(['tag1', 'tag2'], 'tag1')).toBe(true);
    expect(ignored(['tag1', 'tag2'], 'tag2')).toBe(true);
    expect(ignored(['tag1', 'tag2'], 'tag3')).toBe(false);
    expect(ignored(['tag?', 'foo'], 'tag1')).toBe(true);
    expect(ignored(['tag?', 'foo'], 'foo')).toBe(true);
    expect(ignored(['tag?', 'foo'], 'tag10')).toBe(false);
  });

  test('property: the filter equals "some allow matches and no ignore matches"', () => {
    const matcherArb = fc.constantFrom('any', 'none', 'v*', 'regexp:rc', 'glob:*-rc*', '[0-9]*', 'regexp:^\\d+$', 'latest');
    const tagArb = fc.constantFrom('v1', 'v1-rc1', '1.0.0-rc.1', '12', 'latest', 'main-abc', 'rc');
    fc.assert(
      fc.property(fc.array(matcherArb, { minLength: 1, maxLength: 4 }), fc.array(matcherArb, { maxLength: 4 }), tagArb, (allow, ignore, tag) => {
        const expected = allow.some((m) => parseMatcher(m).test(tag)) && !ignore.some((m) => parseMatcher(m).test(tag));
        expect(createTagFilter({ allow, ignore })(tag)).toBe(expected);
      }),
    );
  });
});
