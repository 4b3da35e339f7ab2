import { ScannerError } from '@scanner/image/scanner-error';
import type { ErrorFields, HintAudience } from '@scanner/image';

/**
 * Every failure `@scanner/registry` reports. Match on `code` rather than `instanceof`: two copies of the
 * package can be installed side by side.
 *
 * Codes in upper case are the OCI distribution-spec error codes a registry returns in its JSON body;
 * the lower-case ones are ours (transport, validation, configuration).
 */
export type RegistryErrorCode =
  // OCI distribution-spec codes
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  // ours
  | 'not_found'
  /** A push was refused because the target repository (an ECR repository, a Harbor project) does not exist yet: create it. */
  | 'repository_not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'server_error'
  | 'unexpected_status'
  | 'network'
  | 'timeout'
  | 'aborted'
  | 'too_large'
  | 'digest_mismatch'
  | 'invalid_response'
  | 'unsupported_media_type'
  | 'pagination_loop'
  | 'cross_origin'
  | 'auth_failed'
  | 'credentials'
  | 'config'
  | 'invalid_reference'
  /** The tag or digest names an OCI artifact (a Helm chart, a signature, an attestation), not a container image. */
  | 'not_an_image';

export interface RegistryErrorDetails extends Omit<ErrorFields, 'registry' | 'repository'> {
  /** HTTP status, when the failure came with a response. */
  status?: number | undefined;
  /** Registry host, e.g. `ghcr.io`. */
  registry?: string | undefined;
  repository?: string | undefined;
  /**
   * For `rate_limited`: how long the registry asked to wait (`Retry-After`), in milliseconds, when it said so.
   */
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/**
 * The one error type of `@scanner/registry`, a `ScannerError` of `@scanner/image`: `code`, `package`
 * (`@scanner/registry`), `detail` (the message without the prefix) and `fields` (registry, repository, tag,
 * input, config path and `hints` per audience: `cli`, `config`, `library`). Messages never contain credentials
 * or tokens.
 */
export class RegistryError extends ScannerError<RegistryErrorCode> {
  override readonly name = 'RegistryError';
  readonly status: number | undefined;
  readonly registry: string | undefined;
  readonly repository: string | undefined;
  /** See {@link RegistryErrorDetails.retryAfterMs}. */
  readonly retryAfterMs: number | undefined;

  constructor(code: RegistryErrorCode, message: string, details: RegistryErrorDetails = {}) {
    const { status, retryAfterMs, ...fields } = details;
    super('@scanner/registry', code, message, fields);
    this.status = status;
    this.registry = details.registry;
    this.repository = details.repository;
    this.retryAfterMs = retryAfterMs;
  }

  /** The hint for one audience, if the error has one. */
  hint(audience: HintAudience): string | undefined {
    return this.fields.hints?.[audience];
  }
}

/** True for any `RegistryError`, including one thrown by another installed copy of this package. */
export function isRegistryError(error: unknown): error is RegistryError {
  return error instanceof Error && error.name === 'RegistryError' && typeof (error as { code?: unknown }).code === 'string';
}

// Errors about the content of one manifest or config (as opposed to the registry, the network or the
// credentials), so that a scan can drop that one tag. Kept beside the class, not on it: it is no public field.
const contentFailures = new WeakSet<Error>();

/** Marks an error as being about one manifest's or config's content; returns it. */
export function contentFailure<E extends Error>(error: E): E {
  contentFailures.add(error);
  return error;
}

/** Whether {@link contentFailure} marked the error. */
export function isContentFailure(error: unknown): boolean {
  return error instanceof Error && contentFailures.has(error);
}
