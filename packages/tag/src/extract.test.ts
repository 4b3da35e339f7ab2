import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createExtractor, isTagError } from './index.ts';

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
    ['^main-(?<sha>[0-9a-f]+)-(?<ts>\\d+)$', '$<ts>', 'main-abc123-1700000000', '1700000000'],
    ['^main-(?P<sha>[0-9a-f]+)-(?P<ts>\\d+)$', '${ts}', 'main-abc123-1700000000', '1700000000'],
    ['^(\\d+)\\.(\\d+)$', '$2.$1', '3.14', '14.3'],
    ['^(\\d+)\\.(\\d+)$', '${1}0', '3.14', '30'],
    ['^(\\d+)$', 'v$1-$$', '7', 'v7-$'],
    ['^(a)?(b)$', '[$1][$2]', 'b', '[][b]'],
    ['^(?<year>\\d{4})(?<month>\\d{2})(?<day>\\d{2})', '$<year>-$<month>-$<day>', '20240115-abc', '2024-01-15'],
    // unanchored: the template is expanded against the first match only
    ['v(\\d+)', 'n$1', 'xx-v12-v13', 'n12'],
  ])('%s with %s turns %s into %s', (pattern, template, tag, value) => {
    expect(createExtractor({ pattern, template }).extract(tag)).toBe(value);
  });

  test('a tag that does not match yields undefined', () => {
    expect(createExtractor({ pattern: '^v(\\d+)$', template: '$1' }).extract('latest')).toBeUndefined();
  });

  test.each([
    ['^(a)$', '', 'invalid_template', /template is empty/],
    ['^(a)$', '$2', 'invalid_template', /\$2 refers to group 2 but the pattern has 1/],
    ['^(?<x>a)$', '$<y>', 'invalid_template', /no group named "y"/],
    ['^(a)$', '${}', 'invalid_template', /"\$\{\}" is not a group reference/],
    ['^(a)$', 'x$', 'invalid_template', /"\$" at position 2 must be followed/],
    ['^(a)$', '$name', 'invalid_template', /must be followed/],
    ['(', '$1', 'invalid_matcher', /invalid regexp "\("/],
    ['', '$1', 'invalid_matcher', /the pattern is empty/],
  ])('pattern %j with template %j is an error (%s)', (pattern, template, code, message) => {
    let error: unknown;
    try {
      createExtractor({ pattern, template });
    } catch (caught) {
      error = caught;
    }
    expect(isTagError(error)).toBe(true);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
    if (code === 'invalid_template') expect((error as Error).message).toContain(`"${template}"`);
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
