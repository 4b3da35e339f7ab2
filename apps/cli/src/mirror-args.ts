// The command lines of the mirror commands (`plan`, `sync`, `convert`): read apart from the scan commands'
// so that those keep their own flags, and light enough to load on every start.
import { parseArgs } from 'node:util';
import type { RegistryArgs } from './args.ts';
import { CliError } from './errors.ts';

/** The mirror commands. */
export type MirrorCommand = 'plan' | 'sync' | 'convert';

export const MIRROR_COMMANDS: readonly MirrorCommand[] = ['plan', 'sync', 'convert'];

/** The input formats of `scanner convert`. */
export type ConvertFormat = 'skopeo' | 'retagger';

/** `scanner plan` and `scanner sync`. */
export interface MirrorRunArgs {
  readonly kind: 'mirror';
  readonly command: 'plan' | 'sync';
  /** `--config DIR`: the mirror config directory (`targets.yaml` and one file per team). */
  readonly configDir: string;
  /** `--owner TEAM`: only images owned by this team. */
  readonly owner: string | undefined;
  /** `--target NAME`: only this target of `targets.yaml`. */
  readonly target: string | undefined;
  /** `--image REF`: only the image whose source repository this names (or its `file#repository` id). */
  readonly image: string | undefined;
  readonly output: 'table' | 'json';
  /** `--progress auto|plain|none` (sync): animated on a terminal, plain lines otherwise. */
  readonly progress: 'auto' | 'plain' | 'none';
  readonly debug: boolean;
  readonly registry: RegistryArgs;
}

/** `scanner convert skopeo|retagger FILE --owner TEAM`. */
export interface ConvertArgs {
  readonly kind: 'convert';
  readonly command: 'convert';
  readonly format: ConvertFormat;
  readonly file: string;
  readonly owner: string;
  /** `yaml` (the team file, default) or `json` (`{ teamFile, warnings }`). */
  readonly output: 'yaml' | 'json';
  readonly debug: boolean;
}

export type MirrorParsedArgs = { readonly kind: 'help'; readonly command: MirrorCommand } | MirrorRunArgs | ConvertArgs;

const OPTIONS = {
  config: { type: 'string' },
  owner: { type: 'string' },
  target: { type: 'string' },
  image: { type: 'string' },
  progress: { type: 'string' },
  'registries-config': { type: 'string' },
  timeout: { type: 'string' },
  insecure: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTIONS;

// Flags that only some mirror commands take.
const FLAG_COMMANDS: Partial<Record<OptionName, readonly MirrorCommand[]>> = {
  config: ['plan', 'sync'],
  target: ['plan', 'sync'],
  image: ['plan', 'sync'],
  progress: ['sync'],
  'registries-config': ['plan', 'sync'],
  timeout: ['plan', 'sync'],
  insecure: ['plan', 'sync'],
};

function isMirrorCommand(value: string | undefined): value is MirrorCommand {
  return value !== undefined && (MIRROR_COMMANDS as readonly string[]).includes(value);
}

/**
 * The command word of a command line: the first argument that is not a flag, skipping the values of the
 * flags known to take one (`--registries-config FILE plan …`).
 */
function commandWord(argv: readonly string[]): { word: string | undefined; next: string | undefined } {
  const takesValue = new Set(['--config', '--owner', '--target', '--image', '--progress', '--registries-config', '--output', '-o', '--timeout', '--cache', '--cache-strategy']);
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (arg === '--') return { word: argv[index + 1], next: argv[index + 2] };
    if (!arg.startsWith('-')) return { word: arg, next: argv[index + 1] };
    if (takesValue.has(arg)) index += 1;
  }
  return { word: undefined, next: undefined };
}

/** True when `argv` runs (or asks for the help of) `plan`, `sync` or `convert`. */
export function isMirrorCommandLine(argv: readonly string[]): boolean {
  const { word, next } = commandWord(argv);
  return isMirrorCommand(word) || (word === 'help' && isMirrorCommand(next));
}

function usageFromParseError(error: unknown, command: string): CliError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  const flag = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return new CliError('usage', `unknown flag ${JSON.stringify(flag ?? message)} for scanner ${command}; run scanner ${command} --help for its flags`, { cause: error });
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined && message.includes('argument missing')) {
    return new CliError('usage', `${flag} needs a value, e.g. ${flag}=VALUE`, { cause: error });
  }
  return new CliError('usage', `${message}; run scanner ${command} --help`, { cause: error });
}

function required(value: string | undefined, flag: string, example: string): string {
  if (value === undefined || value === '') throw new CliError('usage', `${flag} is required, e.g. ${example}`);
  return value;
}

/**
 * Reads a mirror command line (see {@link isMirrorCommandLine}). Throws a {@link CliError} for anything that is
 * not a usage of `scanner plan|sync|convert`; the config directory and files are read by the commands.
 */
export function parseMirrorCommandLine(argv: readonly string[]): MirrorParsedArgs {
  const { word, next } = commandWord(argv);
  if (word === 'help' && isMirrorCommand(next)) return { kind: 'help', command: next };
  if (!isMirrorCommand(word)) throw new CliError('usage', `not a mirror command: ${JSON.stringify(word ?? '')}`);
  const command = word;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageFromParseError(error, command);
  }
  const { values } = parsed;
  if (values.help === true) return { kind: 'help', command };
  const rest = parsed.positionals.slice(parsed.positionals.indexOf(command) + 1);
  for (const [flag, commands] of Object.entries(FLAG_COMMANDS) as [OptionName, readonly MirrorCommand[]][]) {
    if (values[flag] !== undefined && !commands.includes(command)) {
      throw new CliError('usage', `--${flag} does not apply to scanner ${command} (only to ${commands.map((name) => `scanner ${name}`).join(', ')})`);
    }
  }
  const debug = values.debug === true;

  if (command === 'convert') {
    const [format, file, ...extra] = rest;
    if (format !== 'skopeo' && format !== 'retagger') {
      throw new CliError('usage', `scanner convert needs the input format first: skopeo (a skopeo sync YAML) or retagger (the rename list), e.g. scanner convert skopeo sync.yaml --owner team-storage${format === undefined ? '' : `; got ${JSON.stringify(format)}`}`);
    }
    if (file === undefined) throw new CliError('usage', `scanner convert ${format} needs the file to read, e.g. scanner convert ${format} ${format === 'skopeo' ? 'sync.yaml' : 'images.yaml'} --owner team-storage`);
    if (extra.length > 0) throw new CliError('usage', `scanner convert takes one file, got extra arguments ${extra.map((value) => JSON.stringify(value)).join(' ')}`);
    const output = values.output ?? 'yaml';
    if (output !== 'yaml' && output !== 'json') throw new CliError('invalid_argument', `-o/--output ${JSON.stringify(output)} is not one of yaml, json (scanner convert prints the team file on stdout; redirect it to a file)`);
    return { kind: 'convert', command, format, file, owner: required(values.owner, '--owner', `scanner convert ${format} FILE --owner team-storage`), output, debug };
  }

  if (rest.length > 0) {
    throw new CliError('usage', `scanner ${command} takes no arguments, got ${rest.map((value) => JSON.stringify(value)).join(' ')}; name the config directory with --config DIR`);
  }
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new CliError('invalid_argument', `-o/--output ${JSON.stringify(output)} is not one of table, json`);
  const progress = values.progress ?? 'auto';
  if (progress !== 'auto' && progress !== 'plain' && progress !== 'none') throw new CliError('invalid_argument', `--progress ${JSON.stringify(progress)} is not one of auto, plain, none`);
  return {
    kind: 'mirror',
    command,
    configDir: required(values.config, '--config', `scanner ${command} --config ./mirror`),
    owner: values.owner,
    target: values.target,
    image: values.image,
    output,
    progress,
    debug,
    registry: { registriesConfig: values['registries-config'], timeout: values.timeout, insecure: values.insecure === true, cache: undefined, cacheStrategy: undefined },
  };
}

const REGISTRY_FLAGS = `Registry flags (as for the scan commands):
  --registries-config FILE registries config: credentials, mirrors, concurrency, rate-limit floors
                           (YAML; env SCANNER_REGISTRIES_CONFIG); else the Docker config's credentials
  --timeout DURATION       bound on the whole command's registry work, e.g. 10m (env SCANNER_TIMEOUT);
                           mind that a sync copies every missing tag within it
  --insecure               skip TLS verification
  --debug                  log each registry request to stderr; print stacks on errors`;

const MIRROR_HELP: Readonly<Record<MirrorCommand, string>> = {
  plan: `Usage: scanner plan --config DIR [--owner TEAM] [--target NAME] [--image REF] [-o json]

The dry run: for each image of the mirror config and each of its targets, lists the source tags, selects
them with the rules, lists the target's tags and decides per tag: copy (missing), update (a mutable tag whose
source digest moved) or skip (present). Copies nothing.

  --config DIR             the mirror config: targets.yaml and one *.yaml file per team
  --owner TEAM             only images owned by TEAM
  --target NAME            only the target NAME of targets.yaml
  --image REF              only the image with this source repository (e.g. docker.io/bitnami/postgresql)
  -o, --output table|json  grouped by team and target (default), or one JSON document:
    { "items": [ { "owner", "targetName", "source", "target", "action": "copy"|"update"|"skip",
                   "sourceDigest": "sha256:…"|null, "targetDigest": "sha256:…"|null } ],
      "errors": [ { "owner", "source", "targetName", "code", "message" } ],
      "repositories": [ { "targetName", "repository", "exists" } ],
      "pulls": { "<source registry>": <manifest GETs the sync will make> } }

${REGISTRY_FLAGS}

Exit codes: 0 planned, 1 some image could not be planned (see errors), 2 invalid config or command line
(every problem of every file is printed as file:line:column key.path: message).

Examples:
  scanner plan --config ./mirror
  scanner plan --config ./mirror --owner team-storage --target main -o json
`,
  sync: `Usage: scanner sync --config DIR [--owner TEAM] [--target NAME] [--image REF] [-o json]

Plans (as scanner plan), then copies: every copied tag gets the source's digest (every platform, manifest
bytes unchanged, the tag written last); each blob crosses the network at most once per target registry; a
failed tag never moves its target tag and is retried once at the end. Progress goes to stderr.

  --config DIR, --owner TEAM, --target NAME, --image REF   as for scanner plan
  --progress auto|plain|none  auto (default): animated on a terminal, plain lines when piped or with CI set
  -o, --output table|json  a summary grouped by team and target (default), or one JSON document:
    { "items": [ { …the plan's item fields…, "result": "copied"|"updated"|"skipped"|"failed",
                   "error": { "code", "message" }|null } ],
      "errors": [ …as in the plan… ],
      "stats": { "manifestsPut", "blobsUploaded", "blobsMounted", "blobsExisting", "bytesUploaded",
                 "referrersCopied", "provenanceWritten", "pulls", "mirrorPulls" } }

${REGISTRY_FLAGS}

Exit codes: 0 everything mirrored, 1 some tag or image failed, 2 invalid config or command line.

Examples:
  scanner sync --config ./mirror
  scanner sync --config ./mirror --owner team-storage -o json > report.json
`,
  convert: `Usage: scanner convert skopeo|retagger FILE --owner TEAM [-o yaml|json]

Reads a file of the old mirroring pipeline and prints a team file (YAML) on stdout; warnings (what changed
on the way, e.g. credentials left to the registries config) go to stderr.
  skopeo    a skopeo sync YAML (images, images-by-tag-regex, images-by-semver per source registry)
  retagger  the rename list (image, tag_or_pattern, sha, semver, filter, add_tag_suffix,
            override_repo_name, strip_semver_prefix)
Anything the input says that a team file cannot express is an error naming the entry; nothing is dropped.

  --owner TEAM             the team written as the file's owner (required)
  -o, --output yaml|json   the team file as YAML (default), or { "teamFile": {…}, "warnings": [ … ] }

Exit codes: 0 converted, 2 the file cannot be read or converted (every problem is printed).

Examples:
  scanner convert skopeo sync.yaml --owner team-storage > mirror/team-storage.yaml
  scanner convert retagger images.yaml --owner team-platform > mirror/team-platform.yaml
`,
};

/** The help text of a mirror command. */
export function mirrorHelpText(command: MirrorCommand): string {
  return MIRROR_HELP[command];
}
