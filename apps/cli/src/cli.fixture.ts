import type { Cache, RegistryEvent } from '@scanner/registry';
import { main } from './main.ts';

/** What one in-process run of `main` printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCliOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly memoryCache?: Cache;
  readonly signal?: AbortSignal;
  /** Sees every registry event of the run, e.g. to count requests. */
  readonly onEvent?: (event: RegistryEvent) => void;
}

/**
 * Runs `main` in-process with string collectors. The environment is empty unless given, so that the
 * developer's Docker config and `SCANNER_REGISTRIES_CONFIG` never leak into a test.
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: options.env ?? { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent/docker' },
    ...(options.memoryCache === undefined ? {} : { memoryCache: options.memoryCache }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  });
  return { code, stdout, stderr };
}
