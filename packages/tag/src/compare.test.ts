import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareBytes, compareDates, compareNumbers, isTagError, isTagName, parseNumber, TagError } from './index.ts';

describe('compareBytes', () => {
  test('property: equals comparing the UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareBytes(a, b))).toBe(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
      }),
    );
  });

  test('is not UTF-16 order: U+FF01 sorts before U+1F600', () => {
    const fullwidth: string = '\uFF01';
    const emoji: string = '😀';
    expect(compareBytes(fullwidth, emoji)).toBeLessThan(0);
    expect(fullwidth < emoji).toBe(false);
  });

  test('byte order, not locale order', () => {
    expect(['b', 'B', 'a', 'A', '_', '1'].sort(compareBytes)).toEqual(['1', 'A', 'B', '_', 'a', 'b']);
  });
});

describe('parseNumber', () => {
  test.each([
    ['42', 42],
    ['-62', -62],
    ['47.40896403322944', 47.40896403322944],
    ['1e3', 1000],
    ['1606234201', 1606234201],
    ['.5', 0.5],
    ['1.', 1],
    ['1a', undefined],
    ['b', undefined],
    ['', undefined],
    ['NaN', undefined],
    ['Infinity', undefined],
    ['0x10', undefined],
    ['1e999', undefined],
    ['1_000', undefined],
    [' 1', undefined],
  ])('%j reads as %j', (text, value) => {
    expect(parseNumber(text)).toBe(value);
  });

  test('property: every finite double round-trips through its string form', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        expect(parseNumber(String(value))).toBe(value === 0 ? 0 : value);
      }),
    );
  });
});

describe('compareNumbers and compareDates', () => {
  test('numbers ascending, -0 equals 0', () => {
    expect([3, -1, 2.5, 0].sort(compareNumbers)).toEqual([-1, 0, 2.5, 3]);
    expect(compareNumbers(-0, 0)).toBe(0);
  });

  test('dates ascending; missing and invalid dates below every date', () => {
    const a = new Date(1000);
    const b = new Date(2000);
    expect(compareDates(a, b)).toBeLessThan(0);
    expect(compareDates(b, a)).toBeGreaterThan(0);
    expect(compareDates(a, new Date(1000))).toBe(0);
    expect(compareDates(undefined, a)).toBeLessThan(0);
    expect(compareDates(a, undefined)).toBeGreaterThan(0);
    expect(compareDates(undefined, undefined)).toBe(0);
    expect(compareDates(new Date(Number.NaN), undefined)).toBe(0);
    expect(compareDates(new Date(Number.NaN), new Date(0))).toBeLessThan(0);
  });

  test('property: compareDates is antisymmetric and transitive', () => {
    const dateArb = fc.option(fc.integer({ min: 0, max: 10 }).map((n) => new Date(n)), { nil: undefined });
    fc.assert(
      fc.property(dateArb, dateArb, dateArb, (a, b, c) => {
        expect(Math.sign(compareDates(a, b))).toBe(-Math.sign(compareDates(b, a)) || 0);
        if (compareDates(a, b) <= 0 && compareDates(b, c) <= 0) expect(compareDates(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });
});

describe('tag model and errors', () => {
  test('isTagName follows the distribution-spec grammar', () => {
    expect(isTagName('v1.2.3')).toBe(true);
    expect(isTagName('_x')).toBe(true);
    expect(isTagName('a'.repeat(128))).toBe(true);
    expect(isTagName('a'.repeat(129))).toBe(false);
    expect(isTagName('.hidden')).toBe(false);
    expect(isTagName('-x')).toBe(false);
    expect(isTagName('a/b')).toBe(false);
    expect(isTagName('')).toBe(false);
  });

  test('TagError has the prefix, the code and the cause; isTagError matches on name and code', () => {
    const cause = new Error('inner');
    const error = new TagError('invalid_template', 'bad', { cause });
    expect(error.message).toBe('@scanner/tag: bad');
    expect(error.cause).toBe(cause);
    expect(isTagError(error)).toBe(true);
    // another installed copy: same name and code, different class
    expect(isTagError(Object.assign(new Error('x'), { name: 'TagError', code: 'invalid_matcher' }))).toBe(true);
    expect(isTagError(Object.assign(new Error('x'), { name: 'TagError', code: 'nope' }))).toBe(false);
    expect(isTagError(Object.assign(new Error('x'), { code: 'invalid_matcher' }))).toBe(false);
    expect(isTagError('TagError')).toBe(false);
  });
});
