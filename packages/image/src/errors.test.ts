import { describe, expect, test } from 'vitest';
import { ImageError, isImageError } from './index.ts';

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
