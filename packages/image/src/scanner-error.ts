/**
 * Who a hint speaks to. The same failure needs different advice depending on how the user reached it:
 * - `cli`: someone typing `scanner …` flags (`--timeout 30s`);
 * - `config`: someone editing a file (registries config, mirror config) by key path;
 * - `library`: a program calling the packages (option names such as `timeoutMs`).
 */
export type HintAudience = 'cli' | 'config' | 'library';

/**
 * The data an error carries beside its message, so that each app renders it for its audience instead of
 * rewriting message text. Every field is optional; none ever holds a credential.
 */
export interface ErrorFields {
  /** The offending input as the caller gave it (a reference, a pattern, a template), for quoting. */
  readonly input?: string | undefined;
  /**
   * What is wrong, without saying where: the detail without its leading `field: `, so that an app can name
   * the place in its own terms (`--allow-tags #2: …` instead of `policy.allowTags[1]: …`).
   */
  readonly reason?: string | undefined;
  /**
   * Where the input sits, as a key path in the caller's terms: `policy.allowTags[1]`,
   * `registries[2].timeout`, `images[0].tags[1].regexp`.
   */
  readonly field?: string | undefined;
  /** The file that held the input, and where in it (1-based), when it came from a file. */
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  /** The registry host, repository and tag the failure belongs to. */
  readonly registry?: string | undefined;
  readonly repository?: string | undefined;
  readonly tag?: string | undefined;
  /** What to do about it, per audience; an app shows its own audience's hint and falls back to none. */
  readonly hints?: Readonly<Partial<Record<HintAudience, string>>> | undefined;
}

/** Marks every error class of this project, across installed copies of the packages. */
const BRAND = Symbol.for('@scanner/error');

/** Options every package's error constructor takes. */
export interface ScannerErrorOptions extends ErrorFields {
  /** The underlying error. */
  readonly cause?: unknown;
}

/**
 * The base of every error this project throws (`ImageError`, `TagError`, `PolicyError`, `RegistryError`,
 * `SyncError`, …). Catch any of them with {@link isScannerError} and switch on `code`; read `fields` to
 * render the failure for your audience. `message` is `<package>: <detail>`, complete on its own.
 */
export class ScannerError<Code extends string = string> extends Error {
  /** A closed string-literal union per package. */
  readonly code: Code;
  /** The package that threw, e.g. `@scanner/registry`. */
  readonly package: string;
  /** The message without the package prefix. */
  readonly detail: string;
  /** Structured data about the failure. */
  readonly fields: ErrorFields;

  constructor(packageName: string, code: Code, detail: string, options: ScannerErrorOptions = {}) {
    super(`${packageName}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    const fields: ScannerErrorOptions = { ...options };
    delete (fields as { cause?: unknown }).cause;
    this.code = code;
    this.package = packageName;
    this.detail = detail;
    this.fields = fields;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * True for an error thrown by any package of this project, from any installed copy (matched on a
 * registered symbol, not `instanceof`).
 *
 * @example
 * try { await scanner.select(ref, policy) } catch (error) { if (isScannerError(error)) console.error(error.code, error.fields) }
 */
export function isScannerError(value: unknown): value is ScannerError {
  return value instanceof Error && (value as unknown as Record<symbol, unknown>)[BRAND] === true && typeof (value as { code?: unknown }).code === 'string';
}
