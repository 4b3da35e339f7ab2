// `scanner plan`, `scanner sync` and `scanner convert`: argument reading, wiring and output around
// `@scanner/sync`, which does the planning, copying and converting. Loaded by `main` only for these commands,
// and it loads `@scanner/sync` and listr2 only when a command runs, so the scan commands never pay for them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isScannerError, parseImageReference } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import type { RegistryEvent } from '@scanner/registry';
import type { ConfigIssue, MirrorConfig, Plan, SyncReport } from '@scanner/sync';
import { createCommandContext } from './context.ts';
import type { CommandContext } from './context.ts';
import { parseTimeoutMs } from './args.ts';
import { CliError, EXIT, debugStack, reportError } from './errors.ts';
import type { ExitCode } from './errors.ts';
import type { MainIo } from './main.ts';
import { mirrorHelpText, parseMirrorCommandLine } from './mirror-args.ts';
import type { ConvertArgs, MirrorRunArgs } from './mirror-args.ts';
import { planJson, planTable, syncJson, syncTable } from './mirror-output.ts';
import { formatJson } from './output.ts';
import { createSyncProgress, progressMode } from './progress.ts';

// Credentials can only reach a message through a URL's user info; mask it wherever it appears.
function redact(text: string): string {
  return text.replace(/([a-z][\w+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
}

/** A failure this module renders itself: several lines (every config problem) and an exit code. */
class MirrorFailure extends Error {
  override readonly name = 'MirrorFailure';
  readonly lines: readonly string[];
  readonly exitCode: ExitCode;
  /** Config problems, for the `-o json` document (files under the config directory). */
  readonly issues: readonly ConfigIssue[] | undefined;

  constructor(lines: readonly string[], exitCode: ExitCode, issues?: readonly ConfigIssue[]) {
    super(lines.join('\n'));
    this.lines = lines;
    this.exitCode = exitCode;
    this.issues = issues;
  }
}

/** `file:line:column path: message`, with the file under the directory it was read from, so editors can open it. */
function issueLine(issue: ConfigIssue, dir: string | undefined, format: (issue: ConfigIssue) => string): string {
  return format(dir === undefined ? issue : { ...issue, file: join(dir, issue.file) });
}

/**
 * Renders `@scanner/sync` errors that carry every problem of a file (invalid config, unconvertible input) as
 * one line per problem; anything else is left for the common handler.
 */
async function syncFailure(error: unknown, dir: string | undefined): Promise<MirrorFailure | undefined> {
  if (!isScannerError(error) || error.package !== '@scanner/sync') return undefined;
  const { formatConfigIssue } = await import('@scanner/sync');
  const issues = (error as { issues?: readonly ConfigIssue[] }).issues ?? [];
  if (error.code === 'invalid_config') {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const head = issues.length === 0 ? error.detail.split('\n', 1)[0] ?? error.detail : `invalid mirror config ${dir ?? ''} (${count}); nothing was planned or copied:`;
    const located = issues.map((issue) => (dir === undefined ? issue : { ...issue, file: join(dir, issue.file) }));
    return new MirrorFailure([head, ...issues.map((issue) => `  ${issueLine(issue, dir, formatConfigIssue)}`)], EXIT.usage, located);
  }
  if (error.code === 'invalid_convert_input') {
    const head = error.detail.split('\n', 1)[0] ?? error.detail;
    return new MirrorFailure(issues.length === 0 ? [error.detail] : [head, ...issues.map((issue) => `  ${formatConfigIssue(issue)}`)], EXIT.usage);
  }
  return new MirrorFailure([error.detail.split('\n', 1)[0] ?? error.detail], EXIT.runtime);
}

/** `--owner` and `--target` must name something the config has: a typo would otherwise plan nothing and exit 0. */
function checkFilters(args: MirrorRunArgs, config: MirrorConfig): void {
  if (args.target !== undefined && !config.targets.some((target) => target.name === args.target)) {
    const names = config.targets.map((target) => target.name).join(', ');
    throw new CliError('invalid_argument', `--target ${JSON.stringify(args.target)} is not a target of ${join(config.dir, 'targets.yaml')}; its targets: ${names}`);
  }
  if (args.owner !== undefined && !config.images.some((image) => image.owner === args.owner)) {
    const owners = [...new Set(config.images.map((image) => image.owner))].sort().join(', ');
    throw new CliError('invalid_argument', `--owner ${JSON.stringify(args.owner)} owns no image in ${config.dir}; the owners there: ${owners === '' ? 'none' : owners}`);
  }
  const wanted = args.image;
  if (wanted !== undefined && !config.images.some((image) => image.id === wanted || sameRepository(wanted, image.source))) {
    throw new CliError('invalid_argument', `--image ${JSON.stringify(wanted)} is no source repository of ${config.dir}; give one as written in a team file (e.g. ${config.images[0] === undefined ? 'docker.io/bitnami/postgresql' : String(config.images[0].source)})`);
  }
}

/** True when `text` names the repository `source` (`nginx` names `docker.io/library/nginx`). */
function sameRepository(text: string, source: ImageReference): boolean {
  try {
    const reference = parseImageReference(text);
    return reference.registry === source.registry && reference.repository === source.repository;
  } catch {
    return false;
  }
}

/** `--image` names a repository: a tag or digest in it would be ignored, so it is a usage error. */
function checkImageFilter(image: string | undefined): void {
  if (image === undefined) return;
  let reference: ImageReference;
  try {
    reference = parseImageReference(image);
  } catch {
    return; // not a reference: matched against image ids later, and named there when nothing matches
  }
  if (reference.tag === undefined && reference.digest === undefined) return;
  const what = reference.digest === undefined ? 'a tag' : 'a digest';
  const named = image.split('@')[0] ?? image;
  const colon = named.indexOf(':', named.lastIndexOf('/') + 1);
  const repository = colon === -1 ? named : named.slice(0, colon);
  throw new CliError('usage', `--image names a source repository, not ${what}: use --image ${repository} (the team file's rules choose the tags)`);
}

async function loadAndPlan(args: MirrorRunArgs, context: CommandContext, io: MainIo): Promise<{ config: MirrorConfig; plan: Plan }> {
  checkImageFilter(args.image);
  const { loadMirrorConfig, planMirror } = await import('@scanner/sync');
  const signal = io.signal;
  const config = await loadMirrorConfig(args.configDir, { signal });
  checkFilters(args, config);
  const plan = await planMirror(config, { client: context.client, signal, owner: args.owner, target: args.target, image: args.image });
  return { config, plan };
}

async function runPlan(args: MirrorRunArgs, context: CommandContext, io: MainIo): Promise<ExitCode> {
  const { plan } = await loadAndPlan(args, context, io);
  io.stdout.write(args.output === 'json' ? formatJson(planJson(plan)) : planTable(plan));
  return plan.errors.length === 0 ? EXIT.ok : EXIT.runtime;
}

/** Items stopped by `--timeout` say so, naming the bound, so that a cron or CI user knows what to raise. */
function namingTimeout(report: SyncReport, deadline: Deadline | undefined): SyncReport {
  if (deadline?.signal.aborted !== true) return report;
  const message = `${deadline.text} ran out before this item finished; its target tag was not moved (raise --timeout or SCANNER_TIMEOUT)`;
  return {
    ...report,
    items: report.items.map((item) => (item.error?.code === 'timeout' || item.error?.code === 'aborted' ? { ...item, error: { code: 'timeout', message } } : item)),
  };
}

async function runSync(args: MirrorRunArgs, context: CommandContext, io: MainIo, deadline: Deadline | undefined, diagnostic: (line: string) => void): Promise<ExitCode> {
  const { config, plan } = await loadAndPlan(args, context, io);
  const { syncPlan } = await import('@scanner/sync');
  const progress = await createSyncProgress(plan, progressMode(args.progress, io.stderr, io.env ?? process.env), io.stderr);
  let report;
  try {
    report = await syncPlan(plan, { client: context.client, signal: io.signal, onEvent: progress.onEvent, configDir: config.dir });
  } finally {
    await progress.finish();
  }
  report = namingTimeout(report, deadline);
  io.stdout.write(args.output === 'json' ? formatJson(syncJson(report)) : syncTable(report));
  if (deadline?.signal.aborted === true) diagnostic(`scanner sync did not finish within ${deadline.text}; unfinished tags were not moved; raise --timeout (or SCANNER_TIMEOUT)`);
  const failed = report.errors.length > 0 || report.items.some((item) => item.result === 'failed');
  return failed ? EXIT.runtime : EXIT.ok;
}

async function runConvert(args: ConvertArgs, io: MainIo): Promise<ExitCode> {
  let text: string;
  try {
    text = await readFile(args.file, { encoding: 'utf8', ...(io.signal === undefined ? {} : { signal: io.signal }) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    throw new CliError('invalid_argument', `cannot read ${JSON.stringify(args.file)}: ${why}`, { cause: error });
  }
  const { convertRetagger, convertSkopeoSync, formatConfigIssue } = await import('@scanner/sync');
  const convert = args.format === 'skopeo' ? convertSkopeoSync : convertRetagger;
  const result = convert(text, { owner: args.owner, file: args.file });
  for (const warning of result.warnings) io.stderr.write(`scanner: warning: ${formatConfigIssue(warning)}\n`);
  io.stdout.write(args.output === 'json' ? formatJson({ teamFile: result.document, warnings: result.warnings }) : result.yaml);
  return EXIT.ok;
}

/** `--timeout`, else `SCANNER_TIMEOUT`: the bound on the whole command, as given and as a signal. */
interface Deadline {
  readonly text: string;
  readonly ms: number;
  readonly signal: AbortSignal;
}

function deadlineOf(args: MirrorRunArgs, env: Readonly<Record<string, string | undefined>>): Deadline | undefined {
  const fromEnv = env['SCANNER_TIMEOUT'];
  const [text, flag] = args.registry.timeout !== undefined ? [args.registry.timeout, '--timeout'] : fromEnv !== undefined && fromEnv !== '' ? [fromEnv, 'SCANNER_TIMEOUT'] : [];
  if (text === undefined) return undefined;
  const ms = parseTimeoutMs(text, flag);
  return { text: `${flag} ${text}`, ms, signal: AbortSignal.timeout(ms) };
}

/** The debug and warning lines of registry events, as for the scan commands. */
function registryEventLogger(io: MainIo, debug: boolean, diagnostic: (line: string) => void): (event: RegistryEvent) => void {
  return (event) => {
    io.onEvent?.(event);
    if (event.type === 'warning') diagnostic(`warning: ${event.message}`);
    else if (debug && event.type === 'response') {
      const outcome = event.status === 0 ? `failed (${event.error ?? 'no response'})` : String(event.status);
      diagnostic(`debug: ${event.method} ${event.url} → ${outcome} in ${Math.round(event.durationMs)} ms`);
    } else if (debug && event.type === 'retry') {
      diagnostic(`debug: retrying ${event.method} ${event.url} in ${event.delayMs} ms (${event.reason})`);
    }
  };
}

/**
 * Runs `scanner plan|sync|convert` (see `isMirrorCommandLine`) and returns the exit code; like `main`, never
 * throws and never exits. Results go to `io.stdout`, progress and diagnostics to `io.stderr`.
 */
export async function mirrorMain(argv: readonly string[], io: MainIo, version: string): Promise<ExitCode> {
  const debug = argv.includes('--debug');
  const diagnostic = (line: string): void => {
    io.stderr.write(`scanner: ${redact(line)}\n`);
  };
  const env = io.env ?? process.env;
  let context: CommandContext | undefined;
  let dir: string | undefined;
  let deadline: Deadline | undefined;
  let commandName = '';
  let json = false;
  try {
    const args = parseMirrorCommandLine(argv);
    json = args.kind !== 'help' && args.output === 'json';
    if (args.kind === 'help') {
      io.stdout.write(`${mirrorHelpText(args.command)}\nEvery command: scanner --help\n`);
      return EXIT.ok;
    }
    if (args.kind === 'convert') return await runConvert(args, io);
    dir = args.configDir;
    commandName = args.command;
    deadline = deadlineOf(args, env);
    const signals = [io.signal, deadline?.signal].filter((signal) => signal !== undefined);
    const runIo: MainIo = { ...io, env, ...(signals.length === 0 ? {} : { signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0] }) };
    context = await createCommandContext({
      args: args.registry,
      env,
      memoryCache: undefined,
      userAgent: `scanner/${version}`,
      signal: runIo.signal,
      // The flag also bounds each registry operation, over the registries config's own.
      operationTimeoutMs: deadline?.ms,
      onCacheError: () => undefined,
      onEvent: registryEventLogger(io, args.debug, diagnostic),
    });
    return args.command === 'plan' ? await runPlan(args, context, runIo) : await runSync(args, context, runIo, deadline, diagnostic);
  } catch (error) {
    if (io.signal?.aborted === true || deadline?.signal.aborted === true) {
      diagnostic(deadline?.signal.aborted === true ? `scanner ${commandName} did not finish within ${deadline.text}; raise --timeout (or SCANNER_TIMEOUT)` : 'interrupted');
      return EXIT.runtime;
    }
    const failure = error instanceof MirrorFailure ? error : await syncFailure(error, dir);
    if (failure !== undefined) {
      const [head = '', ...rest] = failure.lines;
      diagnostic(head);
      for (const line of rest) io.stderr.write(`${redact(line)}\n`);
      if (debug) io.stderr.write(`${redact(debugStack(error))}\n`);
      // -o json: the document a machine reader expects, empty but for every config problem.
      if (json && failure.issues !== undefined && commandName !== '') {
        const issues = failure.issues.map((issue) => ({ file: issue.file, line: issue.line ?? null, column: issue.column ?? null, path: issue.path, message: redact(issue.message) }));
        io.stdout.write(formatJson({ items: [], errors: [], issues }));
      }
      return failure.exitCode;
    }
    const report = reportError(error);
    diagnostic(report.message);
    if (debug) io.stderr.write(`${redact(debugStack(error))}\n`);
    return report.exitCode;
  } finally {
    await context?.close().catch((error: unknown) => {
      if (debug) diagnostic(`debug: closing failed: ${String(error)}`);
    });
  }
}
