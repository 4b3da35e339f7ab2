import { RegistryError } from './errors.ts';
import type { Session } from './session.ts';

/** The default of `operationTimeoutMs`: one client call, all its requests, retries and backoff included. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 60_000;

/**
 * Runs one client call under its operation time-out: the registry's `operationTimeoutMs` setting, else the
 * client's. The per-request `timeoutMs` bounds one exchange; this bounds the whole call, so a registry that
 * accepts connections and never answers fails after this long instead of after every retry's time-out.
 * The caller's own `signal` still aborts with `aborted`; the time-out fails with `timeout`.
 */
export async function withOperationTimeout<T>(
  session: Session,
  clientDefaultMs: number,
  what: string,
  repository: string | undefined,
  signal: AbortSignal | undefined,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const limitMs = session.context.settings.operationTimeoutMs ?? clientDefaultMs;
  // A timer cleared when the call ends, not AbortSignal.timeout: that one keeps its timer and signal alive for
  // the whole limit after the call returned, hundreds per cycle in a long-running mirror.
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(new DOMException(`the operation time-out of ${limitMs} ms elapsed`, 'TimeoutError'));
  }, limitMs);
  timer.unref();
  const combined = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
  try {
    return await run(combined);
  } catch (error) {
    if (!deadline.signal.aborted || signal?.aborted === true) throw error;
    const registry = session.context.registry;
    const sources = session.context.settings.operationTimeoutMs === undefined ? undefined : session.context.settings.sources;
    // The registries config set this limit: name its key (a --timeout flag would have replaced it).
    const key = sources?.operationTimeoutMs === undefined ? undefined : `${sources.operationTimeoutMs}${sources.file === undefined ? '' : ` in ${sources.file}`}`;
    throw new RegistryError('timeout', `${what} on ${registry} did not finish within ${limitMs} ms (the operation time-out, every try and wait included)`, {
      registry,
      repository,
      cause: error,
      ...(sources?.operationTimeoutMs === undefined ? {} : { field: sources.operationTimeoutMs }),
      hints: {
        library: `raise operationTimeoutMs (a client option, or settings.operationTimeoutMs for ${registry}) if ${registry} is slow, or check that it answers`,
        config: `raise ${key ?? `operation_timeout of the registries entry for ${registry}`} if it is slow, or check that it answers`,
        cli:
          key === undefined
            ? `raise --timeout (e.g. --timeout 2m) if ${registry} is slow, or check that it answers`
            : `raise ${key} (or override it with --timeout, e.g. --timeout 2m) if ${registry} is slow, or check that it answers`,
      },
    });
  } finally {
    clearTimeout(timer);
  }
}
