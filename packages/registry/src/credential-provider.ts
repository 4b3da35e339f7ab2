import { RegistryError } from './errors.ts';
import type { Credential, CredentialProvider } from './settings.ts';

export interface CachedCredentialProviderOptions {
  /** Names the source for logs; must never include the secret. */
  description: string;
  /** Reads the source once. Not given the caller's signal: one read serves every concurrent caller. */
  read: () => Promise<Credential | undefined>;
  /** See `CredentialSourceOptions.expireMs`. */
  expireMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Wraps a source so it is read once, then again only after `expireMs`. Concurrent `get()` calls while a read
 * is in flight share that read; a failed read is not kept, so the next call tries again. A caller's
 * `signal` stops that caller waiting, not the shared read.
 */
export function createCachedCredentialProvider(options: CachedCredentialProviderOptions): CredentialProvider {
  const now = options.now ?? Date.now;
  const expireMs = options.expireMs === undefined || options.expireMs <= 0 ? undefined : options.expireMs;
  let cached: { value: Credential | undefined; readAtMs: number } | undefined;
  let inFlight: Promise<Credential | undefined> | undefined;

  const fresh = (): boolean => cached !== undefined && (expireMs === undefined || now() - cached.readAtMs < expireMs);

  return {
    description: options.description,
    get(getOptions = {}) {
      const { signal } = getOptions;
      if (signal?.aborted === true) return Promise.reject(abortError(options.description));
      if (cached !== undefined && fresh()) return Promise.resolve(cached.value);
      // Through a promise constructor, so a read that throws synchronously still rejects.
      inFlight ??= new Promise<Credential | undefined>((resolve) => {
        resolve(options.read());
      })
        .then((value) => {
          cached = { value, readAtMs: now() };
          return value;
        })
        .finally(() => {
          inFlight = undefined;
        });
      return signal === undefined ? inFlight : raceAbort(inFlight, signal, options.description);
    },
  };
}

/**
 * Splits `username:password` (the password may itself contain colons). Never quotes the value: it is a
 * secret even when malformed.
 */
export function parseUserPass(value: string, source: string, code: 'credentials' | 'config' = 'credentials'): Credential {
  const line = value.trim();
  const colon = line.indexOf(':');
  if (colon <= 0 || colon === line.length - 1) {
    throw new RegistryError(code, `${source}: expected username:password with both parts non-empty`);
  }
  return { kind: 'basic', username: line.slice(0, colon), password: line.slice(colon + 1) };
}

function abortError(description: string): RegistryError {
  return new RegistryError('aborted', `reading credentials from ${description} was aborted`);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, description: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(description));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
