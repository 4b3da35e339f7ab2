import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createExtractor, isTagError, parseTemplate } from './index.ts';

function extractAll(pattern: string, template: string, tags: string[]): string[] {
  const extractor = createExtractor({ pattern, template });
  return tags.map((tag) => extractor.extract(tag)).filter((value) => value !== undefined);
}

describe('createExtractor', () => {
  // Flux image-reflector-controller internal/policy/filter_test.go, TestRegexFilter.
  test('Flux: a pattern without a capture keeps the matching tags', () => {
    expect(extractAll('^ver', '$0', ['ver1', 'ver2', 'ver3', 'rel1'])).toEqual(['ver', 'ver', 'ver']);
    expect(
      ['ver1', 'ver2', 'ver3', 'rel1'].filter((tag) => createExtractor({ pattern: '^ver', template: '$0' }).extract(tag) !== undefined),
    ).toEqual(['ver1', 'ver2', 'ver3']);
  });

  test('Flux: a capture group with $1 extracts the number', () => {
    expect(extractAll('ver(\\d+)', '$1', ['ver1', 'ver2', 'ver3', 'rel1'])).toEqual(['1', '2', '3']);
  });

  test.each([
    ['^main-(?<sha>[0-9a-f]+)-(?<ts>\\d+)$', '${ts}', 'main-abc123-1700000000', '1700000000'],
    ['^main-(?P<sha>[0-9a-f]+)-(?P<ts>\\d+)$', '${ts}', 'main-abc123-1700000000', '1700000000'],
    ['^(\\d+)\\.(\\d+)$', '$2.$1', '3.14', '14.3'],
    ['^(\\d+)\\.(\\d+)$', '${1}0', '3.14', '30'],
    ['^(\\d+)$', 'v$1-$$', '7', 'v7-$'],
    ['^(a)?(b)$', '[$1][$2]', 'b', '[][b]'],
    ['^(?<year>\\d{4})(?<month>\\d{2})(?<day>\\d{2})', '${year}-${month}-${day}', '20240115-abc', '2024-01-15'],
    // unanchored: the template is expanded against the first match only
    ['v(\\d+)', 'n$1', 'xx-v12-v13', 'n12'],
  ])('%s with %s turns %s into %s', (pattern, template, tag, value) => {
    expect(createExtractor({ pattern, template }).extract(tag)).toBe(value);
  });

  test('a tag that does not match yields undefined', () => {
    expect(createExtractor({ pattern: '^v(\\d+)$', template: '$1' }).extract('latest')).toBeUndefined();
  });

  // The example: Flux's `$semver` (a bare name) was refused.
  test('Flux: a bare $name is the named group', () => {
    const extractor = createExtractor({ pattern: '^(?P<semver>[0-9\\.]+)\\.[0-9]+-[0-9a-z]{9}$', template: '$semver' });
    expect(extractor.extract('1.9.7.4460-a39b25852')).toBe('1.9.7');
    expect(extractor.extract('1.9.7-a39b25852')).toBe('1.9');
    expect(extractor.extract('latest')).toBeUndefined();
  });

  // Go's regexp.Expand on the same input, `src/regexp/example_test.go` (ExampleRegexp_Expand,
  // ExampleRegexp_ReplaceAllString) and the rules of its doc comment: the name of `$name` is as long as
  // possible; a number refers to a group by index; missing, out-of-range or unmatched groups are empty;
  // a `$` that starts no valid reference is text; `$$` is `$`.
  test.each([
    // [pattern, template, tag, Go's result]
    ['a(x*)b', '$1', 'axxb', 'xx'],
    ['a(x*)b', '$1W', 'axxb', ''],
    ['a(x*)b', '${1}W', 'axxb', 'xxW'],
    ['(\\w+):\\s+(\\w+)', '$1=$2', 'option1: value1', 'option1=value1'],
    ['(?P<key>\\w+):\\s+(?P<value>\\w+)', '$key=$value', 'option1: value1', 'option1=value1'],
    ['(?P<key>\\w+):\\s+(?P<value>\\w+)', '$key_$value', 'k: v', 'v'],
    ['(?P<key>\\w+):\\s+(?P<value>\\w+)', '${key}_$value', 'k: v', 'k_v'],
    ['(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)', '$10', 'abcdefghij', 'j'],
    ['(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)', '${1}0', 'abcdefghij', 'a0'],
    ['(a)', '$0-$1', 'a', 'a-a'],
    ['(a)', '$01', 'a', ''],
    ['(a)', '${01}', 'a', ''],
    ['(a)', '$2', 'a', ''],
    ['(a)', '$99999999', 'a', ''],
    ['(a)', '$100000000', 'a', ''],
    ['(a)', '$nope', 'a', ''],
    ['(a)?(b)', '[$1][$2]', 'b', '[][b]'],
    ['(a)', '$$1', 'a', '$1'],
    ['(a)', '$$$1', 'a', '$a'],
    ['(a)', 'x$', 'a', 'x$'],
    ['(a)', '$-$1', 'a', '$-a'],
    ['(a)', '${}', 'a', '${}'],
    ['(a)', '${1', 'a', '${1'],
    ['(a)', '${1x', 'a', '${1x'],
    ['(a)', '${ 1}', 'a', '${ 1}'],
    ['(a)', '$.1', 'a', '$.1'],
    ['(?P<v>a)', '${v}.$v.${v}', 'a', 'a.a.a'],
    ['(?P<é>a)', '$é!', 'a', 'a!'],
    ['(?P<v>a)', '$v-x', 'a', 'a-x'],
    ['(?P<v>a)', '$v.x', 'a', 'a.x'],
  ])('Go: pattern %j, template %j, tag %j → %j', (pattern, template, tag, expected) => {
    expect(createExtractor({ pattern, template }).extract(tag)).toBe(expected);
  });

  test('parseTemplate splits as Go reads the template', () => {
    expect(parseTemplate('v$1x.${2}-$$$name_1')).toEqual(['v', { name: '1x' }, '.', { group: 2 }, '-$', { name: 'name_1' }]);
    expect(parseTemplate('$')).toEqual(['$']);
    expect(parseTemplate('$0$01')).toEqual([{ group: 0 }, { name: '01' }]);
  });

  test.each([
    ['^(a)$', '', 'invalid_template', /template is empty/, 'reference a group, e.g. "$1" or "${name}"'],
    ['^(?<x>a)$', '$<x>', 'invalid_template', /"\$<x>" is JavaScript's syntax, which Go and Flux copy as text/, 'write "${x}"'],
    ['^(?<x>a)$', 'v$$$<x>', 'invalid_template', /"\$<x>" is JavaScript's syntax/, 'write "${x}"'],
    ['(', '$1', 'invalid_matcher', /invalid regexp "\("/, 'fix the pattern (RE2/Go or JavaScript syntax)'],
    ['', '$1', 'invalid_matcher', /the pattern is empty/, 'fix the pattern (RE2/Go or JavaScript syntax)'],
  ])('pattern %j with template %j is an error (%s)', (pattern, template, code, message, hint) => {
    let error: unknown;
    try {
      createExtractor({ pattern, template });
    } catch (caught) {
      error = caught;
    }
    expect(isTagError(error)).toBe(true);
    expect(error).toMatchObject({ code, fields: { input: code === 'invalid_template' ? template : pattern, hints: { library: hint } } });
    expect((error as Error).message).toMatch(message);
    if (code === 'invalid_template') expect((error as Error).message).toContain(`"${template}"`);
  });

  test('$$<x> is a literal $ then <x>, as in Go', () => {
    expect(createExtractor({ pattern: '(a)', template: '$$<x>' }).extract('a')).toBe('$<x>');
  });

  test('property: ^(.*)$ with $1 is the identity', () => {
    const extractor = createExtractor({ pattern: '^(.*)$', template: '$1' });
    fc.assert(
      fc.property(fc.stringMatching(/^[\w.-]{0,40}$/), (tag) => {
        expect(extractor.extract(tag)).toBe(tag);
      }),
    );
  });

  test('property: a literal template yields itself for every matching tag and nothing for the rest', () => {
    const extractor = createExtractor({ pattern: '^v', template: 'const' });
    fc.assert(
      fc.property(fc.stringMatching(/^[\w.-]{0,20}$/), (tag) => {
        expect(extractor.extract(tag)).toBe(tag.startsWith('v') ? 'const' : undefined);
      }),
    );
  });

  test('property: $1 of a prefix pattern gives back the suffix', () => {
    const extractor = createExtractor({ pattern: '^build-(\\d+)$', template: '$1' });
    fc.assert(
      fc.property(fc.nat(), (n) => {
        expect(extractor.extract(`build-${n}`)).toBe(String(n));
      }),
    );
  });
});
