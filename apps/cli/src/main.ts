import { readFileSync } from 'node:fs';
import { parseImageReference, parsePlatform, withTag, withoutTagOrDigest } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import type { Cache, RegistryEvent } from '@scanner/registry';
import { parsePolicy } from '@scanner/version';
import { helpText, parseCommandLine, wantsDebug } from './args.ts';
import type { RunArgs } from './args.ts';
import { createCommandContext } from './context.ts';
import type { CommandContext } from './context.ts';
import { CliError, EXIT, debugStack, reportError } from './errors.ts';
import type { ExitCode } from './errors.ts';
import { formatJson, inspectJson, inspectTable, selectJson, selectTable, tagsTable } from './output.ts';
import type { DigestJson, TagsJson } from './output.ts';

/** Where `main` writes; `process.stdout` and `process.stderr` fit, and so does a string collector in tests. */
export interface OutputStream {
  write(chunk: string): unknown;
}

/** Everything `main` touches outside itself, injected so that it runs in-process (tests, the demo). */
export interface MainIo {
  /** Human and machine output. */
  readonly stdout: OutputStream;
  /** Diagnostics: errors, warnings, `--debug` request logs. */
  readonly stderr: OutputStream;
  /** For `SCANNER_REGISTRIES_CONFIG`, `env:` credentials and `$DOCKER_CONFIG`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stops the command (e.g. on SIGINT); it then exits 1. */
  readonly signal?: AbortSignal;
  /**
   * The cache `--cache memory` uses. One process's successive `main` calls share it when given; otherwise
   * each call starts with an empty one.
   * @default a new memory cache per call
   */
  readonly memoryCache?: Cache;
  /** Sees every registry request and response, e.g. to count them. */
  readonly onEvent?: (event: RegistryEvent) => void;
}

function readVersion(): string {
  // Works from src/ and from dist/: both sit one level below package.json.
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

// Credentials can only reach a message through a URL's user info (a Redis URL); mask it wherever it appears.
function redact(text: string): string {
  return text.replace(/([a-z][\w+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
}

/** A repository name for `tags` and `select`: a tag or digest there is a mistake, not something to ignore. */
function repositoryOf(command: string, image: string): ImageReference {
  const reference = parseImageReference(image);
  if (reference.tag !== undefined || reference.digest !== undefined) {
    const hint = command === 'select' ? '; put the tag rule in --constraint or --allow-tags' : '';
    throw new CliError('usage', `scanner ${command} takes a repository without tag or digest, got ${JSON.stringify(image)}${hint}`);
  }
  return withoutTagOrDigest(reference);
}

/** A tag or digest reference; a bare repository means `:latest`, as in Docker. */
function imageOf(image: string): ImageReference {
  const reference = parseImageReference(image);
  return reference.tag === undefined && reference.digest === undefined ? withTag(reference, 'latest') : reference;
}

async function runCommand(args: RunArgs, context: CommandContext, io: MainIo): Promise<ExitCode> {
  const signal = io.signal;
  const signalOption = signal === undefined ? {} : { signal };
  const write = (text: string): void => {
    io.stdout.write(text);
  };

  switch (args.command) {
    case 'tags': {
      const reference = repositoryOf('tags', args.image);
      // Registries list tags in their own order (distribution's depends on its storage driver); sorted, the
      // output is the same for the same tags everywhere. Tags are ASCII, so code-unit order is byte order.
      const tags = (await context.scanner.tags(reference, signalOption)).sort();
      const document: TagsJson = { image: String(reference), tags };
      write(args.output === 'json' ? formatJson(document) : tagsTable(document));
      return EXIT.ok;
    }
    case 'select': {
      const reference = repositoryOf('select', args.image);
      // Validated before any request, so that a bad policy is a usage error even when the registry is down.
      const policy = parsePolicy(args.policy);
      const result = await context.scanner.select(reference, policy, signalOption);
      const document = selectJson(result);
      if (args.output === 'json') write(formatJson(document));
      else write(selectTable(document));
      if (document.selected === null) {
        io.stderr.write(`scanner: no tag of ${document.image} matched the policy\n`);
        return EXIT.noMatch;
      }
      return EXIT.ok;
    }
    case 'digest': {
      const reference = imageOf(args.image);
      const digest = await context.client.resolveDigest(reference, signalOption);
      const document: DigestJson = { image: String(reference), digest };
      write(args.output === 'json' ? formatJson(document) : `${digest}\n`);
      return EXIT.ok;
    }
    case 'inspect': {
      const reference = imageOf(args.image);
      const platforms = args.platforms.map((platform) => parsePlatform(platform));
      const metadata = await context.client.getImageMetadata(reference, {
        ...signalOption,
        ...(platforms.length === 0 ? {} : { platforms }),
      });
      const document = inspectJson(String(reference), metadata);
      write(args.output === 'json' ? formatJson(document) : inspectTable(document));
      return EXIT.ok;
    }
  }
}

/**
 * Runs `scanner` with `argv` (the arguments after the script name) and returns the exit code. Never throws
 * and never exits the process: every error becomes one line on `stderr` (with the stack under `--debug`).
 *
 * @example
 * const code = await main(['select', 'ghcr.io/org/app', '--strategy', 'semver'], { stdout: process.stdout, stderr: process.stderr });
 */
export async function main(argv: readonly string[], io: MainIo): Promise<ExitCode> {
  const debug = wantsDebug(argv);
  const diagnostic = (line: string): void => {
    io.stderr.write(`scanner: ${redact(line)}\n`);
  };
  let context: CommandContext | undefined;
  try {
    const args = parseCommandLine(argv);
    if (args.kind === 'help') {
      io.stdout.write(helpText(args.command));
      return EXIT.ok;
    }
    const version = readVersion();
    if (args.kind === 'version') {
      io.stdout.write(`${version}\n`);
      return EXIT.ok;
    }
    let cacheWarned = false;
    context = await createCommandContext({
      args: args.registry,
      env: io.env ?? process.env,
      memoryCache: io.memoryCache,
      userAgent: `scanner/${version}`,
      signal: io.signal,
      onCacheError: (error) => {
        if (cacheWarned) return;
        cacheWarned = true;
        diagnostic(`warning: the cache failed and is skipped for this run: ${error instanceof Error ? error.message : String(error)}`);
      },
      onEvent: (event) => {
        io.onEvent?.(event);
        if (event.type === 'warning') diagnostic(`warning: ${event.message}`);
        else if (args.debug && event.type === 'response') {
          const outcome = event.status === 0 ? `failed (${event.error ?? 'no response'})` : String(event.status);
          diagnostic(`debug: ${event.method} ${event.url} → ${outcome} in ${Math.round(event.durationMs)} ms`);
        } else if (args.debug && event.type === 'retry') {
          diagnostic(`debug: retrying ${event.method} ${event.url} in ${event.delayMs} ms (${event.reason})`);
        }
      },
    });
    return await runCommand(args, context, io);
  } catch (error) {
    // Whatever a cancelled request threw (an AbortError, a RegistryError 'aborted'), the cause is the signal.
    const report = io.signal?.aborted === true ? { exitCode: EXIT.runtime, message: 'interrupted' } : reportError(error);
    diagnostic(report.message);
    if (debug) io.stderr.write(`${redact(debugStack(error))}\n`);
    return report.exitCode;
  } finally {
    await context?.close().catch((error: unknown) => {
      if (debug) diagnostic(`debug: closing failed: ${String(error)}`);
    });
  }
}
