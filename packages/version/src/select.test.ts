import type { Tag } from '@scanner/tag';
import { describe, expect, test } from 'vitest';
import type { Policy, PolicyInput } from './index.ts';
import { filterTags, isPolicyError, matchesPlatforms, needsMetadata, parsePolicy, rankTags, requiredMetadata, selectTags } from './index.ts';

const rank = (names: readonly string[], policy: PolicyInput): string[] => rankTags(names, parsePolicy(policy)).map((c) => c.tag);
const best = (names: readonly string[], policy: PolicyInput): string | undefined => rank(names, policy)[0];
const select = (tags: readonly Tag[], policy: PolicyInput): string[] => selectTags(tags, parsePolicy(policy)).map((c) => c.tag.name);

describe('peer cases: Flux image-reflector-controller internal/policy', () => {
  // semver_test.go TestSemVer_Latest
  test.each([
    ['Regular', ['1.0.0', '1.0.0.1', '1.0.0p', '1.0.1', '1.2.0', '0.1.0'], '1.0.x', '1.0.1'],
    ['Regular with prefix', ['v1.2.3', 'v1.0.0', 'v0.1.0'], '1.0.x', 'v1.0.0'],
    ['With invalid prefix', ['b1.2.3', 'b1.0.0', 'b0.1.0'], '1.0.x', undefined],
    ['With empty list', [], '1.0.x', undefined],
    ['With non-matching version list', ['1.2.0'], '1.0.x', undefined],
  ])('semver: %s', (_label, versions, constraint, expected) => {
    expect(best(versions, { strategy: 'semver', constraint })).toBe(expected);
  });

  // alphabetical_test.go TestAlphabetical_Latest
  test.each<[string, string[], 'asc' | 'desc' | undefined, string | undefined]>([
    ['Ubuntu CalVer', ['16.04', '16.04.1', '16.10', '20.04', '20.10'], undefined, '20.10'],
    ['Ubuntu CalVer descending', ['16.04', '16.04.1', '16.10', '20.04', '20.10'], 'desc', '16.04'],
    ['Ubuntu code names', ['xenial', 'yakkety', 'zesty', 'artful', 'bionic'], undefined, 'zesty'],
    ['Ubuntu code names descending', ['xenial', 'yakkety', 'zesty', 'artful', 'bionic'], 'desc', 'artful'],
    ['Timestamps', ['1606234201', '1606364286', '1606334092', '1606334284', '1606334201'], undefined, '1606364286'],
    ['Timestamps desc', ['1606234201', '1606364286', '1606334092', '1606334284', '1606334201'], 'desc', '1606234201'],
    ['Timestamps with prefix', ['rel-1606234201', 'rel-1606364286', 'rel-1606334092', 'rel-1606334284', 'rel-1606334201'], undefined, 'rel-1606364286'],
    ['Empty version list', [], undefined, undefined],
  ])('alphabetical: %s', (_label, versions, order, expected) => {
    expect(best(versions, { strategy: 'alphabetical', order })).toBe(expected);
  });

  // numerical_test.go TestNumerical_Latest (Flux shuffles; we try every rotation)
  test.each<[string, string[], 'asc' | 'desc' | undefined, string | undefined]>([
    ['integers ascending', ['-62', '-88', '73', '72', '15', '16', '15', '29', '-33', '-91'], undefined, '73'],
    ['integers descending', ['5', '-8', '-78', '25', '70', '-4', '80', '92', '-20', '-24'], 'desc', '-78'],
    [
      'floats ascending',
      ['47.40896403322944', '-27.8520927455902', '-27.930666514224427', '-31.352485948094568', '-50.41072694704882', '-21.962849842263736', '24.71884721436865', '-39.99177354004344', '53.47333823144817', '3.2008658570411086'],
      undefined,
      '53.47333823144817',
    ],
    [
      'floats descending',
      ['-65.27202780220686', '57.82948329142309', '22.40184684363291', '-86.36934305697784', '-90.29082099756083', '-12.041712603564264', '77.70488240399305', '-38.98425003883552', '16.06867070412028', '53.735674335181216'],
      'desc',
      '-90.29082099756083',
    ],
    ['Unix timestamps ascending', ['1606234201', '1606364286', '1606334092', '1606334284', '1606334201'], undefined, '1606364286'],
    ['Unix timestamps descending', ['1606234201', '1606364286', '1606334092', '1606334284', '1606334201'], 'desc', '1606234201'],
    ['single value ascending', ['1'], undefined, '1'],
    ['single value descending', ['1'], 'desc', '1'],
    // Flux errors on a non-number; our rule drops it instead.
    ['invalid numerical values are dropped', ['0', '1a', 'b'], undefined, '0'],
    ['Empty version list', [], undefined, undefined],
  ])('numerical: %s', (_label, versions, order, expected) => {
    for (let shift = 0; shift < Math.max(1, versions.length); shift += 1) {
      const rotated = [...versions.slice(shift), ...versions.slice(0, shift)];
      expect(best(rotated, { strategy: 'numerical', order })).toBe(expected);
    }
  });

  // filter_test.go TestRegexFilter: `ver(\d+)` with `$1` keeps ver1..ver3, ranks on the number.
  test('extract: ver(\\d+) with $1', () => {
    const ranked = rankTags(['ver1', 'ver2', 'ver3', 'rel1'], parsePolicy({ strategy: 'numerical', extract: { pattern: 'ver(\\d+)', template: '$1' } }));
    expect(ranked).toEqual([
      { tag: 'ver3', value: '3' },
      { tag: 'ver2', value: '2' },
      { tag: 'ver1', value: '1' },
    ]);
  });
});

describe('peer cases: Argo CD Image Updater registry-scanner', () => {
  // pkg/tag/tag_test.go Test_SortableImageTagList (ascending there; best first here)
  test('sort by name', () => {
    expect(rank(['wohoo', 'bazar', 'alpha', 'jesus', 'zebra'], { strategy: 'alphabetical' })).toEqual(['zebra', 'wohoo', 'jesus', 'bazar', 'alpha']);
  });

  test('sort by semver, equal versions by the greater tag', () => {
    expect(rank(['v2.0.2', 'v1.0', 'v2.0.0', 'v1.0.1', 'v2.0.3', 'v2.0'], { strategy: 'semver', strict: false })).toEqual([
      'v2.0.3',
      'v2.0.2',
      'v2.0.0',
      'v2.0',
      'v1.0.1',
      'v1.0',
    ]);
  });

  test('sort by date', () => {
    const names = ['v2.0.2', 'v1.0', 'v1.0.1', 'v2.0.3', 'v2.0'];
    const dates = [4, 1, 0, 3, 2];
    const tags = names.map((name, i) => ({ name, createdAt: new Date((dates[i] ?? 0) * 1000) }));
    expect(select(tags, { strategy: 'newest-build' })).toEqual(['v2.0.2', 'v2.0.3', 'v2.0', 'v1.0', 'v1.0.1']);
  });

  test('sort by date with same dates: ties by the greater tag', () => {
    const tags = ['v2.0.2', 'v1.0', 'v1.0.1', 'v2.0.3', 'v2.0'].map((name) => ({ name, createdAt: new Date(0) }));
    expect(select(tags, { strategy: 'newest-build' })).toEqual(['v2.0.3', 'v2.0.2', 'v2.0', 'v1.0.1', 'v1.0']);
  });

  // pkg/image/version_test.go Test_LatestVersion
  const versions = ['0.1', '0.5.1', '0.9', '1.0', '1.0.1', '1.1.2', '2.0.3'];
  test.each<[string, PolicyInput, string | undefined]>([
    ['without any constraint', { strategy: 'semver', strict: false }, '2.0.3'],
    ['with a semver constraint on major', { strategy: 'semver', strict: false, constraint: '^1.0' }, '1.1.2'],
    ['with a semver constraint on patch', { strategy: 'semver', strict: false, constraint: '~1.0' }, '1.0.1'],
  ])('latest version %s', (_label, policy, expected) => {
    expect(best(versions, policy)).toBe(expected);
  });

  test('a constraint with no match selects nothing', () => {
    expect(best(['0.1', '0.5.1', '0.9', '2.0.3'], { strategy: 'semver', strict: false, constraint: '~1.0' })).toBeUndefined();
  });

  test('newest-build picks the newest', () => {
    const tags = ['zz', 'bb', 'yy', 'cc', 'yy', 'aa', 'll'].map((name, i) => ({ name, createdAt: new Date(i * 5000) }));
    expect(select(tags, { strategy: 'newest-build' })[0]).toBe('ll');
    expect(select(tags, { strategy: 'latest' })[0]).toBe('ll');
  });

  test('semver over tags that are no versions selects nothing', () => {
    expect(best(['zz', 'bb', 'yy', 'cc', 'yy', 'aa', 'll'], { strategy: 'semver' })).toBeUndefined();
  });

  test('alphabetical picks the greatest', () => {
    expect(best(['zz', 'bb', 'yy', 'cc', 'yy', 'aa', 'll'], { strategy: 'alphabetical' })).toBe('zz');
  });

  test('digest tracks the named tag and keeps the digest the registry gave it', () => {
    const tags: Tag[] = [
      { name: 'latest', createdAt: new Date(6000), digest: 'sha256:' + 'a'.repeat(64) },
      { name: 'v1', digest: 'sha256:' + 'b'.repeat(64) },
    ];
    const result = selectTags(tags, parsePolicy({ strategy: 'digest', constraint: 'latest' }));
    expect(result).toEqual([{ tag: tags[0], value: 'latest' }]);
    expect(result[0]?.tag.digest).toBe('sha256:' + 'a'.repeat(64));
  });

  test('metadata needs per strategy (Test_UpdateStrategy_NeedsMetadata)', () => {
    expect(needsMetadata(parsePolicy({ strategy: 'semver' }))).toBe(false);
    expect(needsMetadata(parsePolicy({ strategy: 'newest-build' }))).toBe(true);
    expect(needsMetadata(parsePolicy({ strategy: 'alphabetical' }))).toBe(false);
    expect(needsMetadata(parsePolicy({ strategy: 'digest', constraint: 'latest' }))).toBe(false);
  });
});

describe('peer cases: Kargo internal/image', () => {
  // semver_selector_test.go TestSortImagesBySemver / semver_tag_selector_test.go TestSortTagsBySemver
  test('sort by semver, greatest first', () => {
    expect(rank(['5.0.0', '0.0.1', '0.2.1', '0.1.1', '1.1.1', '7.0.6', '1.0.0', '1.0.2'], { strategy: 'semver' })).toEqual([
      '7.0.6',
      '5.0.0',
      '1.1.1',
      '1.0.2',
      '1.0.0',
      '0.2.1',
      '0.1.1',
      '0.0.1',
    ]);
  });

  test('no constraint accepts every version; ^1.24 limits to 1.x from 1.24', () => {
    const names = ['1.23.9', '1.24.0', '1.29.3', '2.0.0'];
    expect(rank(names, { strategy: 'semver' })).toEqual(['2.0.0', '1.29.3', '1.24.0', '1.23.9']);
    expect(rank(names, { strategy: 'semver', constraint: '^1.24' })).toEqual(['1.29.3', '1.24.0']);
  });
});

describe('semver rules', () => {
  const names = ['1.2.3', 'v1.3.0', '1.4', '2', '1.5.0-rc.1', 'v1.4.1-beta', 'latest', 'main-abc123', '1.2.3.4'];

  test('strict (the default) takes only full X.Y.Z with an optional v', () => {
    expect(rank(names, { strategy: 'semver' })).toEqual(['v1.3.0', '1.2.3']);
    expect(rank(names, { strategy: 'semver', strict: true })).toEqual(['v1.3.0', '1.2.3']);
  });

  test('strict: false also takes 1.2 and 1', () => {
    expect(rank(names, { strategy: 'semver', strict: false })).toEqual(['2', '1.4', 'v1.3.0', '1.2.3']);
  });

  test('prereleases are excluded unless prereleases: true', () => {
    expect(rank(names, { strategy: 'semver', prereleases: true })).toEqual(['1.5.0-rc.1', 'v1.4.1-beta', 'v1.3.0', '1.2.3']);
    expect(rank(names, { strategy: 'semver', prereleases: false })).toEqual(['v1.3.0', '1.2.3']);
  });

  test('prereleases are included when the range itself names one', () => {
    const tags = ['1.0.0-rc.1', '1.0.0-rc.2', '1.1.0-beta.1', '1.0.0', '0.9.0'];
    expect(rank(tags, { strategy: 'semver', constraint: '>=1.0.0-rc.1' })).toEqual(['1.1.0-beta.1', '1.0.0', '1.0.0-rc.2', '1.0.0-rc.1']);
    expect(rank(tags, { strategy: 'semver', constraint: '>=1.0.0' })).toEqual(['1.0.0']);
    expect(rank(tags, { strategy: 'semver', constraint: '>=1.0.0', prereleases: true })).toEqual(['1.1.0-beta.1', '1.0.0']);
    // "excluded unless prereleases: true or the range names one": a range naming one wins over an explicit false
    expect(rank(tags, { strategy: 'semver', constraint: '>=1.0.0-rc.2', prereleases: false })).toEqual(['1.1.0-beta.1', '1.0.0', '1.0.0-rc.2']);
    // with prereleases in, node-semver's desugaring keeps 2.0.0-beta out of `<2.0`
    expect(rank(['1.9.0', '2.0.0-beta', '2.0.0'], { strategy: 'semver', constraint: '>=1.0, <2.0', prereleases: true })).toEqual(['1.9.0']);
  });

  test('equal versions rank by the byte-wise greater original tag', () => {
    expect(rank(['1.0.0', 'v1.0.0'], { strategy: 'semver' })).toEqual(['v1.0.0', '1.0.0']);
    expect(rank(['v1.0.0', '1.0.0'], { strategy: 'semver' })).toEqual(['v1.0.0', '1.0.0']);
    expect(rank(['1.0.0+b', '1.0.0+a', '1.0.0'], { strategy: 'semver' })).toEqual(['1.0.0+b', '1.0.0+a', '1.0.0']);
    expect(rank(['1.0', '1.0.0', 'v1'], { strategy: 'semver', strict: false })).toEqual(['v1', '1.0.0', '1.0']);
  });

  test('Masterminds forms: commas, 1.x, v prefixes, !=', () => {
    const tags = ['v0.9.0', 'v1.0.0', 'v1.3.0', 'v1.9.9', 'v2.0.0'];
    expect(rank(tags, { strategy: 'semver', constraint: '>=1.0, <2.0' })).toEqual(['v1.9.9', 'v1.3.0', 'v1.0.0']);
    expect(rank(tags, { strategy: 'semver', constraint: '1.x' })).toEqual(['v1.9.9', 'v1.3.0', 'v1.0.0']);
    expect(rank(tags, { strategy: 'semver', constraint: 'v1.x' })).toEqual(['v1.9.9', 'v1.3.0', 'v1.0.0']);
    expect(rank(tags, { strategy: 'semver', constraint: '>=v1.0.0, <v2.0.0, !=1.3.0' })).toEqual(['v1.9.9', 'v1.0.0']);
    expect(rank(tags, { strategy: 'semver', constraint: '<1.0 || >=2.0' })).toEqual(['v2.0.0', 'v0.9.0']);
  });

  test('extraction: the value is ranked, the original tag reported', () => {
    const ranked = rankTags(
      ['release-1.2.3', 'release-1.10.0', 'release-x', 'v9.9.9'],
      parsePolicy({ strategy: 'semver', extract: { pattern: '^release-(?P<version>.+)$', template: '${version}' } }),
    );
    expect(ranked).toEqual([
      { tag: 'release-1.10.0', value: '1.10.0' },
      { tag: 'release-1.2.3', value: '1.2.3' },
    ]);
  });
});

describe('newest-build rules', () => {
  test('by creation time, newest first; ties by the greater tag; undated last', () => {
    const tags: Tag[] = [
      { name: 'a', createdAt: new Date('2024-01-01T00:00:00Z') },
      { name: 'undated-b' },
      { name: 'c', createdAt: new Date('2024-03-01T00:00:00Z') },
      { name: 'b', createdAt: new Date('2024-03-01T00:00:00Z') },
      { name: 'undated-a' },
      { name: 'invalid-date', createdAt: new Date(Number.NaN) },
    ];
    expect(select(tags, { strategy: 'newest-build' })).toEqual(['c', 'b', 'a', 'undated-b', 'undated-a', 'invalid-date']);
  });

  test('allow/ignore and extract filter newest-build too', () => {
    const tags: Tag[] = [
      { name: 'main-aaa', createdAt: new Date(3000) },
      { name: 'pr-12-bbb', createdAt: new Date(5000) },
      { name: 'main-ccc', createdAt: new Date(1000) },
    ];
    expect(select(tags, { strategy: 'newest-build', allowTags: ['main-*'] })).toEqual(['main-aaa', 'main-ccc']);
    expect(select(tags, { strategy: 'newest-build', extract: { pattern: '^main-(.*)$', template: '$1' } })).toEqual(['main-aaa', 'main-ccc']);
  });
});

describe('alphabetical and numerical rules', () => {
  test('alphabetical is byte-wise, not locale order', () => {
    expect(rank(['b', 'B', 'a', 'A', '_', '1'], { strategy: 'alphabetical' })).toEqual(['b', 'a', '_', 'B', 'A', '1']);
    expect(rank(['b', 'B', 'a', 'A', '_', '1'], { strategy: 'lexical', order: 'desc' })).toEqual(['1', 'A', 'B', '_', 'a', 'b']);
    expect(rank(['b', 'a'], { strategy: 'name' })).toEqual(['b', 'a']);
  });

  test('equal extracted values rank by the greater original tag, in either order', () => {
    const extract = { pattern: '^[a-z]+-(\\d+)$', template: '$1' };
    expect(rank(['x-2', 'y-2', 'z-1'], { strategy: 'alphabetical', extract })).toEqual(['y-2', 'x-2', 'z-1']);
    expect(rank(['x-2', 'y-2', 'z-1'], { strategy: 'alphabetical', order: 'desc', extract })).toEqual(['z-1', 'y-2', 'x-2']);
    expect(rank(['x-2', 'y-2', 'z-1'], { strategy: 'numerical', extract })).toEqual(['y-2', 'x-2', 'z-1']);
  });

  test('numerical drops tags that are not finite numbers and compares numerically, not by text', () => {
    expect(rank(['9', '10', '1e3', 'latest', 'NaN', 'Infinity', '1e999', '0x10', '2.5'], { strategy: 'numerical' })).toEqual(['1e3', '10', '9', '2.5']);
    expect(rank(['1.0', '1', '01'], { strategy: 'numerical' })).toEqual(['1.0', '1', '01']);
  });
});

describe('allowTags and ignoreTags', () => {
  const names = ['v1.0.0', 'v1.1.0', 'v1.1.0-debug', 'v2.0.0', '1.5.0'];

  test('default: all tags allowed, none ignored', () => {
    expect(rank(names, { strategy: 'alphabetical' })).toHaveLength(names.length);
  });

  test('allow takes matcher strings; ignore wins', () => {
    expect(rank(names, { strategy: 'alphabetical', allowTags: ['regexp:^v1\\.'] })).toEqual(['v1.1.0-debug', 'v1.1.0', 'v1.0.0']);
    expect(rank(names, { strategy: 'alphabetical', allowTags: ['v1.*'], ignoreTags: ['*-debug', 'glob:v1.0.0'] })).toEqual(['v1.1.0']);
    expect(rank(names, { strategy: 'alphabetical', allowTags: ['v1.1.0'], ignoreTags: ['v1.1.0'] })).toEqual([]);
    expect(rank(names, { strategy: 'alphabetical', ignoreTags: ['any'] })).toEqual([]);
    expect(rank(names, { strategy: 'alphabetical', allowTags: ['none'] })).toEqual([]);
  });

  test('allow/ignore match the original tag, not the extracted value', () => {
    const policy: PolicyInput = { strategy: 'numerical', allowTags: ['build-*'], extract: { pattern: '(\\d+)$', template: '$1' } };
    expect(rank(['build-7', 'build-12', 'other-99'], policy)).toEqual(['build-12', 'build-7']);
  });

  test('digest applies the filters to the tracked tag too', () => {
    expect(rank(['latest', 'v1'], { strategy: 'digest', constraint: 'latest' })).toEqual(['latest']);
    expect(rank(['latest', 'v1'], { strategy: 'digest', constraint: 'latest', ignoreTags: ['latest'] })).toEqual([]);
    expect(rank(['v1'], { strategy: 'digest', constraint: 'latest' })).toEqual([]);
  });
});

describe('limit', () => {
  test('caps the candidates selectTags returns, after ranking', () => {
    const tags = ['1.0.0', '3.0.0', '2.0.0', '4.0.0'].map((name) => ({ name }));
    expect(select(tags, { strategy: 'semver', limit: 2 })).toEqual(['4.0.0', '3.0.0']);
    expect(select(tags, { strategy: 'semver', limit: 10 })).toEqual(['4.0.0', '3.0.0', '2.0.0', '1.0.0']);
  });
});

describe('platforms', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const armv6 = { os: 'linux', architecture: 'arm', variant: 'v6' };

  test('a candidate passes when one of its platforms matches one requested; no platform info fails', () => {
    const tags: Tag[] = [
      { name: '4.0.0' },
      { name: '3.0.0', platforms: [amd64] },
      { name: '2.0.0', platforms: [amd64, arm64] },
      { name: '1.0.0', platforms: [armv6] },
      { name: '0.5.0', platforms: [] },
    ];
    expect(select(tags, { strategy: 'semver', platforms: ['linux/arm64'] })).toEqual(['2.0.0']);
    expect(select(tags, { strategy: 'semver', platforms: ['linux/arm64', 'linux/amd64'] })).toEqual(['3.0.0', '2.0.0']);
    expect(select(tags, { strategy: 'semver', platforms: ['linux/arm'] })).toEqual(['1.0.0']);
    expect(select(tags, { strategy: 'semver', platforms: ['linux/arm/v7'] })).toEqual([]);
    expect(select(tags, { strategy: 'semver' })).toEqual(['4.0.0', '3.0.0', '2.0.0', '1.0.0', '0.5.0']);
  });

  test('limit counts only candidates that pass the platform filter', () => {
    const tags: Tag[] = [
      { name: '3.0.0', platforms: [amd64] },
      { name: '2.0.0', platforms: [arm64] },
      { name: '1.0.0', platforms: [arm64] },
    ];
    expect(select(tags, { strategy: 'semver', platforms: ['linux/arm64'], limit: 1 })).toEqual(['2.0.0']);
  });

  test('matchesPlatforms', () => {
    const policy = parsePolicy({ strategy: 'semver', platforms: ['linux/arm64'] });
    expect(matchesPlatforms({ platforms: [arm64] }, policy)).toBe(true);
    expect(matchesPlatforms({ platforms: [amd64] }, policy)).toBe(false);
    expect(matchesPlatforms({}, policy)).toBe(false);
    expect(matchesPlatforms({}, parsePolicy({ strategy: 'semver' }))).toBe(true);
  });
});

describe('the staged API the scanner uses', () => {
  test('requiredMetadata and needsMetadata', () => {
    expect(requiredMetadata(parsePolicy({ strategy: 'semver' }))).toEqual({ createdAt: false, platforms: false });
    expect(requiredMetadata(parsePolicy({ strategy: 'latest' }))).toEqual({ createdAt: true, platforms: false });
    expect(requiredMetadata(parsePolicy({ strategy: 'semver', platforms: ['linux/amd64'] }))).toEqual({ createdAt: false, platforms: true });
    expect(needsMetadata(parsePolicy({ strategy: 'alphabetical', platforms: ['linux/amd64'] }))).toBe(true);
    expect(needsMetadata(parsePolicy({ strategy: 'numerical' }))).toBe(false);
  });

  test('filterTags keeps input order, drops duplicates and what the strategy cannot read', () => {
    const policy = parsePolicy({ strategy: 'semver', ignoreTags: ['*-debug'] });
    expect(filterTags(['1.0.0', 'latest', '3.0.0', '1.0.0', '2.0.0-debug', '2.0.0'], policy)).toEqual([
      { tag: '1.0.0', value: '1.0.0' },
      { tag: '3.0.0', value: '3.0.0' },
      { tag: '2.0.0', value: '2.0.0' },
    ]);
    expect(filterTags(['b', 'main-1', 'a'], parsePolicy({ strategy: 'newest-build', allowTags: ['main-*'] }))).toEqual([{ tag: 'main-1', value: 'main-1' }]);
  });

  test('a name listed twice comes back once', () => {
    expect(rank(['1.0.0', '2.0.0', '1.0.0', '2.0.0'], { strategy: 'semver' })).toEqual(['2.0.0', '1.0.0']);
    expect(rank(['b', 'a', 'b'], { strategy: 'alphabetical', order: 'desc' })).toEqual(['a', 'b']);
    const tags: Tag[] = [
      { name: 'x', createdAt: new Date(1000) },
      { name: 'y', createdAt: new Date(2000) },
      { name: 'x', createdAt: new Date(3000) },
    ];
    expect(selectTags(tags, parsePolicy({ strategy: 'newest-build' })).map((c) => c.tag)).toEqual([tags[2], tags[1]]);
  });

  test('rankTags refuses newest-build, which needs creation times', () => {
    let error: unknown;
    try {
      rankTags(['a'], parsePolicy({ strategy: 'newest-build' }));
    } catch (caught) {
      error = caught;
    }
    expect(isPolicyError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'needs_metadata' });
    expect((error as Error).message).toContain('filterTags');
  });

  test('rank by name, then fetch platforms lazily until limit candidates pass', () => {
    const registry = new Map<string, Tag>([
      ['5.0.0', { name: '5.0.0', platforms: [{ os: 'linux', architecture: 'amd64' }] }],
      ['4.0.0', { name: '4.0.0', platforms: [{ os: 'linux', architecture: 'arm64' }] }],
      ['3.0.0', { name: '3.0.0', platforms: [{ os: 'linux', architecture: 'amd64' }] }],
      ['2.0.0', { name: '2.0.0', platforms: [{ os: 'linux', architecture: 'arm64' }] }],
      ['1.0.0', { name: '1.0.0', platforms: [{ os: 'linux', architecture: 'arm64' }] }],
    ]);
    const policy = parsePolicy({ strategy: 'semver', platforms: ['linux/arm64'], limit: 2 });
    const fetched: string[] = [];
    const chosen: string[] = [];
    for (const candidate of rankTags(['1.0.0', '2.0.0', '3.0.0', '4.0.0', '5.0.0', 'latest'], policy)) {
      fetched.push(candidate.tag);
      const tag = registry.get(candidate.tag)!;
      if (matchesPlatforms(tag, policy)) chosen.push(tag.name);
      if (chosen.length === policy.limit) break;
    }
    expect(chosen).toEqual(['4.0.0', '2.0.0']);
    expect(fetched).toEqual(['5.0.0', '4.0.0', '3.0.0', '2.0.0']);
    // The staged result equals applying the whole policy to fully fetched tags.
    expect(selectTags([...registry.values()], policy).map((c) => c.tag.name)).toEqual(chosen);
  });

  test('a typed policy literal works without parsePolicy, and is validated the same way', () => {
    const policy: Policy = { strategy: 'semver', constraint: '^1' };
    expect(rankTags(['1.2.0', '2.0.0'], policy).map((c) => c.tag)).toEqual(['1.2.0']);
    const invalid: Policy = { strategy: 'semver', constraint: '1.x.y' };
    expect(() => rankTags(['1.0.0'], invalid)).toThrow('@scanner/version: policy.constraint: invalid semver range "1.x.y"');
    const alias = { strategy: 'lexical' } as unknown as Policy;
    expect(rankTags(['a', 'b'], alias).map((c) => c.tag)).toEqual(['b', 'a']);
    const unknown = { strategy: 'bogus' } as unknown as Policy;
    expect(() => rankTags(['a'], unknown)).toThrow('policy.strategy: unknown strategy "bogus"');
  });
});
