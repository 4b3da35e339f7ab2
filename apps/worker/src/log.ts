import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger } from 'pino';

const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

/**
 * Removes credentials from text: the secrets the worker holds (trigger token, Redis password), userinfo in
 * URLs (`redis://:pw@host`), and `Bearer`/`Basic` credentials. The registry and sync packages scrub their own
 * messages; this covers what the worker adds, since pino's `redact` never looks inside message text or stacks.
 */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text.replace(USERINFO, '$1***@').replace(AUTH_SCHEME, '$1 ***');
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***');
  return out;
}

function scrubValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets, depth - 1));
  if (value instanceof Error) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubValue(item, secrets, depth - 1)]));
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** @default 'info' */
  readonly level?: string;
  /** Secrets to scrub from every line, read on every line (the list may grow). */
  readonly secrets: () => readonly string[];
  /** @default stdout */
  readonly destination?: DestinationStream;
}

/**
 * JSON lines on stdout (pino): events with fields (`owner`, `source`, `target`, `result`, …), never values
 * pasted into sentences. Fields named like credentials are redacted; every string, message and error stack is
 * scrubbed with {@link scrubText}.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const { secrets } = options;
  return pino(
    {
      name: 'scanner-worker',
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['password', 'token', 'authorization', '*.password', '*.token', '*.authorization', '*.headers.authorization'], censor: '[redacted]' },
      serializers: {
        err(error: unknown) {
          const plain = error instanceof Error ? pino.stdSerializers.err(error) : { message: String(error) };
          return scrubValue(plain, secrets(), 6);
        },
      },
      formatters: {
        log: (object) => scrubValue(object, secrets(), 6) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const list = secrets();
          const cleaned = args.map((arg) => (typeof arg === 'string' ? scrubText(arg, list) : arg)) as Parameters<typeof method>;
          method.apply(this, cleaned);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
