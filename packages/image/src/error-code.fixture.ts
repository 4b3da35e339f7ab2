import { isImageError } from './errors.ts';
import type { ImageErrorCode } from './errors.ts';

/** The `code` of the ImageError `fn` throws, or 'no error'; any other error is rethrown. */
export function codeOf(fn: () => unknown): ImageErrorCode | 'no error' {
  try {
    fn();
  } catch (error) {
    if (isImageError(error)) return error.code;
    throw error;
  }
  return 'no error';
}
