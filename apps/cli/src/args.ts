import { parseArgs } from 'node:util';
import type { PolicyInput } from '@scanner/version';
import { CliError } from './errors.ts';

/** The subcommands. */
export type Command = 'tags' | 'select' | 'digest' | 'inspect';

export const COMMANDS: readonly Command[] = ['tags', 'select', 'digest', 'inspect'];

// Every command the binary takes, for messages: the mirror commands have their own parser (mirror-args.ts).
const ALL_COMMANDS: readonly string[] = [...COMMANDS, 'plan', 'sync', 'convert'];

/** The command a typo most likely meant (at most two edits away), for a "did you mean" hint. */
function closestCommand(word: string): string | undefined {
  const distance = (a: string, b: string): number => {
    let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
    for (let i = 1; i <= a.length; i++) {
      const current = [i];
      for (let j = 1; j <= b.length; j++) {
        current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      previous = current;
    }
    return previous[b.length] ?? Infinity;
  };
  const ranked = ALL_COMMANDS.map((command) => ({ command, edits: distance(word, command) })).sort((x, y) => x.edits - y.edits);
  return ranked[0] !== undefined && ranked[0].edits <= 2 ? ranked[0].command : undefined;
}

function unknownCommand(word: string): CliError {
  const guess = closestCommand(word);
  const hint = guess === undefined ? '' : `; did you mean ${guess}?`;
  return new CliError('usage', `unknown command ${JSON.stringify(word)}${hint} (commands: ${ALL_COMMANDS.join(', ')})`);
}

/** `-o/--output`. */
export type OutputFormat = 'table' | 'json';

/** `--cache`: none, this process's memory, or a Redis URL (which may carry a password: never print it). */
export type CacheSpec = { readonly kind: 'memory' } | { readonly kind: 'redis'; readonly url: string };

/** Flags every command that talks to a registry shares. */
export interface RegistryArgs {
  readonly registriesConfig: string | undefined;
  /** `--timeout` (else `$SCANNER_TIMEOUT`, read by `main`) as typed, e.g. `30s`; see {@link parseTimeoutMs}. */
  readonly timeout: string | undefined;
  readonly insecure: boolean;
  readonly cache: CacheSpec | undefined;
  readonly cacheStrategy: 'tag' | 'digest' | undefined;
}

/** A command to run, with its flags read but not yet validated against the packages (policy, reference). */
export interface RunArgs {
  readonly kind: 'run';
  readonly command: Command;
  /** The first IMAGE argument. */
  readonly image: string;
  /** Every IMAGE argument: one, except for `digest`, which takes several (resolved in one process). */
  readonly images: readonly string[];
  readonly output: OutputFormat;
  readonly debug: boolean;
  readonly registry: RegistryArgs;
  /** `select` only: the policy as the flags spell it, for `parsePolicy`. */
  readonly policy: PolicyInput | undefined;
  /** `--platform` values (`select` puts them in the policy too; `inspect` filters an index with them). */
  readonly platforms: readonly string[];
}

export type ParsedArgs =
  | { readonly kind: 'help'; readonly command: Command | undefined }
  | { readonly kind: 'version' }
  | RunArgs;

const OPTIONS = {
  strategy: { type: 'string' },
  constraint: { type: 'string' },
  'allow-tags': { type: 'string', multiple: true },
  'ignore-tags': { type: 'string', multiple: true },
  platform: { type: 'string', multiple: true },
  order: { type: 'string' },
  'extract-pattern': { type: 'string' },
  'extract-template': { type: 'string' },
  loose: { type: 'boolean' },
  prereleases: { type: 'boolean' },
  limit: { type: 'string' },
  'registries-config': { type: 'string' },
  timeout: { type: 'string' },
  insecure: { type: 'boolean' },
  cache: { type: 'string' },
  'cache-strategy': { type: 'string' },
  output: { type: 'string', short: 'o' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** Adds a command's own flags (e.g. a `sync` command's) to the table every command line is read with. */
type OptionTable = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string; readonly multiple?: boolean }>>;

const POLICY_FLAGS: readonly OptionName[] = [
  'strategy',
  'constraint',
  'allow-tags',
  'ignore-tags',
  'order',
  'extract-pattern',
  'extract-template',
  'loose',
  'prereleases',
  'limit',
];

// Which commands take which of the flags that do not apply everywhere.
const FLAG_COMMANDS: Partial<Record<OptionName, readonly Command[]>> = {
  ...Object.fromEntries(POLICY_FLAGS.map((flag) => [flag, ['select']])),
  platform: ['select', 'inspect'],
  cache: ['select', 'tags'],
  'cache-strategy': ['select', 'tags'],
};

/** True when the flag was given on the command line (used to reject flags a command does not take). */
function given(values: Record<string, unknown>, flag: OptionName): boolean {
  return values[flag] !== undefined;
}

function isCommand(value: string): value is Command {
  return (COMMANDS as readonly string[]).includes(value);
}

/** The option an argument names (`--limit`, `--limit=3`, `-o`), if it is one of ours. */
function optionNamed(arg: string, options: OptionTable): string | undefined {
  if (arg.startsWith('--')) {
    const name = arg.slice(2).split('=', 1)[0] ?? '';
    return name in options ? name : undefined;
  }
  if (/^-[A-Za-z]/.test(arg)) return Object.keys(options).find((name) => options[name]?.short === arg.charAt(1));
  return undefined;
}

/**
 * Gives a value-taking flag the next argument even when it begins with `-` (`--extract-pattern -(\w+)$`,
 * `--limit -3`), as `--flag=value`, unless that argument is itself one of our flags: then the flag has no
 * value, which is reported. `--` ends the flags.
 */
function attachDashValues(argv: readonly string[], options: OptionTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = optionNamed(arg, options);
    const next = argv[i + 1];
    const takesValue = name !== undefined && options[name]?.type === 'string' && !arg.includes('=');
    if (takesValue && next !== undefined && next.startsWith('-') && next !== '--') {
      if (optionNamed(next, options) !== undefined) throw missingValue(`--${name}`);
      out.push(`--${name}=${next}`);
      i += 1;
    } else {
      out.push(arg);
    }
  }
  return out;
}

type Values = Record<string, string | boolean | string[] | undefined>;

function missingValue(flag: string): CliError {
  return new CliError('usage', `${flag} needs a value, e.g. ${flag} VALUE (a value that begins with "-" may also be written ${flag}=-VALUE)`, { field: flag });
}

/**
 * Reads flags and positionals with `node:util`'s tokens and checks them here, so that every usage error is
 * ours to word: an unknown flag, a flag without its value, a value given to a switch.
 */
function readArgs(argv: readonly string[], options: OptionTable): { values: Values; positionals: string[] } {
  const { tokens } = parseArgs({ args: attachDashValues(argv, options), options, allowPositionals: true, strict: false, tokens: true });
  const values: Values = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const option = options[token.name];
    if (option === undefined) {
      throw new CliError('usage', `unknown flag ${JSON.stringify(token.rawName)}; run scanner --help for the flags`, { field: token.rawName });
    }
    const flag = `--${token.name}`;
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw new CliError('usage', `${flag} does not take a value, got ${JSON.stringify(token.value)}`, { field: flag, input: token.value });
      values[token.name] = true;
      continue;
    }
    if (token.value === undefined) throw missingValue(flag);
    if (option.multiple === true) values[token.name] = [...((values[token.name] as string[] | undefined) ?? []), token.value];
    else values[token.name] = token.value;
  }
  return { values, positionals };
}

function parseLimit(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0) {
    throw new CliError('invalid_argument', `--limit must be a positive integer, got ${JSON.stringify(text)}`, { field: '--limit', input: text });
  }
  return Number(text);
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A `--timeout` value in milliseconds: a Go-style duration as the registries config writes them (`30s`, `2m`,
 * `1m30s`, `1.5s`, `500ms`), greater than zero.
 *
 * @param flag How the value was given, for the message: `--timeout` or `SCANNER_TIMEOUT`.
 * @throws {CliError} `invalid_argument` for anything else.
 */
export function parseTimeoutMs(text: string, flag = '--timeout'): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(text) ? [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)] : [];
  const ms = parts.reduce((total, [, amount, unit]) => total + Number(amount) * (DURATION_UNIT_MS[unit ?? ''] ?? Number.NaN), 0);
  if (!(ms >= 1) || !Number.isFinite(ms)) {
    throw new CliError('invalid_argument', `${flag} takes a duration such as 30s, 2m or 1m30s, got ${JSON.stringify(text)}`, { field: flag, input: text });
  }
  return Math.round(ms);
}

function parseCache(text: string): CacheSpec {
  if (text === 'memory') return { kind: 'memory' };
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '') {
    // The path is the database number (none is 0); Redis itself says whether it has that many databases.
    const database = url.pathname.replace(/^\//, '');
    if (!/^\d{0,9}$/.test(database)) {
      throw new CliError('invalid_argument', `--cache: the database ${JSON.stringify(database)} in the Redis URL's path is not a number; use e.g. redis://host:6379/0, or leave the path out`, {
        field: '--cache',
      });
    }
    return { kind: 'redis', url: text };
  }
  // The value may be a URL with a password in it: name its scheme only.
  const scheme = url === undefined ? '' : ` (scheme "${url.protocol}")`;
  throw new CliError('invalid_argument', `--cache takes "memory" or a Redis URL like redis://host:6379/0${scheme}`, { field: '--cache' });
}

function parseOutput(text: string | undefined): OutputFormat {
  if (text === undefined || text === 'table') return 'table';
  if (text === 'json') return 'json';
  throw new CliError('invalid_argument', `-o/--output ${JSON.stringify(text)} is not one of table, json`, { field: '--output', input: text });
}

function parseCacheStrategy(text: string | undefined): 'tag' | 'digest' | undefined {
  if (text === undefined || text === 'tag' || text === 'digest') return text;
  throw new CliError('invalid_argument', `--cache-strategy ${JSON.stringify(text)} is not one of tag, digest`, { field: '--cache-strategy', input: text });
}

/**
 * Reads the command line (without `node` and the script). Throws a {@link CliError} for anything that is not
 * a usage of `scanner`; values the packages validate (references, policies) are passed through as text.
 */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  // A mistyped command comes first: say so, rather than that its flags are unknown to the scan commands.
  const word = argv[0];
  if (word !== undefined && !word.startsWith('-') && word !== 'help' && !isCommand(word)) throw unknownCommand(word);
  const { values: read, positionals } = readArgs(argv, OPTIONS);
  // The table above fixes each flag's type; readArgs checked every value against it.
  const values = read as {
    [Name in OptionName]?: (typeof OPTIONS)[Name] extends { type: 'boolean' } ? true : (typeof OPTIONS)[Name] extends { multiple: true } ? string[] : string;
  };
  const [first, ...rest] = positionals;

  if (values.version === true) return { kind: 'version' };
  if (first === undefined) {
    if (values.help === true) return { kind: 'help', command: undefined };
    throw new CliError('usage', `missing command: one of ${ALL_COMMANDS.join(', ')}; run scanner --help`);
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic !== undefined && !isCommand(topic)) throw unknownCommand(topic);
    return { kind: 'help', command: topic };
  }
  if (!isCommand(first)) {
    throw unknownCommand(first);
  }
  const command = first;
  if (values.help === true) return { kind: 'help', command };

  const [image, ...extra] = rest;
  if (image === undefined) {
    throw new CliError('usage', `scanner ${command} needs an image, e.g. scanner ${command} ${command === 'select' || command === 'tags' ? 'ghcr.io/org/app' : 'ghcr.io/org/app:1.2.3'}`);
  }
  if (extra.length > 0 && command !== 'digest') {
    throw new CliError('usage', `scanner ${command} takes one image, got extra arguments ${extra.map((value) => JSON.stringify(value)).join(' ')}`);
  }

  for (const [flag, commands] of Object.entries(FLAG_COMMANDS) as [OptionName, readonly Command[]][]) {
    if (given(values, flag) && !commands.includes(command)) {
      throw new CliError('usage', `--${flag} does not apply to scanner ${command} (only to ${commands.map((name) => `scanner ${name}`).join(', ')})`);
    }
  }

  const platforms = values.platform ?? [];
  let policy: PolicyInput | undefined;
  if (command === 'select') {
    const pattern = values['extract-pattern'];
    const template = values['extract-template'];
    if ((pattern === undefined) !== (template === undefined)) {
      throw new CliError('usage', '--extract-pattern and --extract-template go together, e.g. --extract-pattern "^build-(\\d+)$" --extract-template "$1"');
    }
    const strategy = values.strategy ?? 'semver';
    policy = {
      // An unknown strategy is left for parsePolicy, which lists the valid ones.
      strategy: strategy as PolicyInput['strategy'],
      ...(values.constraint === undefined ? {} : { constraint: values.constraint }),
      ...(values.loose === true ? { strict: false } : {}),
      ...(values.prereleases === true ? { prereleases: true } : {}),
      ...(values.order === undefined ? {} : { order: values.order as 'asc' | 'desc' }),
      ...(values['allow-tags'] === undefined ? {} : { allowTags: values['allow-tags'] }),
      ...(values['ignore-tags'] === undefined ? {} : { ignoreTags: values['ignore-tags'] }),
      ...(pattern === undefined || template === undefined ? {} : { extract: { pattern, template } }),
      ...(platforms.length === 0 ? {} : { platforms }),
      ...(values.limit === undefined ? {} : { limit: parseLimit(values.limit) }),
    };
  }

  const cacheText = values.cache;
  // Checked here so that a bad value fails before anything loads; main reads it (or SCANNER_TIMEOUT) again.
  if (values.timeout !== undefined) parseTimeoutMs(values.timeout);
  return {
    kind: 'run',
    command,
    image,
    images: [image, ...extra],
    output: parseOutput(values.output),
    debug: values.debug === true,
    registry: {
      registriesConfig: values['registries-config'],
      timeout: values.timeout,
      insecure: values.insecure === true,
      cache: cacheText === undefined ? undefined : parseCache(cacheText),
      cacheStrategy: parseCacheStrategy(values['cache-strategy']),
    },
    policy,
    platforms,
  };
}

/** True when `--debug` is on the command line, even when the rest of it cannot be parsed. */
export function wantsDebug(argv: readonly string[]): boolean {
  return argv.includes('--debug');
}

const GENERAL_HELP = `scanner: find the right tag of an image in an OCI / Docker Registry V2 registry

Usage:
  scanner tags IMAGE                      list the repository's tags
  scanner select IMAGE [policy flags]     pick the best tag under a policy, with its digest
  scanner digest IMAGE[:TAG|@DIGEST] …    print the digest of a tag (default tag: latest)
  scanner inspect IMAGE[:TAG|@DIGEST]     media type, digest, created, platforms, labels, annotations
                                          (and, for a mirrored copy, whose copy of what it is)

Mirroring (scanner help plan|sync|convert for their flags, JSON and exit codes):
  scanner plan --config DIR               the dry run: which tags are missing at which target
  scanner sync --config DIR               plan, then copy: exact copies, each blob once per registry
  scanner convert skopeo|retagger FILE --owner TEAM
                                          print a team file made from the old pipeline's file

Policy flags (select):
  --strategy NAME          semver (default), newest-build (alias latest), alphabetical (aliases name,
                           lexical), numerical, digest
  --constraint TEXT        semver: a range such as "^1.2" or ">=1.0 <2.0"; digest: the tag to track
  --allow-tags MATCHER     a tag must match one (repeatable): "regexp:^v\\d", "glob:main-*", any, none
  --ignore-tags MATCHER    a tag matching one is dropped (repeatable)
  --platform OS/ARCH[/V]   keep tags with an image for one of these platforms (repeatable; also inspect)
  --order asc|desc         alphabetical and numerical: asc ranks the greatest first (default asc)
  --extract-pattern RE     rank on a value taken from each tag (with --extract-template, e.g. "$1")
  --extract-template T
  --loose                  semver: also take 1.2 and 1 (not only X.Y.Z)
  --prereleases            semver: let prerelease versions in
  --limit N                most candidates to list

A value that begins with "-" follows its flag as any other (--extract-pattern '-(\\w+)$'), or after "="
(--extract-pattern=-X); only a value that is itself one of these flags needs the "=" form.

Registry flags:
  --registries-config FILE registries config (YAML; env SCANNER_REGISTRIES_CONFIG)
  --timeout DURATION       bound on the whole command's registry work, e.g. 30s, 2m (env SCANNER_TIMEOUT)
  --insecure               skip TLS verification
  --cache memory|redis://… cache tag lists, digests and metadata (select, tags)
  --cache-strategy tag|digest

Output:
  -o, --output table|json  human table (default) or one JSON document
  --debug                  log each registry request to stderr; print stacks on errors
  -h, --help               this help (scanner help COMMAND for one command)
  --version                the version

Exit codes: 0 found, 1 registry or runtime error, 2 usage or invalid input, 3 no tag matched.
`;

const COMMAND_HELP: Readonly<Record<Command, string>> = {
  tags: `Usage: scanner tags IMAGE [--cache …] [-o json]

Lists every tag of the repository IMAGE (a tag or digest in IMAGE is not allowed).
JSON: { "image": "registry/repository", "tags": ["…"] }
`,
  select: `Usage: scanner select IMAGE --strategy NAME [policy flags] [-o json]

Ranks the tags of the repository IMAGE under the policy and prints the best one with its digest.
Exit code 3 when no tag passes the policy.
JSON: { "image", "selected": { "tag", "digest", "createdAt", "platforms" } | null, "candidates": [ … ] }

Examples:
  scanner select ghcr.io/org/app --strategy semver --constraint "^1.2"
  scanner select ghcr.io/org/app --strategy newest-build --allow-tags "glob:main-*"
  scanner select nginx --strategy semver --platform linux/arm64 --limit 3
`,
  digest: `Usage: scanner digest IMAGE[:TAG|@DIGEST] [IMAGE …] [-o json]

Prints the digest the tag points to (the index digest for a multi-platform image). Default tag: latest.
JSON: { "image": "registry/repository:tag", "digest": "sha256:…" }

Several images are resolved in one run, concurrently (up to each registry's concurrency), which saves a
process start per image in scripts. Each gets a line "IMAGE DIGEST" in the order given (IMAGE as resolved,
e.g. with :latest); one that fails gets a "scanner: IMAGE: …" line on stderr, the others still print, and the
exit code is the first failure's.
JSON for several: [ { "image", "digest" } | { "image", "error": { "code", "message" } }, … ]

Examples:
  scanner digest ghcr.io/org/app:1.2.3
  scanner digest ghcr.io/org/app:1.2.3 ghcr.io/org/web:2.0 docker.io/library/nginx:1.27
  xargs scanner digest < images.txt
`,
  inspect: `Usage: scanner inspect IMAGE[:TAG|@DIGEST] [--platform OS/ARCH …] [-o json]

Prints the media type, digest, creation time, platforms with their digests, labels and annotations.
`,
};

/** The help text for a command, or the general help. */
export function helpText(command: Command | undefined): string {
  return command === undefined ? GENERAL_HELP : `${COMMAND_HELP[command]}\nEvery flag and the exit codes: scanner --help\n`;
}
