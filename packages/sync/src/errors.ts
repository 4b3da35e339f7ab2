import { ScannerError } from '@scanner/image';
import type { ScannerErrorOptions } from '@scanner/image';
import type { ConfigIssue } from './types.ts';

/**
 * What went wrong in `@scanner/sync`:
 * - `invalid_config`: one or more mirror config files are invalid; `issues` lists every problem of every file;
 * - `invalid_convert_input`: a file given to `convert` is not of the format, or holds an entry our format cannot express;
 * - `repository_missing`: a target registry refused a push because the repository does not exist (Harbor, ECR);
 * - `digest_mismatch`: content read from a source mirror, or written to a target, has another digest than expected;
 * - `copy_failed`: a copy failed for another reason (see `cause`).
 */
export type SyncErrorCode = 'invalid_config' | 'invalid_convert_input' | 'repository_missing' | 'digest_mismatch' | 'copy_failed';

/** Options of {@link SyncError}. */
export interface SyncErrorOptions extends ScannerErrorOptions {
  /** With `invalid_config`: every problem found, in file order. */
  readonly issues?: readonly ConfigIssue[];
}

/** The one error class of `@scanner/sync`. Match on `code` (see {@link isSyncError}), not `instanceof`. */
export class SyncError extends ScannerError<SyncErrorCode> {
  override readonly name = 'SyncError';
  /** With `invalid_config`: every problem found; empty otherwise. */
  readonly issues: readonly ConfigIssue[];

  constructor(code: SyncErrorCode, detail: string, options: SyncErrorOptions = {}) {
    const { issues = [], ...rest } = options;
    super('@scanner/sync', code, detail, rest);
    this.issues = issues;
  }
}

const codes: ReadonlySet<string> = new Set<SyncErrorCode>(['invalid_config', 'invalid_convert_input', 'repository_missing', 'digest_mismatch', 'copy_failed']);

/** True for any `SyncError`, including one thrown by another installed copy of this package. */
export function isSyncError(error: unknown): error is SyncError {
  if (!(error instanceof Error) || error.name !== 'SyncError') return false;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && codes.has(code);
}
