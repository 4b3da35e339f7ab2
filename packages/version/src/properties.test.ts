import type { Tag } from '@scanner/tag';
import { compareBytes, compareSemver, parseSemver } from '@scanner/tag';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compilePolicy } from './compile.ts';
import type { PolicyInput } from './index.ts';
import { filterTags, parsePolicy, rankTags, selectTags } from './index.ts';
import { collect } from './select.ts';

// Tags the way registries hold them: versions with and without v, partial versions, prereleases, build
// metadata, numbers, build tags, words, and collisions such as 1.0.0 / v1.0.0 / 1.0.
const tagArb = fc.oneof(
  fc
    .tuple(fc.constantFrom('', 'v'), fc.nat(3), fc.nat(3), fc.nat(3), fc.constantFrom('', '-rc.1', '-rc.2', '-alpha', '+b1', '+b2'))
    .map(([v, a, b, c, suffix]) => `${v}${a}.${b}.${c}${suffix}`),
  fc.tuple(fc.constantFrom('', 'v'), fc.nat(3), fc.option(fc.nat(3), { nil: undefined })).map(([v, a, b]) => (b === undefined ? `${v}${a}` : `${v}${a}.${b}`)),
  fc.oneof(fc.integer({ min: -50, max: 50 }).map(String), fc.constantFrom('1.0', '01', '1e2', '2.50', '-0', '0')),
  fc.stringMatching(/^(?:main|pr-[0-9])-[0-9a-f]{2}$/),
  fc.constantFrom('latest', 'stable', 'edge', 'B', 'b', '_x', 'z'),
);
const namesArb = fc.uniqueArray(tagArb, { maxLength: 40 });

const policies: readonly PolicyInput[] = [
  { strategy: 'semver' },
  { strategy: 'semver', strict: false, prereleases: true },
  { strategy: 'semver', constraint: '>=1.0, <3.0', strict: false },
  { strategy: 'alphabetical' },
  { strategy: 'alphabetical', order: 'desc' },
  { strategy: 'numerical' },
  { strategy: 'numerical', order: 'desc' },
  { strategy: 'alphabetical', extract: { pattern: '^v?(\\d+)', template: '$1' } },
  { strategy: 'numerical', extract: { pattern: '(\\d+)$', template: '$1' } },
  { strategy: 'semver', allowTags: ['v*'], ignoreTags: ['regexp:^v0'] },
];

describe.each(policies.map((policy) => [JSON.stringify(policy), policy] as const))('ranking invariants under %s', (_label, input) => {
  const policy = parsePolicy(input);
  const compiled = compilePolicy(policy);
  // The comparator over every tag of `names` that passes the filters, with those tags' names by index.
  const comparatorFor = (names: readonly string[]) => {
    const ranking = collect(names, (name) => name, undefined, compiled, true);
    return { names: ranking.items, compare: compiled.comparator(ranking.columns) };
  };

  test('the order is total and antisymmetric over distinct tags', () => {
    fc.assert(
      fc.property(namesArb, (names) => {
        const { names: kept, compare } = comparatorFor(names);
        for (let i = 0; i < kept.length; i += 1) {
          for (let j = 0; j < kept.length; j += 1) {
            const forward = Math.sign(compare(i, j));
            expect(forward).toBe(-Math.sign(compare(j, i)) || 0);
            expect(forward === 0).toBe(kept[i] === kept[j]);
          }
        }
      }),
    );
  });

  test('the order is transitive', () => {
    fc.assert(
      fc.property(namesArb, (names) => {
        const { names: kept, compare } = comparatorFor(names);
        const count = Math.min(kept.length, 15);
        for (let i = 0; i < count; i += 1) {
          for (let j = 0; j < count; j += 1) {
            if (compare(i, j) >= 0) continue;
            for (let k = 0; k < count; k += 1) if (compare(j, k) < 0) expect(compare(i, k)).toBeLessThan(0);
          }
        }
      }),
    );
  });

  test('the ranking is deterministic under any permutation of the input', () => {
    fc.assert(
      fc.property(namesArb.chain((names) => fc.tuple(fc.constant(names), fc.shuffledSubarray(names, { minLength: names.length }))), ([names, shuffled]) => {
        expect(rankTags(shuffled, policy)).toEqual(rankTags(names, policy));
      }),
    );
  });

  test('listing names twice changes nothing', () => {
    fc.assert(
      fc.property(namesArb, fc.array(fc.nat()), (names, picks) => {
        const repeated = [...names, ...picks.flatMap((pick) => names.slice(pick % Math.max(1, names.length)).slice(0, 1))];
        expect(rankTags(repeated, policy)).toEqual(rankTags(names, policy));
      }),
    );
  });

  test('the ranking holds exactly the filtered tags, each ranked above the next', () => {
    fc.assert(
      fc.property(namesArb, (names) => {
        const ranked = rankTags(names, policy);
        const filtered = filterTags(names, policy);
        expect(new Set(ranked.map((c) => c.tag))).toEqual(new Set(filtered.map((c) => c.tag)));
        expect(ranked).toHaveLength(filtered.length);
        const { names: kept, compare } = comparatorFor(ranked.map((c) => c.tag));
        for (let i = 1; i < kept.length; i += 1) expect(compare(i - 1, i)).toBeLessThan(0);
      }),
    );
  });
});

describe('newest-build invariants', () => {
  const policy = parsePolicy({ strategy: 'newest-build' });
  const tagsArb = fc.uniqueArray(
    fc.record({ name: tagArb, createdAt: fc.option(fc.integer({ min: 0, max: 5 }).map((n) => new Date(n * 1000)), { nil: undefined }) }),
    { selector: (tag) => tag.name, maxLength: 30 },
  );
  const toTags = (records: { name: string; createdAt: Date | undefined }[]): Tag[] =>
    records.map(({ name, createdAt }) => (createdAt === undefined ? { name } : { name, createdAt }));

  test('deterministic under permutation; newest first, undated last, ties by the greater name', () => {
    fc.assert(
      fc.property(tagsArb.chain((records) => fc.tuple(fc.constant(records), fc.shuffledSubarray(records, { minLength: records.length }))), ([records, shuffled]) => {
        const ranked = selectTags(toTags(records), policy).map((c) => c.tag);
        expect(selectTags(toTags(shuffled), policy).map((c) => c.tag.name)).toEqual(ranked.map((tag) => tag.name));
        for (let i = 1; i < ranked.length; i += 1) {
          const previous = ranked[i - 1]!;
          const current = ranked[i]!;
          const p = previous.createdAt?.getTime() ?? -Infinity;
          const c = current.createdAt?.getTime() ?? -Infinity;
          expect(p).toBeGreaterThanOrEqual(c);
          if (p === c) expect(previous.name > current.name).toBe(true);
        }
      }),
    );
  });
});

describe('ranking matches a plain reference sort', () => {
  // Components beyond the packed fast path (major ≥ 2^18, minor/patch ≥ 2^16) and prereleases exercise the fallback.
  const component = fc.oneof(fc.nat(3), fc.constantFrom(65_535, 65_536, 262_143, 262_144, 9_007_199_254_740_991));
  const versionTag = fc
    .tuple(fc.constantFrom('', 'v'), component, component, component, fc.constantFrom('', '-rc.1', '-rc.10', '-alpha', '-0'))
    .map(([v, a, b, c, pre]) => `${v}${a}.${b}.${c}${pre}`);

  test('semver: version precedence descending, then the byte-wise greater tag', () => {
    const policy = parsePolicy({ strategy: 'semver', prereleases: true });
    fc.assert(
      fc.property(fc.uniqueArray(versionTag, { maxLength: 30 }), (names) => {
        const reference = [...names].sort((a, b) => compareSemver(parseSemver(b)!, parseSemver(a)!) || compareBytes(b, a));
        expect(rankTags(names, policy).map((c) => c.tag)).toEqual(reference);
      }),
    );
  });

  test('alphabetical: byte-wise, also for astral characters where UTF-16 order differs', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '\uFF01', '😀', '\uE000', 'é'), maxLength: 4 });
    for (const order of ['asc', 'desc'] as const) {
      const policy = parsePolicy({ strategy: 'alphabetical', order });
      fc.assert(
        fc.property(fc.uniqueArray(text, { maxLength: 20 }), (names) => {
          const reference = [...names].sort((a, b) => (order === 'asc' ? compareBytes(b, a) : compareBytes(a, b)));
          expect(rankTags(names, policy).map((c) => c.tag)).toEqual(reference);
        }),
      );
    }
  });
});
