import { ScannerError } from '@scanner/image';
import type { ScannerErrorOptions } from '@scanner/image';

/**
 * What went wrong in `@scanner/tag`:
 * - `invalid_matcher`: a matcher string (`regexp:…`, `glob:…`, a bare glob) is empty, does not compile, or can
 *   never match a valid tag (an unknown `word:` prefix, a glob with a character no tag holds);
 * - `invalid_template`: an extract template is empty or uses JavaScript's `$<name>`, which Go reads as text.
 */
export type TagErrorCode = 'invalid_matcher' | 'invalid_template';

/**
 * Options for {@link TagError}: the cause and the fields of a `ScannerError`. `input` is the matcher, pattern
 * or template as given; `reason` says what is wrong with it; `hints` say what to do (the same for every
 * audience here: the fix is in the input itself).
 */
export interface TagErrorOptions extends ScannerErrorOptions {
  /** The underlying error, e.g. the `SyntaxError` from the RegExp engine. */
  readonly cause?: unknown;
}

/**
 * The one error type of `@scanner/tag`, a `ScannerError` of `@scanner/image` (`code`, `package`, `detail`,
 * `fields`). Match on `code` (or use {@link isTagError}, or `isScannerError` for any package of this project)
 * rather than `instanceof`: two copies of the package can be installed side by side.
 */
export class TagError extends ScannerError<TagErrorCode> {
  override readonly name = 'TagError';

  /** @param message The detail, without the package prefix; it is added here. */
  constructor(code: TagErrorCode, message: string, options: TagErrorOptions = {}) {
    super('@scanner/tag', code, message, options);
  }
}

/**
 * A {@link TagError} whose message is `<reason>; <hint>` and whose fields keep both apart, so that an app can
 * put the place (a flag, a config key) before the reason in its own terms.
 */
export function tagError(code: TagErrorCode, reason: string, hint: string | undefined, options: { input: string; cause?: unknown }): TagError {
  return new TagError(code, hint === undefined ? reason : `${reason}; ${hint}`, {
    input: options.input,
    reason,
    ...(hint === undefined ? {} : { hints: { cli: hint, config: hint, library: hint } }),
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

const codes: ReadonlySet<string> = new Set<TagErrorCode>(['invalid_matcher', 'invalid_template']);

/** True for any `TagError`, including one thrown by another installed copy of this package. */
export function isTagError(error: unknown): error is TagError {
  if (!(error instanceof Error) || error.name !== 'TagError') return false;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && codes.has(code);
}
