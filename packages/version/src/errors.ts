/**
 * What went wrong in `@scanner/version`:
 * - `invalid_policy`: the policy object has the wrong shape, an unknown field, or fields that do not go
 *   together (e.g. `order` with strategy `semver`);
 * - `invalid_constraint`: the `constraint` is not a semver range (semver) or not a tag name (digest);
 * - `invalid_matcher`: an `allowTags`/`ignoreTags` entry does not compile;
 * - `invalid_extract`: the `extract` pattern or template does not compile;
 * - `invalid_platform`: a `platforms` entry is not `os/arch[/variant]`;
 * - `needs_metadata`: a function that ranks by name was asked to rank a policy that needs creation times.
 */
export type PolicyErrorCode =
  | 'invalid_policy'
  | 'invalid_constraint'
  | 'invalid_matcher'
  | 'invalid_extract'
  | 'invalid_platform'
  | 'needs_metadata';

/** Options for {@link PolicyError}. */
export interface PolicyErrorOptions {
  /** The underlying error, e.g. a `TagError` or a `ZodError`. */
  cause?: unknown;
}

/**
 * The one error type of `@scanner/version`. Messages name the offending field as a path
 * (`policy.constraint: invalid semver range "1.x.y"`). Match on `code` (or use {@link isPolicyError}) rather
 * than `instanceof`: two copies of the package can be installed side by side.
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly code: PolicyErrorCode;

  constructor(code: PolicyErrorCode, message: string, options: PolicyErrorOptions = {}) {
    super(`@scanner/version: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

const codes: ReadonlySet<string> = new Set<PolicyErrorCode>([
  'invalid_policy',
  'invalid_constraint',
  'invalid_matcher',
  'invalid_extract',
  'invalid_platform',
  'needs_metadata',
]);

/** True for any `PolicyError`, including one thrown by another installed copy of this package. */
export function isPolicyError(error: unknown): error is PolicyError {
  if (!(error instanceof Error) || error.name !== 'PolicyError') return false;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && codes.has(code);
}
