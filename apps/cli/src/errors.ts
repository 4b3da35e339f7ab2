// Only the light `scanner-error` entry of @scanner/image: the error handler must not load the packages a
// command did not need (zod, undici) just to print a usage error.
import { ScannerError, isScannerError } from '@scanner/image/scanner-error';
import type { ErrorFields, ScannerErrorOptions } from '@scanner/image/scanner-error';

/**
 * What went wrong in the command line itself:
 * - `usage`: an unknown command or flag, a missing argument, a flag that does not fit the command;
 * - `invalid_argument`: a flag value or an argument that cannot be read (`--limit ten`, `--cache mongo://…`,
 *   an image reference that is not one).
 */
export type CliErrorCode = 'usage' | 'invalid_argument';

/**
 * The one error type of `@scanner/cli`, a `ScannerError` whose message is the CLI's own line (no package
 * prefix: it is what `scanner: ` precedes). `fields.field` is the flag or argument (`--limit`, `IMAGE`),
 * `fields.input` the value given. Always a usage error (exit code 2).
 */
export class CliError extends ScannerError<CliErrorCode> {
  override readonly name = 'CliError';

  constructor(code: CliErrorCode, message: string, options: ScannerErrorOptions = {}) {
    super('@scanner/cli', code, message, options);
    // The CLI's messages are written for its users: no package prefix.
    this.message = message;
  }
}

/** True for a {@link CliError}, matched on name and code. */
export function isCliError(error: unknown): error is CliError {
  if (!(error instanceof Error) || error.name !== 'CliError') return false;
  const { code } = error as { code?: unknown };
  return code === 'usage' || code === 'invalid_argument';
}

/** The process exit codes; see the README. */
export const EXIT = {
  /** A tag, digest or image was found. */
  ok: 0,
  /** The registry failed, its content is unusable, or something unexpected happened. */
  runtime: 1,
  /** The user's input is invalid: the command line, a reference, the policy, the registries config. */
  usage: 2,
  /** No tag passed the policy. */
  noMatch: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What the top-level handler prints and returns for an error. */
export interface ErrorReport {
  readonly exitCode: ExitCode;
  /** One line, without the `scanner: ` prefix. */
  readonly message: string;
}

/** What the command line said, so that a message can name the flag the user typed. */
export interface ReportContext {
  /** The `select` flags' policy as read (the lists tell whether a flag was repeated). */
  readonly policy?: Readonly<Record<string, unknown>> | undefined;
  /** `--timeout` (or `SCANNER_TIMEOUT`) as given. */
  readonly timeout?: string | undefined;
}

/**
 * The root the CLI passes to `parsePolicy`; a `PolicyError`'s `fields.field` starts with it.
 */
export const POLICY_ROOT = 'policy';

// Policy fields (`fields.field` of a PolicyError, below the root) as the flags that set them.
const FLAG_FOR_POLICY_FIELD: Readonly<Record<string, string>> = {
  strategy: '--strategy',
  constraint: '--constraint',
  strict: '--loose',
  prereleases: '--prereleases',
  order: '--order',
  allowTags: '--allow-tags',
  ignoreTags: '--ignore-tags',
  'extract.pattern': '--extract-pattern',
  'extract.template': '--extract-template',
  extract: '--extract-pattern/--extract-template',
  platforms: '--platform',
  limit: '--limit',
};

// Registry codes that come from what the user gave (the registries config, a reference), not from a registry.
const REGISTRY_INPUT_CODES: ReadonlySet<string> = new Set(['invalid_reference', 'config']);

/**
 * `policy.allowTags[1]` as the flag that set it: `--allow-tags #2` (the number only when the flag was given
 * more than once). `undefined` for a path that no flag sets.
 */
export function flagForPolicyField(field: string, policy: ReportContext['policy']): string | undefined {
  if (field !== POLICY_ROOT && !field.startsWith(`${POLICY_ROOT}.`)) return undefined;
  const path = /^\.([\w.]+?)(?:\[(\d+)\])?$/.exec(field.slice(POLICY_ROOT.length));
  if (path === null) return undefined;
  const key = path[1] ?? '';
  const flag = FLAG_FOR_POLICY_FIELD[key];
  if (flag === undefined) return undefined;
  const index = path[2];
  const list = policy?.[key];
  return index !== undefined && Array.isArray(list) && list.length > 1 ? `${flag} #${Number(index) + 1}` : flag;
}

/** The CLI's own advice for a registry failure, which knows this app's flags and files. */
function cliRegistryHint(error: ScannerError, context: ReportContext): string | undefined {
  const where = error.fields.registry ?? 'the registry';
  switch (error.code) {
    case 'timeout':
      return context.timeout === undefined
        ? `check that ${where} is up and reachable, or bound the wait with --timeout (e.g. --timeout 30s)`
        : `check that ${where} is up and reachable, or raise --timeout (now ${context.timeout})`;
    case 'network':
      return `check that ${where} is up and reachable`;
    case 'unauthorized':
    case 'UNAUTHORIZED':
    case 'auth_failed':
    case 'credentials':
      return 'scanner reads credentials from --registries-config (or $SCANNER_REGISTRIES_CONFIG), else from the Docker config';
    case 'NAME_UNKNOWN':
      return 'check the repository name';
    case 'MANIFEST_UNKNOWN':
      return 'check the tag or digest (scanner tags IMAGE lists the tags)';
    default:
      return undefined;
  }
}

/** `file:line:column: ` when the error came from a file, from its fields. */
function location(fields: ErrorFields): string {
  if (fields.file === undefined) return '';
  const line = fields.line === undefined ? '' : `:${fields.line}${fields.column === undefined ? '' : `:${fields.column}`}`;
  return `${fields.file}${line}: `;
}

/** `text; hint`, without repeating a hint the text already carries. */
function withHint(text: string, hint: string | undefined): string {
  return hint === undefined || hint === '' || text.includes(hint) ? text : `${text}; ${hint}`;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.trim();
}

/**
 * A `ScannerError` as this app says it: the place in the CLI's terms (the flag for a policy field, the file
 * and key path for a config entry), the reason, and the `cli` audience's hint (or the CLI's own for registry
 * failures). Built from the error's fields; the packages' message text is never rewritten.
 */
function renderScannerError(error: ScannerError, context: ReportContext): ErrorReport {
  const { fields } = error;
  const cliHint = fields.hints?.cli;
  switch (error.package) {
    case '@scanner/cli':
      return { exitCode: EXIT.usage, message: firstLine(error.message) };
    case '@scanner/version': {
      const flag = fields.field === undefined ? undefined : flagForPolicyField(fields.field, context.policy);
      const text = flag === undefined || fields.reason === undefined ? error.detail : `${flag}: ${fields.reason}`;
      return { exitCode: EXIT.usage, message: `invalid policy: ${firstLine(withHint(text, cliHint))}` };
    }
    case '@scanner/tag':
      // Matchers, patterns and templates only ever come from the user.
      return { exitCode: EXIT.usage, message: firstLine(withHint(fields.reason ?? error.detail, cliHint)) };
    case '@scanner/registry': {
      const input = REGISTRY_INPUT_CODES.has(error.code);
      const place = `${location(fields)}${input && fields.field !== undefined && fields.reason !== undefined ? `${fields.field}: ` : ''}`;
      const text = `${place}${fields.reason ?? error.detail}`;
      // The CLI's own advice where it knows better (the --timeout in force), else the package's for this audience.
      const own = cliRegistryHint(error, context);
      // A time-out set in the registries config (`fields.field` names its key) is the package's hint to give.
      const fromConfig = error.code === 'timeout' && fields.field !== undefined && cliHint !== undefined;
      const hint = error.code === 'timeout' && context.timeout !== undefined && !fromConfig ? own : (cliHint ?? own);
      return { exitCode: input ? EXIT.usage : EXIT.runtime, message: firstLine(withHint(text, hint)) };
    }
    default:
      // `@scanner/image` and the others: what the user typed is checked by the CLI before any package sees it
      // (a bad reference is a CliError), so what remains came from a registry's content: not the user's input.
      return { exitCode: EXIT.runtime, message: firstLine(withHint(`${location(fields)}${fields.reason ?? error.detail}`, cliHint)) };
  }
}

/**
 * A cache failure as the warning's text: the cache package's reason and its `cli` hint, from the error's
 * fields (no package prefix, method or option names); the message of anything else.
 */
export function cacheFailureText(error: unknown): string {
  if (isScannerError(error)) return firstLine(withHint(error.fields.reason ?? error.detail, error.fields.hints?.cli));
  return error instanceof Error ? firstLine(error.message) : describeValue(error);
}

/**
 * Maps any thrown value to one actionable line and an exit code: 2 only for the user's input (flags,
 * references, policy, registries config), 1 for registries and their content. Known errors are matched
 * with `isScannerError` and `code` (two copies of a package may be installed); messages of the packages
 * never carry credentials.
 */
export function reportError(error: unknown, context: ReportContext = {}): ErrorReport {
  if (isScannerError(error)) return renderScannerError(error, context);
  if (error instanceof Error && (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR')) {
    return { exitCode: EXIT.runtime, message: 'interrupted' };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const suffix = typeof code === 'string' ? ` (${code})` : '';
    return { exitCode: EXIT.runtime, message: `unexpected error: ${firstLine(error.message)}${suffix}; rerun with --debug for the stack` };
  }
  return { exitCode: EXIT.runtime, message: `unexpected error: ${describeValue(error)}; rerun with --debug for details` };
}

/** A thrown non-Error, as text. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    // JSON.stringify returns undefined for functions and symbols, whatever its type says.
    const text = JSON.stringify(value) as string | undefined;
    return text ?? typeof value;
  } catch {
    return typeof value;
  }
}

/** The stack of an error and of its causes, for `--debug`. */
export function debugStack(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (current instanceof Error) {
      parts.push(`${depth === 0 ? '' : 'caused by: '}${current.stack ?? `${current.name}: ${current.message}`}`);
      current = current.cause;
    } else {
      parts.push(`${depth === 0 ? '' : 'caused by: '}${describeValue(current)}`);
      current = undefined;
    }
  }
  return parts.join('\n');
}
