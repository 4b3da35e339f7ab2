import { ScannerError } from '@scanner/image';
import type { ScannerErrorOptions } from '@scanner/image';

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

/**
 * Options for {@link PolicyError}: the cause and the fields of a `ScannerError`. `field` is the key path of the
 * offending entry (`policy.allowTags[1]`, under the caller's `path`), `input` its value as given, `reason` what
 * is wrong with it without the path, and `hints` what to do per audience.
 */
export interface PolicyErrorOptions extends ScannerErrorOptions {
  /** The underlying error, e.g. a `TagError` or a `ZodError`. */
  readonly cause?: unknown;
}

/**
 * The one error type of `@scanner/version`, a `ScannerError` of `@scanner/image`. Messages name the offending
 * field as a path (`policy.constraint: invalid semver range "1.x.y"`), and `fields.field` holds that path, so
 * an app can name the place in its own terms (a CLI flag, a config key). Match on `code` (or use
 * {@link isPolicyError}, or `isScannerError` for any package of this project) rather than `instanceof`: two
 * copies of the package can be installed side by side.
 */
export class PolicyError extends ScannerError<PolicyErrorCode> {
  override readonly name = 'PolicyError';

  /** @param message The detail, without the package prefix; it is added here. */
  constructor(code: PolicyErrorCode, message: string, options: PolicyErrorOptions = {}) {
    super('@scanner/version', code, message, options);
  }
}

/** What {@link policyError} needs besides the code. */
export interface PolicyProblem {
  /** The key path, e.g. `policy.allowTags[1]`. */
  readonly field: string;
  /** What is wrong, without the path. */
  readonly reason: string;
  /** The value as given, when it is text. */
  readonly input?: string | undefined;
  /** What to do, per audience; the library's hint ends the message. */
  readonly hints?: ScannerErrorOptions['hints'];
  readonly cause?: unknown;
}

/** A {@link PolicyError} whose message is `<field>: <reason>[; <library hint>]` and whose fields keep the parts. */
export function policyError(code: PolicyErrorCode, problem: PolicyProblem): PolicyError {
  const hint = problem.hints?.library;
  return new PolicyError(code, `${problem.field}: ${problem.reason}${hint === undefined ? '' : `; ${hint}`}`, {
    field: problem.field,
    reason: problem.reason,
    ...(problem.input === undefined ? {} : { input: problem.input }),
    ...(problem.hints === undefined ? {} : { hints: problem.hints }),
    ...(problem.cause === undefined ? {} : { cause: problem.cause }),
  });
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
