import { computeDigest } from '@scanner/image';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { digestAlgorithm, isDigestReference, isRepositoryName, isTag } from './grammar.ts';

// These adapters reach @scanner/image's grammar through a placeholder reference, so the tables check that
// nothing of the placeholder (registry normalisation, `library/`, tag or digest separators) leaks through.
describe('repository names', () => {
  test.each(['nginx', 'library/nginx', 'a/b/c', 'my-app', 'my--app', 'my_app', 'my__app', 'my.app', 'a0/b1.c2', 'a'.repeat(255)])('accepts %s', (name) => {
    expect(isRepositoryName(name)).toBe(true);
  });

  test.each([
    '', 'Nginx', '/nginx', 'nginx/', 'a//b', 'my___app', 'my..app', '-app', 'app-', 'a/b:c', 'app:v1', 'app@sha256:abc',
    'localhost:5000/app', 'a'.repeat(256),
  ])('rejects "%s"', (name) => {
    expect(isRepositoryName(name)).toBe(false);
  });
});

describe('tags', () => {
  test('accepts the tag grammar and refuses what is outside it', () => {
    expect(isTag('latest')).toBe(true);
    expect(isTag('v1.2.3-rc.1_build')).toBe(true);
    expect(isTag('_x')).toBe(true);
    expect(isTag('a'.repeat(128))).toBe(true);
    expect(isTag('a'.repeat(129))).toBe(false);
    expect(isTag('')).toBe(false);
    expect(isTag('.hidden')).toBe(false);
    expect(isTag('-x')).toBe(false);
    expect(isTag('sha256:abc')).toBe(false);
    expect(isTag('v1@sha256:abc')).toBe(false);
  });
});

describe('digests', () => {
  test('the digest of any bytes is a verifiable digest reference', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.constantFrom('sha256' as const, 'sha512' as const), (bytes, algorithm) => {
        const digest = computeDigest(bytes, algorithm);
        expect(digestAlgorithm(digest)).toBe(algorithm);
        expect(isDigestReference(digest)).toBe(true);
      }),
    );
  });

  test('a well-formed digest of another algorithm is a digest reference the registry cannot verify', () => {
    expect(digestAlgorithm('md5:d41d8cd98f00b204e9800998ecf8427e')).toBeUndefined();
    expect(isDigestReference('md5:d41d8cd98f00b204e9800998ecf8427e')).toBe(true);
  });

  test('malformed encodings are neither verifiable nor digest references', () => {
    for (const value of [`sha256:${'A'.repeat(64)}`, 'sha256:abc', 'latest', '-bad', ':abc']) {
      expect(digestAlgorithm(value)).toBeUndefined();
      expect(isDigestReference(value)).toBe(false);
    }
  });
});
