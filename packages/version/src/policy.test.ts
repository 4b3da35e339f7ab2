import { isScannerError } from '@scanner/image';
import { describe, expect, test } from 'vitest';
import type { PolicyErrorCode } from './index.ts';
import { isPolicyError, parsePolicy, PolicyError } from './index.ts';

function policyError(input: unknown, options?: Parameters<typeof parsePolicy>[1]): PolicyError {
  try {
    parsePolicy(input, options);
  } catch (error) {
    if (isPolicyError(error)) return error;
    throw error;
  }
  throw new Error(`expected parsePolicy(${JSON.stringify(input)}) to throw`);
}

describe('parsePolicy: accepted policies', () => {
  test('returns the policy typed, frozen, with strategy aliases resolved', () => {
    const policy = parsePolicy({ strategy: 'semver', constraint: '^1.0', allowTags: ['regexp:^v'], platforms: ['linux/amd64'] });
    expect(policy).toEqual({ strategy: 'semver', constraint: '^1.0', allowTags: ['regexp:^v'], platforms: ['linux/amd64'] });
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.allowTags)).toBe(true);
  });

  test.each([
    ['semver', 'semver'],
    ['newest-build', 'newest-build'],
    ['latest', 'newest-build'],
    ['alphabetical', 'alphabetical'],
    ['name', 'alphabetical'],
    ['lexical', 'alphabetical'],
    ['numerical', 'numerical'],
  ])('strategy %j is %j', (input, strategy) => {
    expect(parsePolicy({ strategy: input }).strategy).toBe(strategy);
  });

  test('digest takes the tag to track as its constraint', () => {
    expect(parsePolicy({ strategy: 'digest', constraint: 'latest' })).toEqual({ strategy: 'digest', constraint: 'latest' });
  });

  // Flux image-reflector-controller semver_test.go TestNewSemVer "With valid range", plus Kargo's "^1.24" and
  // the Masterminds forms users bring from Argo CD Image Updater.
  test.each(['1.0.x', '^1.0', '=1.0.0', '~1.0', '>=1.0', '>0,<2.0', '^1.24', '>=1.0, <2.0', '1.x', '>=v1.2.0', 'v1.x', '>= 1.0 < 2.0', '!=1.3.0', '=>1.0', '1.2 - 1.4.5', '^1 || ^2', '*'])(
    'semver range %j is valid',
    (constraint) => {
      expect(parsePolicy({ strategy: 'semver', constraint }).constraint).toBe(constraint);
    },
  );

  test.each([undefined, 'asc', 'desc'])('alphabetical and numerical take order %j', (order) => {
    expect(parsePolicy({ strategy: 'alphabetical', order }).order).toBe(order);
    expect(parsePolicy({ strategy: 'numerical', order }).order).toBe(order);
  });

  test('every field at once', () => {
    const input = {
      strategy: 'semver',
      constraint: '>=1.0, <2.0',
      strict: false,
      prereleases: true,
      allowTags: ['v*'],
      ignoreTags: ['*-debug'],
      extract: { pattern: '^release-(.*)$', template: '$1' },
      platforms: ['linux/arm64', 'linux/arm/v7'],
      limit: 3,
    };
    expect(parsePolicy(input)).toEqual(input);
  });
});

describe('parsePolicy: errors name the field', () => {
  test.each<[unknown, PolicyErrorCode, string]>([
    [{ strategy: 'semver', constraint: '1.x.y' }, 'invalid_constraint', 'policy.constraint: invalid semver range "1.x.y"'],
    // Flux TestNewSemVer "With invalid range"
    [{ strategy: 'semver', constraint: '1.0.0p' }, 'invalid_constraint', 'policy.constraint: invalid semver range "1.0.0p"'],
    [{ strategy: 'semver', constraint: '1x' }, 'invalid_constraint', 'policy.constraint: invalid semver range "1x"'],
    [{ strategy: 'semver', constraint: 'x1' }, 'invalid_constraint', 'policy.constraint: invalid semver range "x1"'],
    [{ strategy: 'semver', constraint: '-1' }, 'invalid_constraint', 'policy.constraint: invalid semver range "-1"'],
    [{ strategy: 'semver', constraint: 'a' }, 'invalid_constraint', 'policy.constraint: invalid semver range "a"'],
    [{ strategy: 'semver', constraint: '' }, 'invalid_constraint', 'policy.constraint: invalid semver range "": it is empty'],
    // Argo CD Image Updater version_test.go: constraint "latest" is invalid; Kargo: "invalid".
    [{ strategy: 'semver', constraint: 'latest' }, 'invalid_constraint', 'policy.constraint: invalid semver range "latest"'],
    [{ strategy: 'semver', constraint: 'invalid' }, 'invalid_constraint', 'policy.constraint: invalid semver range "invalid"'],
    [{ strategy: 'semver', constraint: '>=1.0 ||' }, 'invalid_constraint', 'policy.constraint: invalid semver range ">=1.0 ||": an alternative around "||" is empty'],
    [{ strategy: 'semvers' }, 'invalid_policy', 'policy.strategy: unknown strategy "semvers"; use one of semver, newest-build'],
    [{}, 'invalid_policy', 'policy.strategy: required'],
    [{ strategy: 'semver', contraint: '^1' }, 'invalid_policy', 'policy: unknown field(s) "contraint"'],
    [null, 'invalid_policy', 'policy: expected a policy object'],
    ['semver', 'invalid_policy', 'policy: expected a policy object'],
    [{ strategy: 'semver', strict: 'yes' }, 'invalid_policy', 'policy.strict: expected true or false'],
    // Flux TestNewAlphabetical / TestNewNumerical "With invalid order"
    [{ strategy: 'alphabetical', order: 'invalid' }, 'invalid_policy', 'policy.order: expected "asc" or "desc", got "invalid"'],
    [{ strategy: 'numerical', order: 'invalid' }, 'invalid_policy', 'policy.order: expected "asc" or "desc", got "invalid"'],
    [{ strategy: 'alphabetical', order: '' }, 'invalid_policy', 'policy.order: expected "asc" or "desc", got ""'],
    [{ strategy: 'semver', limit: 0 }, 'invalid_policy', 'policy.limit: expected a positive integer'],
    [{ strategy: 'semver', limit: 1.5 }, 'invalid_policy', 'policy.limit: expected a positive integer'],
    [{ strategy: 'semver', limit: '3' }, 'invalid_policy', 'policy.limit: expected a positive integer'],
    [{ strategy: 'semver', allowTags: 'v*' }, 'invalid_policy', 'policy.allowTags: expected a list of matcher strings'],
    [{ strategy: 'semver', allowTags: ['v*', 3] }, 'invalid_policy', 'policy.allowTags[1]: expected a matcher string'],
    [{ strategy: 'semver', allowTags: [] }, 'invalid_policy', 'policy.allowTags: an empty list allows no tag'],
    [{ strategy: 'semver', allowTags: ['v*', 'regexp:(unclosed'] }, 'invalid_matcher', 'policy.allowTags[1]: invalid regexp "(unclosed"'],
    [{ strategy: 'semver', ignoreTags: ['[abc'] }, 'invalid_matcher', 'policy.ignoreTags[0]: invalid glob "[abc"'],
    [{ strategy: 'semver', ignoreTags: [''] }, 'invalid_matcher', 'policy.ignoreTags[0]: empty matcher'],
    [{ strategy: 'numerical', extract: { pattern: '(', template: '$1' } }, 'invalid_extract', 'policy.extract.pattern: invalid regexp "("'],
    [{ strategy: 'numerical', extract: { pattern: 'v(\\d+)', template: '$<n>' } }, 'invalid_extract', 'policy.extract.template: invalid extract template "$<n>"'],
    // The issue's example: `regex:` is a typo for `regexp:`, and used to be a glob that never matched.
    [{ strategy: 'semver', allowTags: ['v*', 'regex:^1\\.2'] }, 'invalid_matcher', 'policy.allowTags[1]: unknown matcher prefix "regex:"'],
    [{ strategy: 'semver', ignoreTags: ['org/app:*-rc*'] }, 'invalid_matcher', 'policy.ignoreTags[0]: glob "org/app:*-rc*" can never match a tag'],
    [{ strategy: 'numerical', extract: { pattern: 'v(\\d+)' } }, 'invalid_policy', 'policy.extract.template: expected a template string'],
    [{ strategy: 'semver', platforms: ['linux'] }, 'invalid_platform', 'policy.platforms[0]: invalid platform "linux"'],
    [{ strategy: 'semver', platforms: [] }, 'invalid_policy', 'policy.platforms: an empty list'],
    [{ strategy: 'alphabetical', constraint: '^1' }, 'invalid_policy', 'policy.constraint: not used by strategy "alphabetical"'],
    [{ strategy: 'newest-build', constraint: '^1' }, 'invalid_policy', 'policy.constraint: not used by strategy "newest-build"'],
    [{ strategy: 'numerical', strict: false }, 'invalid_policy', 'policy.strict: not used by strategy "numerical"'],
    [{ strategy: 'alphabetical', prereleases: true }, 'invalid_policy', 'policy.prereleases: not used by strategy "alphabetical"'],
    [{ strategy: 'semver', order: 'desc' }, 'invalid_policy', 'policy.order: not used by strategy "semver"'],
    [{ strategy: 'digest' }, 'invalid_constraint', 'policy.constraint: required by strategy "digest"'],
    [{ strategy: 'digest', constraint: 'not a tag' }, 'invalid_constraint', 'policy.constraint: "not a tag" is not a valid tag name'],
    [{ strategy: 'digest', constraint: 'latest', extract: { pattern: '(.*)', template: '$1' } }, 'invalid_policy', 'policy.extract: not used by strategy "digest"'],
  ])('%j fails with %s: %s', (input, code, message) => {
    const error = policyError(input);
    expect(error.code).toBe(code);
    expect(error.message).toContain(`@scanner/version: ${message}`);
  });

  test('the exact message for a bad range, with the cause attached', () => {
    const error = policyError({ strategy: 'semver', constraint: '1.x.y' });
    expect(error.message).toBe('@scanner/version: policy.constraint: invalid semver range "1.x.y"');
    expect(error.cause).toBeInstanceOf(Error);
  });

  test('a matcher error keeps the TagError as its cause', () => {
    const error = policyError({ strategy: 'semver', allowTags: ['regexp:('] });
    expect(error.cause).toMatchObject({ name: 'TagError', code: 'invalid_matcher' });
  });

  test('path puts the policy where it sits in the caller’s config', () => {
    expect(policyError({ strategy: 'semver', constraint: '1.x.y' }, { path: 'images[3].policy' }).message).toBe(
      '@scanner/version: images[3].policy.constraint: invalid semver range "1.x.y"',
    );
    expect(policyError({ strategy: 'semver', ignoreTags: ['ok', '['] }, { path: 'sync[0].tags' }).message).toContain('sync[0].tags.ignoreTags[1]: ');
  });

  test('several shape problems are reported together', () => {
    const error = policyError({ strategy: 'semver', strict: 1, limit: -1 });
    expect(error.message).toContain('policy.strict: expected true or false');
    expect(error.message).toContain('policy.limit: expected a positive integer');
  });
});

describe('parsePolicy: errors carry their parts as fields', () => {
  test.each<[unknown, Record<string, unknown>]>([
    [
      { strategy: 'semver', allowTags: ['v*', 'regex:^1\\.2'] },
      { field: 'policy.allowTags[1]', input: 'regex:^1\\.2', reason: expect.stringMatching(/^unknown matcher prefix "regex:"/), hints: expect.objectContaining({ cli: 'did you mean "regexp:^1\\.2"?' }) },
    ],
    [
      { strategy: 'numerical', extract: { pattern: '(', template: '$1' } },
      { field: 'policy.extract.pattern', input: '(', reason: expect.stringMatching(/^invalid regexp "\("/), hints: expect.objectContaining({ library: 'fix the pattern (RE2/Go or JavaScript syntax)' }) },
    ],
    [{ strategy: 'semver', constraint: '1.x.y' }, { field: 'policy.constraint', input: '1.x.y', reason: 'invalid semver range "1.x.y"' }],
    [{ strategy: 'semver', platforms: ['linux/amd64', 'linux'] }, { field: 'policy.platforms[1]', input: 'linux', reason: expect.stringMatching(/^invalid platform "linux"/) }],
    [{ strategy: 'semver', order: 'asc' }, { field: 'policy.order', reason: 'not used by strategy "semver" (only by alphabetical, numerical)', hints: { cli: 'remove it', config: 'remove it', library: 'remove it' } }],
    [{ strategy: 'semvers' }, { field: 'policy.strategy', input: 'semvers', reason: 'unknown strategy "semvers"', hints: expect.objectContaining({ cli: expect.stringMatching(/^use one of semver, newest-build/) as string }) }],
    [{ strategy: 'digest' }, { field: 'policy.constraint', reason: 'required by strategy "digest"', hints: expect.objectContaining({ cli: 'name the tag to track, e.g. --constraint latest', library: 'name the tag to track, e.g. "latest"' }) }],
    [{ strategy: 'semver', contraint: '^1' }, { field: 'policy', reason: 'unknown field(s) "contraint"' }],
  ])('%j', (input, fields) => {
    const error = policyError(input);
    expect(isScannerError(error)).toBe(true);
    expect(error.package).toBe('@scanner/version');
    expect(error.fields).toMatchObject(fields);
    // The message is the field, the reason and the library's hint, so it still reads on its own.
    const hint = error.fields.hints?.library;
    expect(error.detail.startsWith(`${error.fields.field ?? ''}: ${error.fields.reason ?? ''}${hint === undefined ? '' : `; ${hint}`}`)).toBe(true);
  });

  test('path roots the field too', () => {
    expect(policyError({ strategy: 'semver', ignoreTags: ['ok', '['] }, { path: 'sync[0].tags' }).fields.field).toBe('sync[0].tags.ignoreTags[1]');
  });
});

describe('PolicyError', () => {
  test('isPolicyError matches on name and code, also for another installed copy', () => {
    expect(isPolicyError(new PolicyError('invalid_policy', 'x'))).toBe(true);
    expect(isPolicyError(Object.assign(new Error('x'), { name: 'PolicyError', code: 'needs_metadata' }))).toBe(true);
    expect(isPolicyError(Object.assign(new Error('x'), { name: 'PolicyError', code: 'other' }))).toBe(false);
    expect(isPolicyError(new Error('x'))).toBe(false);
    expect(isPolicyError(undefined)).toBe(false);
  });
});
