import { readFileSync } from 'node:fs';
import { helpText, parseCommandLine, parseTimeoutMs, wantsDebug } from './args.ts';
import type { ParsedArgs, RunArgs } from './args.ts';
import { COMMAND_MODULES } from './command.ts';
import type { CommandSession, MainIo } from './command.ts';
import type { CommandContext } from './context.ts';
import { EXIT, cacheFailureText, debugStack, reportError } from './errors.ts';
import type { ExitCode, ReportContext } from './errors.ts';
import { isMirrorCommandLine } from './mirror-args.ts';

export type { MainIo, OutputStream } from './command.ts';

function readVersion(): string {
  // Works from src/ and from dist/: both sit one level below package.json.
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

// Credentials can only reach a message through a URL's user info (a Redis URL); mask it wherever it appears.
function redact(text: string): string {
  return text.replace(/([a-z][\w+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
}

/** `--timeout`, else `SCANNER_TIMEOUT`, as given and as a signal that aborts when it runs out. */
interface Deadline {
  readonly text: string;
  readonly ms: number;
  readonly signal: AbortSignal;
}

function deadlineOf(args: RunArgs, env: Readonly<Record<string, string | undefined>>): Deadline | undefined {
  const fromEnv = env['SCANNER_TIMEOUT'];
  const [text, flag] = args.registry.timeout !== undefined ? [args.registry.timeout, '--timeout'] : fromEnv !== undefined && fromEnv !== '' ? [fromEnv, 'SCANNER_TIMEOUT'] : [];
  if (text === undefined) return undefined;
  const ms = parseTimeoutMs(text, flag);
  // The timer is unref'd: it never keeps the process alive.
  return { text, ms, signal: AbortSignal.timeout(ms) };
}

/** A session as `main` holds it: it also closes it, and knows the registry last asked. */
interface OwnedSession extends CommandSession {
  /** The registry of the last request sent, for a time-out message. */
  lastRegistry(): string | undefined;
  close(): Promise<void>;
}

/** The session a command runs in; the registry context is built (and `@scanner/registry` loaded) on first use. */
function createSession(
  args: RunArgs,
  io: MainIo,
  env: Readonly<Record<string, string | undefined>>,
  version: string,
  signal: AbortSignal | undefined,
  operationTimeoutMs: number | undefined,
): OwnedSession {
  const diagnostic = (line: string): void => {
    io.stderr.write(`scanner: ${redact(line)}\n`);
  };
  let pending: Promise<CommandContext> | undefined;
  let cacheWarned = false;
  let waitingFor: string | undefined;
  const userAgent = `scanner/${version}`;
  return {
    io,
    env,
    userAgent,
    signal,
    diagnostic,
    context() {
      pending ??= import('./context.ts').then(({ createCommandContext }) =>
        createCommandContext({
          args: args.registry,
          env,
          memoryCache: io.memoryCache,
          userAgent,
          signal,
          operationTimeoutMs,
          httpEngine: 'node',
          onCacheError: (error) => {
            if (cacheWarned) return;
            cacheWarned = true;
            diagnostic(`warning: the cache failed and is skipped for this run: ${cacheFailureText(error)}`);
          },
          onEvent: (event) => {
            io.onEvent?.(event);
            if (event.type === 'request') waitingFor = event.registry;
            if (event.type === 'warning') diagnostic(`warning: ${event.message}`);
            else if (args.debug && event.type === 'response') {
              const outcome = event.status === 0 ? `failed (${event.error ?? 'no response'})` : String(event.status);
              diagnostic(`debug: ${event.method} ${event.url} → ${outcome} in ${Math.round(event.durationMs)} ms`);
            } else if (args.debug && event.type === 'retry') {
              diagnostic(`debug: retrying ${event.method} ${event.url} in ${event.delayMs} ms (${event.reason})`);
            }
          },
        }),
      );
      return pending;
    },
    lastRegistry: () => waitingFor,
    async close() {
      const context = await pending?.catch(() => undefined);
      await context?.close();
    },
  };
}

/** What the error handler needs from the command line to name the user's flags. */
function reportContext(args: ParsedArgs | undefined, deadline: Deadline | undefined): ReportContext {
  if (args?.kind !== 'run') return {};
  return { policy: args.policy, timeout: deadline?.text };
}

/** How long an aborted run waits for its connections to close before `main` returns. */
const ABORTED_CLOSE_GRACE_MS = 250;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * `work`, or the signal's reason as soon as it aborts: the bound holds even where a package is slow to
 * notice the signal.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/** A run stopped by `--timeout`: say so, whatever the cancelled request threw. */
function timedOut(deadline: Deadline, registry: string | undefined): string {
  const waiting = registry === undefined ? '' : ` (waiting for ${registry})`;
  return `the command did not finish within --timeout ${deadline.text}${waiting}; check that the registry is up and reachable, or raise --timeout`;
}

/**
 * Runs `scanner` with `argv` (the arguments after the script name) and returns the exit code. Never throws
 * and never exits the process: every error becomes one line on `stderr` (with the stack under `--debug`).
 * Each command's module, and the packages it needs, load only when it runs.
 *
 * @example
 * const code = await main(['select', 'ghcr.io/org/app', '--strategy', 'semver'], { stdout: process.stdout, stderr: process.stderr });
 */
export async function main(argv: readonly string[], io: MainIo): Promise<ExitCode> {
  if (isMirrorCommandLine(argv)) {
    // plan, sync and convert: their own command lines and output; @scanner/sync loads only for them.
    const { mirrorMain } = await import('./mirror-main.ts');
    return mirrorMain(argv, io, readVersion());
  }
  const debug = wantsDebug(argv);
  const env = io.env ?? process.env;
  let args: ParsedArgs | undefined;
  let deadline: Deadline | undefined;
  let session: OwnedSession | undefined;
  try {
    args = parseCommandLine(argv);
    if (args.kind === 'help') {
      io.stdout.write(helpText(args.command));
      return EXIT.ok;
    }
    const version = readVersion();
    if (args.kind === 'version') {
      io.stdout.write(`${version}\n`);
      return EXIT.ok;
    }
    deadline = deadlineOf(args, env);
    const signals = [io.signal, deadline?.signal].filter((signal) => signal !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const command = await COMMAND_MODULES[args.command]();
    session = createSession(args, io, env, version, signal, deadline?.ms);
    return await untilAborted(command.run(args, session), signal);
  } catch (error) {
    // Whatever a cancelled request threw (an AbortError, a RegistryError 'aborted'), the cause is the signal.
    let report;
    if (io.signal?.aborted === true) report = { exitCode: EXIT.runtime, message: 'interrupted' };
    else if (deadline?.signal.aborted === true) report = { exitCode: EXIT.runtime, message: timedOut(deadline, session?.lastRegistry()) };
    else report = reportError(error, reportContext(args, deadline));
    io.stderr.write(`scanner: ${redact(report.message)}\n`);
    if (debug) io.stderr.write(`${redact(debugStack(error))}\n`);
    return report.exitCode;
  } finally {
    const closing = session?.close().catch((error: unknown) => {
      if (debug) io.stderr.write(`scanner: debug: closing failed: ${redact(String(error))}\n`);
    });
    // After Ctrl-C or --timeout, a request still waiting on a silent server may hold a graceful close: give it
    // a moment, then return; bin.ts ends the process.
    await (io.signal?.aborted === true || deadline?.signal.aborted === true ? Promise.race([closing, delay(ABORTED_CLOSE_GRACE_MS)]) : closing);
  }
}
