import { ScannerError } from './scanner-error.ts';
import type { ScannerErrorOptions } from './scanner-error.ts';

/**
 * Every failure `@scanner/image` reports. A closed union so callers can switch on it exhaustively.
 *
 * - `empty_name`: the reference string is empty.
 * - `invalid_format`: the reference does not follow the distribution/reference grammar.
 * - `uppercase`: the repository path contains upper-case letters (only the registry may).
 * - `name_too_long`: the repository path is longer than 255 characters.
 * - `invalid_tag`: the tag does not match `[\w][\w.-]{0,127}`.
 * - `invalid_registry`: a registry host given to `withRegistry`/`createImageReference` is malformed or
 *   would not be recognised as a registry when the reference is parsed back.
 * - `invalid_digest`: a digest is not `algorithm:hex` with the right length of lower-case hex.
 * - `unsupported_algorithm`: a well-formed digest uses an algorithm other than sha256 or sha512.
 * - `digester_finalized`: `update` was called on a digester after `digest()`.
 * - `invalid_platform`: a platform string is not `os/arch[/variant]`.
 * - `invalid_manifest`: manifest or index bytes are not valid JSON or do not match the schema.
 * - `invalid_config`: image config bytes are not valid JSON or do not match the schema.
 * - `unsupported_schema`: a Docker schema1 manifest, which this toolkit does not support.
 * - `unsupported_media_type`: a manifest media type that is neither an image manifest nor an index.
 */
export type ImageErrorCode =
  | 'empty_name'
  | 'invalid_format'
  | 'uppercase'
  | 'name_too_long'
  | 'invalid_tag'
  | 'invalid_registry'
  | 'invalid_digest'
  | 'unsupported_algorithm'
  | 'digester_finalized'
  | 'invalid_platform'
  | 'invalid_manifest'
  | 'invalid_config'
  | 'unsupported_schema'
  | 'unsupported_media_type';

const IMAGE_ERROR_CODES: ReadonlySet<string> = new Set<ImageErrorCode>([
  'empty_name',
  'invalid_format',
  'uppercase',
  'name_too_long',
  'invalid_tag',
  'invalid_registry',
  'invalid_digest',
  'unsupported_algorithm',
  'digester_finalized',
  'invalid_platform',
  'invalid_manifest',
  'invalid_config',
  'unsupported_schema',
  'unsupported_media_type',
]);

/** Options for {@link ImageError}: the cause and the structured fields of a {@link ScannerError}. */
export interface ImageErrorOptions extends ScannerErrorOptions {
  /** The underlying error (a `ZodError`, a `SyntaxError` from `JSON.parse`…). */
  readonly cause?: unknown;
}

/**
 * The one error class of `@scanner/image`, a {@link ScannerError}: `message` is `@scanner/image: <detail>`, and
 * `fields.input` holds the offending reference, digest or platform string when the caller gave one. Match on
 * {@link isImageError} (or `isScannerError` for any package) and `code` rather than `instanceof`: two
 * copies of the package may be installed side by side.
 */
export class ImageError extends ScannerError<ImageErrorCode> {
  override readonly name = 'ImageError';

  /** @param message Without the package prefix; it is added here. */
  constructor(code: ImageErrorCode, message: string, options: ImageErrorOptions = {}) {
    super('@scanner/image', code, message, options);
  }
}

/**
 * True when `value` is an {@link ImageError} from any copy of this package (matched on `name` and a known
 * `code`), optionally with the given code.
 */
export function isImageError(value: unknown, code?: ImageErrorCode): value is ImageError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown };
  if (candidate.name !== 'ImageError' || typeof candidate.code !== 'string') return false;
  if (!IMAGE_ERROR_CODES.has(candidate.code)) return false;
  return code === undefined || candidate.code === code;
}

/** Quotes untrusted input for an error message, shortened so a huge string cannot flood logs. */
export function quote(input: string, maxChars = 300): string {
  const shown = input.length > maxChars ? `${input.slice(0, maxChars)}…` : input;
  return JSON.stringify(shown);
}
