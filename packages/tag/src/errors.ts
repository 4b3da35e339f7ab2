/**
 * What went wrong in `@scanner/tag`:
 * - `invalid_matcher`: a matcher string (`regexp:…`, `glob:…`, a bare glob) does not compile or is empty.
 * - `invalid_template`: an extract template is empty, malformed, or names a group its pattern does not have.
 */
export type TagErrorCode = 'invalid_matcher' | 'invalid_template';

/** Options for {@link TagError}. */
export interface TagErrorOptions {
  /** The underlying error, e.g. the `SyntaxError` from the RegExp engine. */
  cause?: unknown;
}

/**
 * The one error type of `@scanner/tag`. Match on `code` (or use {@link isTagError}) rather than
 * `instanceof`: two copies of the package can be installed side by side.
 */
export class TagError extends Error {
  override readonly name = 'TagError';
  readonly code: TagErrorCode;

  constructor(code: TagErrorCode, message: string, options: TagErrorOptions = {}) {
    super(`@scanner/tag: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

const codes: ReadonlySet<string> = new Set<TagErrorCode>(['invalid_matcher', 'invalid_template']);

/** True for any `TagError`, including one thrown by another installed copy of this package. */
export function isTagError(error: unknown): error is TagError {
  if (!(error instanceof Error) || error.name !== 'TagError') return false;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && codes.has(code);
}
