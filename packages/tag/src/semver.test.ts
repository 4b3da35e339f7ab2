import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, test } from 'vitest';
import { compareSemver, formatSemver, parseSemver } from './index.ts';

describe('parseSemver', () => {
  test.each([
    // [tag, strict result, loose result]
    ['1.2.3', '1.2.3', '1.2.3'],
    ['v1.2.3', '1.2.3', '1.2.3'],
    ['1.2.3-rc.1', '1.2.3-rc.1', '1.2.3-rc.1'],
    ['1.2.3+build.5', '1.2.3+build.5', '1.2.3+build.5'],
    ['v1.2.3-beta.2+exp.sha.5114f85', '1.2.3-beta.2+exp.sha.5114f85', '1.2.3-beta.2+exp.sha.5114f85'],
    ['1.2', undefined, '1.2.0'],
    ['v1.0', undefined, '1.0.0'],
    ['1', undefined, '1.0.0'],
    ['1.2-beta', undefined, '1.2.0-beta'],
    ['01.2.3', undefined, '1.2.3'],
    ['1.2.3-01', undefined, '1.2.3-01'],
    // Flux semver_test.go: "1.0.0.1" and "1.0.0p" are not versions; "b1.2.3" has an invalid prefix.
    ['1.0.0.1', undefined, undefined],
    ['1.0.0p', undefined, undefined],
    ['b1.2.3', undefined, undefined],
    ['V1.2.3', undefined, undefined],
    ['latest', undefined, undefined],
    ['main-abc123', undefined, undefined],
    ['1.2.3-', undefined, undefined],
    ['1.2.3-a..b', undefined, undefined],
    ['', undefined, undefined],
    ['v', undefined, undefined],
    ['9007199254740992.0.0', undefined, undefined],
  ])('%j reads as %j (strict) and %j (loose)', (tag, strict, loose) => {
    const format = (version: ReturnType<typeof parseSemver>) => (version === undefined ? undefined : formatSemver(version));
    expect(format(parseSemver(tag))).toBe(strict);
    expect(format(parseSemver(tag, { strict: true }))).toBe(strict);
    expect(format(parseSemver(tag, { strict: false }))).toBe(loose);
  });

  test('property: strict parsing agrees with node-semver on what is a version, and on the parts', () => {
    const versionish = fc
      .tuple(
        fc.constantFrom('', 'v'),
        fc.array(fc.constantFrom('0', '1', '01', '10', '99', 'x', 'rc'), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('', '-rc.1', '-0', '-01', '-alpha', '-a.b.1', '+b.1', '-x+y'),
      )
      .map(([prefix, parts, suffix]) => `${prefix}${parts.join('.')}${suffix}`);
    fc.assert(
      fc.property(versionish, (tag) => {
        const ours = parseSemver(tag);
        const theirs = semver.valid(tag);
        expect(ours === undefined ? null : formatSemver(ours).replace(/\+.*$/, '')).toBe(theirs);
      }),
    );
  });
});

describe('parseSemver loose mode', () => {
  // Masterminds' loose grammar as one regular expression, the reference for the hand-written scanner.
  const reference = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
  test('property: strict mode agrees with node-semver on arbitrary strings', () => {
    const text = fc.string({ unit: fc.constantFrom('v', '0', '1', '9', '.', '-', '+', 'a', 'Z'), maxLength: 12 });
    fc.assert(
      fc.property(text, (tag) => {
        const parsed = parseSemver(tag);
        expect(parsed === undefined ? null : formatSemver(parsed).replace(/\+.*$/, '')).toBe(semver.valid(tag));
      }),
      { numRuns: 2000 },
    );
  });

  test('property: agrees with the loose grammar', () => {
    const text = fc.string({ unit: fc.constantFrom('v', '0', '1', '9', '.', '-', '+', 'a', 'Z', '_'), maxLength: 12 });
    fc.assert(
      fc.property(text, (tag) => {
        const match = reference.exec(tag);
        const expected =
          match === null
            ? undefined
            : `${Number(match[1])}.${Number(match[2] ?? 0)}.${Number(match[3] ?? 0)}${match[4] === undefined ? '' : `-${match[4]}`}${match[5] === undefined ? '' : `+${match[5]}`}`;
        const parsed = parseSemver(tag, { strict: false });
        expect(parsed === undefined ? undefined : formatSemver(parsed)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

const identifierArb = fc.oneof(fc.constantFrom('0', '1', '2', '10', 'alpha', 'beta', 'rc', 'a-b', '1a'), fc.nat(20).map(String));
const versionArb = fc.record({
  major: fc.nat(5),
  minor: fc.nat(5),
  patch: fc.nat(5),
  prerelease: fc.oneof(fc.constant([] as string[]), fc.array(identifierArb, { minLength: 1, maxLength: 3 })),
  build: fc.oneof(fc.constant([] as string[]), fc.array(fc.constantFrom('b1', 'sha', '7'), { minLength: 1, maxLength: 2 })),
});

describe('compareSemver', () => {
  test('property: agrees with node-semver precedence', () => {
    fc.assert(
      fc.property(versionArb, versionArb, (a, b) => {
        expect(Math.sign(compareSemver(a, b))).toBe(semver.compare(formatSemver(a), formatSemver(b)));
      }),
    );
  });

  test('property: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        expect(Math.sign(compareSemver(a, b))).toBe(-Math.sign(compareSemver(b, a)) || 0);
        if (compareSemver(a, b) <= 0 && compareSemver(b, c) <= 0) expect(compareSemver(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });

  test('the semver spec example order', () => {
    const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '2.1.0', '2.1.1'];
    const parsed = ordered.map((tag) => parseSemver(tag)!);
    const shuffled = [...parsed].reverse().sort(compareSemver);
    expect(shuffled.map(formatSemver)).toEqual(ordered);
  });

  test('build metadata does not count; leading zeros in loose prerelease ids compare numerically', () => {
    expect(compareSemver(parseSemver('1.0.0+a')!, parseSemver('1.0.0+b')!)).toBe(0);
    expect(compareSemver(parseSemver('1.0.0-01', { strict: false })!, parseSemver('1.0.0-1')!)).toBe(0);
    expect(compareSemver(parseSemver('1.0.0-99999999999999999999')!, parseSemver('1.0.0-100000000000000000000')!)).toBeLessThan(0);
  });
});
