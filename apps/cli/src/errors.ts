import { isImageError } from '@scanner/image';
import type { ImageErrorCode } from '@scanner/image';
import { isRegistryError } from '@scanner/registry';
import { isPolicyError } from '@scanner/version';

/**
 * What went wrong in the command line itself:
 * - `usage`: an unknown command or flag, a missing argument, a flag that does not fit the command;
 * - `invalid_argument`: a flag value that cannot be read (`--limit ten`, `--cache mongo://…`).
 */
export type CliErrorCode = 'usage' | 'invalid_argument';

/** The one error type of `@scanner/cli`; always a usage error (exit code 2). */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
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
  /** The registry failed or something unexpected happened. */
  runtime: 1,
  /** The command line, a reference, the registries config or the policy is invalid. */
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

// Image codes about input the user typed; the others come from registry content (a runtime failure).
const IMAGE_INPUT_CODES: ReadonlySet<string> = new Set<ImageErrorCode>([
  'empty_name',
  'invalid_format',
  'uppercase',
  'name_too_long',
  'invalid_tag',
  'invalid_registry',
  'invalid_digest',
  'unsupported_algorithm',
  'invalid_platform',
]);

// Registry codes caused by the command line or the registries config rather than by the registry.
const REGISTRY_INPUT_CODES: ReadonlySet<string> = new Set(['invalid_reference', 'config']);

// Policy fields as the flags that set them, so a policy error points at what the user typed.
const FLAG_FOR_FIELD: Readonly<Record<string, string>> = {
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

const AUTH_CODES: ReadonlySet<string> = new Set(['unauthorized', 'UNAUTHORIZED', 'auth_failed']);

const PACKAGE_PREFIX = /^@scanner\/[\w-]+: /;

/** Rewrites `policy.allowTags[1]: …` as `--allow-tags (2nd): …`. */
function policyMessage(message: string): string {
  return message
    .replace(PACKAGE_PREFIX, '')
    .replace(/\bpolicy\.(extract\.(?:pattern|template)|\w+)(?:\[(\d+)\])?/g, (whole, field: string, index: string | undefined) => {
      const flag = FLAG_FOR_FIELD[field];
      if (flag === undefined) return whole;
      return index === undefined ? flag : `${flag} #${Number(index) + 1}`;
    });
}

function hintFor(code: string, registry: string | undefined): string {
  const where = registry === undefined ? 'the registry' : registry;
  switch (code) {
    case 'network':
    case 'timeout':
      return `; check that ${where} is up and reachable`;
    case 'unauthorized':
    case 'UNAUTHORIZED':
    case 'auth_failed':
      return `; check the credentials for ${where} in --registries-config or your Docker config`;
    case 'forbidden':
    case 'DENIED':
      return `; the credentials for ${where} lack access to this repository`;
    case 'NAME_UNKNOWN':
      return '; check the repository name';
    case 'MANIFEST_UNKNOWN':
      return '; check the tag or digest (scanner tags IMAGE lists the tags)';
    default:
      return '';
  }
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.trim();
}

/**
 * Maps any thrown value to one actionable line and an exit code. Known errors are matched by `code` (two
 * copies of a package may be installed); messages of the packages never carry credentials.
 */
export function reportError(error: unknown): ErrorReport {
  if (isCliError(error)) return { exitCode: EXIT.usage, message: firstLine(error.message) };
  if (isPolicyError(error)) return { exitCode: EXIT.usage, message: `invalid policy: ${firstLine(policyMessage(error.message))}` };
  if (isImageError(error)) {
    const input = IMAGE_INPUT_CODES.has(error.code);
    return { exitCode: input ? EXIT.usage : EXIT.runtime, message: firstLine(error.message.replace(PACKAGE_PREFIX, '')) };
  }
  if (isRegistryError(error)) {
    const input = REGISTRY_INPUT_CODES.has(error.code);
    const text = firstLine(error.message.replace(PACKAGE_PREFIX, ''));
    // Most registry messages already end with what to do; add ours only to those that do not.
    const advised = /; (?:check|configure|run|fix|use|set|give|put|retry|raise|pass|make|install|write|remove)\b/.test(text);
    if (!advised) return { exitCode: input ? EXIT.usage : EXIT.runtime, message: `${text}${hintFor(error.code, error.registry)}` };
    // The package cannot know where this app reads credentials from; say it.
    const where = AUTH_CODES.has(error.code) ? ' (scanner reads credentials from --registries-config, else from the Docker config)' : '';
    return { exitCode: input ? EXIT.usage : EXIT.runtime, message: `${text}${where}` };
  }
  if (error instanceof Error && (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR')) {
    return { exitCode: EXIT.runtime, message: 'interrupted' };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const suffix = typeof code === 'string' ? ` (${code})` : '';
    return { exitCode: EXIT.runtime, message: `unexpected error: ${firstLine(error.message.replace(PACKAGE_PREFIX, ''))}${suffix}; rerun with --debug for the stack` };
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
