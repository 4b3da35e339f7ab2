/**
 * The error codes of the OCI distribution-spec (plus the few CNCF distribution adds) that this registry answers
 * with, each with the HTTP status it is sent under.
 */
export const OCI_ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  PAGINATION_NUMBER_INVALID: 400,
  RANGE_INVALID: 416,
  UNKNOWN: 500,
} as const;

/** An error code the registry can put in an `{ errors: [{ code }] }` body. */
export type OciErrorCode = keyof typeof OCI_ERROR_STATUS;

/** One entry of the `errors` array of an error response body. */
export interface OciErrorBody {
  code: OciErrorCode;
  message: string;
  detail?: unknown;
}

/**
 * Thrown inside request handlers to end the request with an OCI error body. Internal: clients see it only as
 * an HTTP response.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly errors: readonly OciErrorBody[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, errors: readonly OciErrorBody[], headers: Record<string, string> = {}) {
    super(errors.map((error) => `${error.code}: ${error.message}`).join('; '));
    this.name = 'HttpError';
    this.status = status;
    this.errors = errors;
    this.headers = headers;
  }
}

/** An `HttpError` with one error, sent under the status that belongs to its code unless `status` is given. */
export function httpError(
  code: OciErrorCode,
  message: string,
  options: { detail?: unknown; status?: number; headers?: Record<string, string> } = {},
): HttpError {
  const body: OciErrorBody = options.detail === undefined ? { code, message } : { code, message, detail: options.detail };
  return new HttpError(options.status ?? OCI_ERROR_STATUS[code], [body], options.headers);
}

/** What went wrong in a call to the seeding API. */
export type MemoryRegistryErrorCode =
  | 'NAME_INVALID'
  | 'REFERENCE_INVALID'
  | 'DIGEST_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'OPTION_INVALID'
  | 'ALREADY_LISTENING';

/**
 * Thrown by the seeding API and by `listen()` when called with bad input. Match on `code` rather than
 * `instanceof`: two copies of this package may be loaded.
 */
export class MemoryRegistryError extends Error {
  readonly code: MemoryRegistryErrorCode;

  constructor(code: MemoryRegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(`memory-registry: ${message}`, options);
    this.name = 'MemoryRegistryError';
    this.code = code;
  }
}
