import type { Cache, RegistryEvent } from '@scanner/registry';
import type { Command, RunArgs } from './args.ts';
import type { CommandContext } from './context.ts';
import type { ExitCode } from './errors.ts';

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
  /** For `SCANNER_REGISTRIES_CONFIG`, `SCANNER_TIMEOUT`, `env:` credentials and `$DOCKER_CONFIG`. @default process.env */
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

/** What a command runs with: the streams, and the registry context built on first use. */
export interface CommandSession {
  readonly io: MainIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stops the command: the caller's signal (Ctrl-C) or `--timeout`, whichever comes first. */
  readonly signal: AbortSignal | undefined;
  /** `scanner/<version>`, for the User-Agent. */
  readonly userAgent: string;
  /** Writes `scanner: <line>` to stderr, with any URL's user info masked. */
  diagnostic(line: string): void;
  /**
   * The registry client, scanner and cache for this run, built from the registry flags on first call (which
   * loads `@scanner/registry`); closed by `main` when the command ends.
   */
  context(): Promise<CommandContext>;
}

/** One subcommand. Its module is loaded only when the command runs, so each loads what it needs. */
export interface CommandModule {
  run(args: RunArgs, session: CommandSession): Promise<ExitCode>;
}

/**
 * The module of each command. A new command adds its name to `COMMANDS` (args.ts) and a line here that
 * imports its own file.
 */
export const COMMAND_MODULES: Readonly<Record<Command, () => Promise<CommandModule>>> = {
  tags: async () => (await import('./scan-commands.ts')).tagsCommand,
  select: async () => (await import('./scan-commands.ts')).selectCommand,
  digest: async () => (await import('./scan-commands.ts')).digestCommand,
  inspect: async () => (await import('./scan-commands.ts')).inspectCommand,
};
