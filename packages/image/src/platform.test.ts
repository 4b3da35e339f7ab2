import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatPlatform, isImageError, normalizePlatform, parsePlatform, platformMatches } from './index.ts';
import type { Platform } from './index.ts';

const p = (s: string): Platform => parsePlatform(s);

describe('parsePlatform / formatPlatform', () => {
  test('parses two and three parts, keeping values as written', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('Linux/X86_64')).toEqual({ os: 'Linux', architecture: 'X86_64' });
    expect(parsePlatform('linux/amd64')).not.toHaveProperty('variant');
  });

  test.each(['', 'linux', 'linux/', '/amd64', 'linux//v7', 'linux/arm/v7/x', 'linux/am d64', 'linux/amd64/'])(
    'rejects %j with invalid_platform quoting the input',
    (input) => {
      try {
        parsePlatform(input);
        expect.unreachable();
      } catch (error) {
        expect(isImageError(error, 'invalid_platform')).toBe(true);
        expect((error as Error).message).toContain(JSON.stringify(input));
        expect((error as Error).message.startsWith('@scanner/image: ')).toBe(true);
      }
    },
  );

  test('formats, leaving out an empty variant, and rejects bad parts', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe('linux/arm64/v8');
    expect(formatPlatform({ os: 'linux', architecture: 'amd64', variant: '' })).toBe('linux/amd64');
    expect(() => formatPlatform({ os: 'linux/x', architecture: 'amd64' })).toThrow(/invalid platform/);
    expect(() => formatPlatform({ os: '', architecture: 'amd64' })).toThrow(/invalid platform/);
  });

  const part = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
  const platformString = fc
    .tuple(part, part, fc.option(part, { nil: undefined }))
    .map(([os, arch, variant]) => (variant === undefined ? `${os}/${arch}` : `${os}/${arch}/${variant}`));

  test('property: format ∘ parse = identity and parse ∘ format = identity', () => {
    fc.assert(
      fc.property(platformString, (input) => {
        const platform = parsePlatform(input);
        expect(formatPlatform(platform)).toBe(input);
        expect(parsePlatform(formatPlatform(platform))).toEqual(platform);
      }),
      { numRuns: 500 },
    );
  });

  test('property: normalisation is idempotent', () => {
    const arch = fc.constantFrom('amd64', 'x86_64', 'x86-64', 'i386', 'arm', 'arm64', 'aarch64', 'armhf', 'armel', 'riscv64');
    const variant = fc.constantFrom(undefined, '', 'v1', 'v2', '5', '6', '7', '8', 'v5', 'v6', 'v7', 'v8', 'V8');
    fc.assert(
      fc.property(fc.constantFrom('linux', 'Linux', 'macos', 'windows'), arch, variant, (os, architecture, v) => {
        const platform: Platform = v === undefined ? { os, architecture } : { os, architecture, variant: v };
        const once = normalizePlatform(platform);
        expect(normalizePlatform(once)).toEqual(once);
        expect(platformMatches(platform, once)).toBe(true);
      }),
    );
  });
});

describe('normalizePlatform (containerd platforms.Normalize)', () => {
  test.each([
    ['linux/x86_64', 'linux/amd64'],
    ['linux/x86-64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/i386', 'linux/386'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm64/8', 'linux/arm64'],
    ['linux/arm64/v9', 'linux/arm64/v9'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/arm/6', 'linux/arm/v6'],
    ['linux/arm/5', 'linux/arm/v5'],
    ['linux/arm/8', 'linux/arm/v8'],
    ['Linux/AMD64', 'linux/amd64'],
    ['macos/arm64', 'darwin/arm64'],
    ['linux/riscv64', 'linux/riscv64'],
    ['windows/amd64', 'windows/amd64'],
  ])('%s → %s', (input, expected) => {
    expect(formatPlatform(normalizePlatform(p(input)))).toBe(expected);
  });

  test('has no variant key when there is none', () => {
    expect(normalizePlatform(p('linux/arm64/v8'))).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(normalizePlatform(p('linux/arm64/v8'))).not.toHaveProperty('variant');
  });
});

describe('platformMatches(requested, actual)', () => {
  test.each([
    ['linux/amd64', 'linux/amd64', true],
    ['linux/amd64', 'linux/x86_64', true],
    ['linux/x86_64', 'linux/amd64', true],
    ['linux/amd64', 'linux/amd64/v3', true],
    ['linux/amd64/v3', 'linux/amd64', false],
    ['linux/amd64', 'linux/arm64', false],
    ['linux/amd64', 'windows/amd64', false],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64', true],
    ['linux/aarch64', 'linux/arm64/v8', true],
    ['linux/arm64', 'linux/arm64/v9', true],
    ['linux/arm64/v8', 'linux/arm64/v9', false],
    // A request without a variant matches any variant.
    ['linux/arm', 'linux/arm/v6', true],
    ['linux/arm', 'linux/arm/v5', true],
    ['linux/arm', 'linux/arm', true],
    // An index entry "linux/arm" means arm/v7.
    ['linux/arm/v7', 'linux/arm', true],
    ['linux/arm/v6', 'linux/arm', false],
    ['linux/arm/v7', 'linux/arm/v6', false],
    // armhf/armel name their variant.
    ['linux/armhf', 'linux/arm/v7', true],
    ['linux/armhf', 'linux/arm/v6', false],
    ['linux/armel', 'linux/arm/v6', true],
    ['linux/arm/v7', 'linux/armhf', true],
    ['linux/arm64', 'linux/arm/v7', false],
  ])('%s matches %s: %s', (requested, actual, expected) => {
    expect(platformMatches(p(requested), p(actual))).toBe(expected);
  });
});
