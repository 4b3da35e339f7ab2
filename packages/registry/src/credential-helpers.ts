import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RegistryError } from './errors.ts';
import type { Credential } from './settings.ts';
import { lazySchema } from './lazy-schema.ts';

const execFileAsync = promisify(execFile);

/** How long a credential script or helper may run before it is killed. */
export const DEFAULT_CREDENTIAL_TIMEOUT_MS = 10_000;

/** Credentials are one short line or a small JSON object; anything larger is a misbehaving program. */
const MAX_OUTPUT_BYTES = 64 * 1024;

/** What Docker's credential helpers print on stdout when they hold nothing for a server. */
const HELPER_NOT_FOUND = 'credentials not found in native keychain';

export interface RunProgramOptions {
  /** Environment of the child; its `PATH` is also where a helper is looked up. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** @default 10000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs `path` with no arguments and returns its stdout. `label` names the source in errors
 * (`ext:/opt/creds.sh`); neither stdout nor stderr ever reaches an error, since either may hold the secret.
 */
export async function runCredentialScript(path: string, label: string, options: RunProgramOptions = {}): Promise<string> {
  const result = await run(path, [], undefined, label, options);
  if (result.exitCode !== 0) {
    throw new RegistryError('credentials', `${label} exited with status ${result.exitCode}; run it by hand to see why`);
  }
  return result.stdout;
}

/**
 * Asks `docker-credential-<helper>` (Docker's credential-helper protocol: `get`, the server URL on stdin,
 * `{ServerURL, Username, Secret}` on stdout) for the credentials of `serverUrl`. Resolves `undefined` when
 * the helper holds none. A `<token>` username means `Secret` is an identity (refresh) token.
 */
export async function runDockerCredentialHelper(
  helper: string,
  serverUrl: string,
  label: string,
  options: RunProgramOptions = {},
): Promise<Credential | undefined> {
  if (!/^[\w.-]+$/.test(helper)) {
    throw new RegistryError('credentials', `${label}: credential helper name "${helper}" is not a plain name like "desktop" or "ecr-login"`);
  }
  const program = `docker-credential-${helper}`;
  const result = await run(program, ['get'], serverUrl, `${label} (${program})`, options);
  if (result.exitCode !== 0) {
    if (result.stdout.trim() === HELPER_NOT_FOUND) return undefined;
    throw new RegistryError('credentials', `${label}: ${program} get exited with status ${result.exitCode}; run \`echo ${serverUrl} | ${program} get\` to see why`);
  }
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    // The parser's message quotes the output, which holds the secret.
    throw new RegistryError('credentials', `${label}: ${program} get did not print JSON`);
  }
  const parsed = (await helperOutputSchema()).safeParse(json);
  if (!parsed.success) {
    throw new RegistryError('credentials', `${label}: ${program} get printed JSON without string "Username" and "Secret"`);
  }
  const { Username: username, Secret: secret } = parsed.data;
  if (secret === '') return undefined;
  if (username === '<token>') return { kind: 'identity-token', token: secret };
  return { kind: 'basic', username, password: secret };
}

const helperOutputSchema = lazySchema((z) => z.object({ Username: z.string(), Secret: z.string() }));

interface RunResult {
  exitCode: number;
  stdout: string;
}

async function run(
  file: string,
  args: readonly string[],
  stdin: string | undefined,
  label: string,
  options: RunProgramOptions,
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CREDENTIAL_TIMEOUT_MS;
  const env = { ...(options.env ?? process.env) };
  try {
    const promise = execFileAsync(file, args, {
      env,
      timeout: timeoutMs,
      // A script that traps SIGTERM must not outlive its timeout.
      killSignal: 'SIGKILL',
      maxBuffer: MAX_OUTPUT_BYTES,
      encoding: 'utf8',
      windowsHide: true,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    // A helper that never reads stdin gets EPIPE here; that is its business, not a failure of ours.
    promise.child.stdin?.on('error', () => undefined);
    promise.child.stdin?.end(stdin ?? '');
    const { stdout } = await promise;
    return { exitCode: 0, stdout };
  } catch (error) {
    return failure(error, label, timeoutMs, options.signal);
  }
}

/**
 * Turns an `execFile` rejection into a result or a `RegistryError`. The rejection itself is never attached
 * as `cause`: it carries the child's stdout and stderr.
 */
function failure(error: unknown, label: string, timeoutMs: number, signal: AbortSignal | undefined): RunResult {
  const details = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    killed?: unknown;
    signal?: unknown;
    stdout?: unknown;
    name?: unknown;
  };
  if (signal?.aborted === true || details.name === 'AbortError') {
    throw new RegistryError('aborted', `${label} was aborted`);
  }
  if (details.code === 'ENOENT') {
    throw new RegistryError('credentials', `${label}: program not found; check the path, or install it on PATH`);
  }
  if (details.code === 'EACCES') {
    throw new RegistryError('credentials', `${label}: permission denied; make it executable (chmod +x)`);
  }
  if (details.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
    throw new RegistryError('credentials', `${label} printed more than ${MAX_OUTPUT_BYTES} bytes; it should print one credential`);
  }
  if (details.killed === true || typeof details.signal === 'string') {
    const reason = details.killed === true ? `did not finish within ${timeoutMs} ms` : `was killed by ${String(details.signal)}`;
    throw new RegistryError('credentials', `${label} ${reason}`);
  }
  if (typeof details.code === 'number') {
    return { exitCode: details.code, stdout: typeof details.stdout === 'string' ? details.stdout : '' };
  }
  const code = typeof details.code === 'string' ? ` (${details.code})` : '';
  throw new RegistryError('credentials', `${label} could not be run${code}`);
}
