import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { computeDigest, createDigester, isDigest, parseDigest, verifyDigest } from './index.ts';
import type { DigestAlgorithm } from './index.ts';
import { codeOf } from './error-code.fixture.ts';

const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const EMPTY_SHA512 =
  'sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';

describe('parseDigest', () => {
  test('splits algorithm and hex', () => {
    expect(parseDigest(EMPTY_SHA256)).toEqual({
      algorithm: 'sha256',
      hex: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    expect(parseDigest(EMPTY_SHA512).algorithm).toBe('sha512');
    expect(Object.isFrozen(parseDigest(EMPTY_SHA256))).toBe(true);
  });

  test.each([
    ['', 'invalid_digest'],
    ['sha256', 'invalid_digest'],
    ['sha256:', 'invalid_digest'],
    [':abc', 'invalid_digest'],
    [`sha256:${'a'.repeat(63)}`, 'invalid_digest'],
    [`sha256:${'a'.repeat(65)}`, 'invalid_digest'],
    [`sha256:${'A'.repeat(64)}`, 'invalid_digest'],
    [`sha256:${'g'.repeat(64)}`, 'invalid_digest'],
    [`sha512:${'a'.repeat(64)}`, 'invalid_digest'],
    [`-sha:${'a'.repeat(64)}`, 'invalid_digest'],
    [`sha384:${'a'.repeat(96)}`, 'unsupported_algorithm'],
    [`md5:${'a'.repeat(32)}`, 'unsupported_algorithm'],
    [`SHA256:${'a'.repeat(64)}`, 'unsupported_algorithm'],
    [`sha256+b64:${'a'.repeat(64)}`, 'unsupported_algorithm'],
  ])('%j → %s', (input, code) => {
    expect(codeOf(() => parseDigest(input))).toBe(code);
    expect(isDigest(input)).toBe(false);
  });

  test('errors quote the input', () => {
    expect(() => parseDigest('sha256:abc')).toThrow('"sha256:abc"');
  });

  test('isDigest accepts only valid digest strings', () => {
    expect(isDigest(EMPTY_SHA256)).toBe(true);
    expect(isDigest(EMPTY_SHA512)).toBe(true);
    expect(isDigest(42)).toBe(false);
  });
});

describe('computeDigest', () => {
  test('known values', () => {
    expect(computeDigest(new Uint8Array())).toBe(EMPTY_SHA256);
    expect(computeDigest('')).toBe(EMPTY_SHA256);
    expect(computeDigest('', 'sha512')).toBe(EMPTY_SHA512);
    expect(computeDigest('{}')).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  test('rejects other algorithms', () => {
    expect(codeOf(() => computeDigest('', 'md5' as DigestAlgorithm))).toBe('unsupported_algorithm');
    expect(codeOf(() => createDigester('sha1' as DigestAlgorithm))).toBe('unsupported_algorithm');
  });

  test('property: results are valid digests and verify', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom<DigestAlgorithm>('sha256', 'sha512'), (bytes, alg) => {
        const digest = computeDigest(bytes, alg);
        expect(isDigest(digest)).toBe(true);
        expect(verifyDigest(bytes, digest)).toBe(true);
      }),
    );
  });
});

describe('createDigester (streaming verification)', () => {
  test('property: any chunking gives the one-shot digest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }),
        fc.constantFrom<DigestAlgorithm>('sha256', 'sha512'),
        (chunks, alg) => {
          const digester = createDigester(alg);
          for (const chunk of chunks) digester.update(chunk);
          const all = Buffer.concat(chunks);
          expect(digester.size).toBe(all.byteLength);
          expect(digester.digest()).toBe(computeDigest(all, alg));
        },
      ),
    );
  });

  test('verifies, detects tampering and is idempotent after digest()', () => {
    const blob = 'layer contents';
    const expected = computeDigest(blob);
    const ok = createDigester().update('layer ').update(new TextEncoder().encode('contents'));
    expect(ok.algorithm).toBe('sha256');
    expect(ok.verify(expected)).toBe(true);
    expect(ok.digest()).toBe(expected);
    expect(ok.digest()).toBe(expected);
    expect(createDigester().update('layer contentz').verify(expected)).toBe(false);
  });

  test('update after digest() throws digester_finalized', () => {
    const digester = createDigester();
    digester.digest();
    expect(codeOf(() => digester.update('x'))).toBe('digester_finalized');
  });

  test('verify rejects a malformed expected digest or one of another algorithm', () => {
    expect(codeOf(() => createDigester().verify('sha256:nope'))).toBe('invalid_digest');
    expect(codeOf(() => createDigester('sha256').verify(EMPTY_SHA512))).toBe('invalid_digest');
    expect(createDigester('sha512').verify(EMPTY_SHA512)).toBe(true);
  });

  test('verifyDigest uses the expected algorithm', () => {
    expect(verifyDigest('', EMPTY_SHA512)).toBe(true);
    expect(verifyDigest('x', EMPTY_SHA256)).toBe(false);
    expect(codeOf(() => verifyDigest('', 'md5:00'))).toBe('unsupported_algorithm');
  });
});
