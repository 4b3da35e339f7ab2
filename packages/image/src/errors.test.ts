import { describe, expect, test } from 'vitest';
import { ImageError, isImageError, isScannerError, parseDigest, parseImageReference, parsePlatform } from './index.ts';

describe('ImageError', () => {
  test('has name, code, prefixed message and cause', () => {
    const cause = new Error('inner');
    const error = new ImageError('invalid_manifest', 'bad', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ImageError');
    expect(error.code).toBe('invalid_manifest');
    expect(error.message).toBe('@scanner/image: bad');
    expect(error.cause).toBe(cause);
    expect(new ImageError('invalid_tag', 'x')).not.toHaveProperty('cause');
  });

  test('isImageError matches on name and code, so another copy of the package is recognised', () => {
    class ImageErrorFromAnotherCopy extends Error {
      override name = 'ImageError';
      code = 'invalid_tag';
    }
    expect(isImageError(new ImageErrorFromAnotherCopy('x'))).toBe(true);
    expect(isImageError(new ImageErrorFromAnotherCopy('x'), 'invalid_tag')).toBe(true);
    expect(isImageError(new ImageErrorFromAnotherCopy('x'), 'invalid_digest')).toBe(false);
    expect(isImageError({ name: 'ImageError', code: 'not_a_code' })).toBe(false);
    expect(isImageError({ name: 'OtherError', code: 'invalid_tag' })).toBe(false);
    expect(isImageError(new Error('x'))).toBe(false);
    expect(isImageError(null)).toBe(false);
    expect(isImageError('ImageError')).toBe(false);
  });
});

describe('ImageError is a ScannerError', () => {
  test.each<[string, () => unknown, string]>([
    ['a reference', () => parseImageReference('Org/App'), 'Org/App'],
    ['a reference with a bad tag', () => parseImageReference('org/app:-x'), 'org/app:-x'],
    ['a reference with a bad digest', () => parseImageReference('org/app@sha256:12'), 'org/app@sha256:12'],
    ['a platform', () => parsePlatform('linux'), 'linux'],
    ['a digest', () => parseDigest('sha256:XYZ'), 'sha256:XYZ'],
  ])('%s: isScannerError, package, detail and the input as a field', (_, fn, input) => {
    let error: unknown;
    try {
      fn();
    } catch (caught) {
      error = caught;
    }
    expect(isScannerError(error)).toBe(true);
    expect(isImageError(error)).toBe(true);
    expect(error).toMatchObject({ package: '@scanner/image', fields: { input } });
    const { message, detail } = error as ImageError;
    expect(message).toBe(`@scanner/image: ${detail}`);
  });

  test('an ImageError without input has empty fields', () => {
    expect(new ImageError('invalid_manifest', 'bad').fields).toEqual({});
  });
});
