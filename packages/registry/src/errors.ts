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
  | 'invalid_reference';

export interface RegistryErrorDetails {
  /** HTTP status, when the failure came with a response. */
  status?: number | undefined;
  /** Registry host, e.g. `ghcr.io`. */
  registry?: string | undefined;
  repository?: string | undefined;
  cause?: unknown;
}

/** The one error type of `@scanner/registry`. Messages never contain credentials or tokens. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  readonly status: number | undefined;
  readonly registry: string | undefined;
  readonly repository: string | undefined;

  constructor(code: RegistryErrorCode, message: string, details: RegistryErrorDetails = {}) {
    super(`@scanner/registry: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.registry = details.registry;
    this.repository = details.repository;
  }
}

/** True for any `RegistryError`, including one thrown by another installed copy of this package. */
export function isRegistryError(error: unknown): error is RegistryError {
  return error instanceof Error && error.name === 'RegistryError' && typeof (error as { code?: unknown }).code === 'string';
}
