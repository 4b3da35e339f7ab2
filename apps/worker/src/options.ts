import { parseArgs } from 'node:util';
import { parseDurationMs } from '@scanner/registry';

/** Everything `scanner-worker` runs with, validated. */
export interface WorkerOptions {
  /** The mirror config directory (`targets.yaml` and team files). */
  readonly configDir: string;
  /** Where the HTTP server listens. @default { host: '127.0.0.1', port: 8080 } */
  readonly listen: { readonly host: string; readonly port: number };
  /** Redis for scale-out (BullMQ queue, shared status and scan cache); undefined runs one process in memory. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key the worker writes. @default 'scanner-worker' */
  readonly redisPrefix: string;
  /** How often an image without a cron `schedule` runs. @default 6 h */
  readonly intervalMs: number;
  /** Jobs this process runs at once. @default 4 */
  readonly concurrency: number;
  /** Jobs at once per target registry (across replicas) when the registries config gives no `concurrency`. @default 2 */
  readonly registryConcurrency: number;
  /** How long running copies may go on after SIGTERM before they are aborted and handed back. @default 25 s */
  readonly gracePeriodMs: number;
  /** BullMQ job lock: a dead replica's job is taken over after about this long. @default 30 s */
  readonly jobLockMs: number;
  /** Quiet time after a change in the config directory before it is read again. @default 500 ms */
  readonly reloadDebounceMs: number;
  /** Lifetime of scan cache entries the sync engine stores without one (Redis runs with `noeviction`). @default 24 h */
  readonly cacheTtlMs: number;
  /** The registries config file (endpoints, credentials, limits, source mirrors), as for the CLI. */
  readonly registriesConfig: string | undefined;
  /** Allow plain HTTP and skip TLS verification for every registry (tests, labs). @default false */
  readonly insecure: boolean;
  /** pino level. @default 'info' */
  readonly logLevel: string;
  /** Bearer token of `POST /api/sync`; only from the environment (a flag would show in `ps`). */
  readonly triggerToken: string | undefined;
}

/** A bad flag or environment variable; the message names it and says what is expected. */
export class WorkerOptionsError extends Error {
  override readonly name = 'WorkerOptionsError';
}

/** The usage text of `scanner-worker --help`. */
export const USAGE = `Usage: scanner-worker --config DIR [options]

Mirrors the images of a mirror config directory into its target registries, on a schedule, with a status
page and metrics. Every flag can also be set in the environment (flag wins).

  --config DIR                  config directory: targets.yaml and one file per team   SCANNER_CONFIG
  --listen HOST:PORT            HTTP address (127.0.0.1:8080; 0.0.0.0:8080 in a pod)    SCANNER_LISTEN
  --redis URL                   Redis for several replicas (redis://[:password@]host:port/db)
                                without it: one process, in-memory queue                 SCANNER_REDIS_URL
  --redis-prefix PREFIX         prefix of the worker's Redis keys (scanner-worker)      SCANNER_REDIS_PREFIX
  --interval DURATION           run every image this often (6h); a team file or image
                                may set a cron 'schedule' instead                       SCANNER_INTERVAL
  --concurrency N               jobs this process runs at once (4)                      SCANNER_CONCURRENCY
  --registry-concurrency N      jobs per target registry, across replicas, unless the
                                registries config sets 'concurrency' (2)                SCANNER_REGISTRY_CONCURRENCY
  --grace-period DURATION       on SIGTERM, let running copies finish this long (25s)   SCANNER_GRACE_PERIOD
  --job-lock DURATION           Redis job lock; a dead replica's job moves on after it (30s)  SCANNER_JOB_LOCK
  --reload-debounce DURATION    wait this long after a config change (500ms)            SCANNER_RELOAD_DEBOUNCE
  --cache-ttl DURATION          lifetime of scan cache entries (24h)                    SCANNER_CACHE_TTL
  --registries-config FILE      registries config (endpoints, credentials, limits)      SCANNER_REGISTRIES_CONFIG
  --insecure                    allow plain HTTP and skip TLS verification              SCANNER_INSECURE=true
  --log-level LEVEL             fatal, error, warn, info, debug, trace (info)           SCANNER_LOG_LEVEL
  -h, --help                    this text
                                POST /api/sync is on when SCANNER_TRIGGER_TOKEN is set (environment only)

Docker credentials come from DOCKER_CONFIG/config.json as for the scanner CLI.
Signals: SIGHUP reloads the config; SIGTERM/SIGINT stop taking work and shut down within the grace period.`;

const FLAGS = {
  config: { type: 'string' },
  listen: { type: 'string' },
  redis: { type: 'string' },
  'redis-prefix': { type: 'string' },
  interval: { type: 'string' },
  concurrency: { type: 'string' },
  'registry-concurrency': { type: 'string' },
  'grace-period': { type: 'string' },
  'job-lock': { type: 'string' },
  'reload-debounce': { type: 'string' },
  'cache-ttl': { type: 'string' },
  'registries-config': { type: 'string' },
  insecure: { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** What {@link parseWorkerOptions} found: options to run with, or a request for help. */
export type ParsedCommand = { readonly kind: 'run'; readonly options: WorkerOptions } | { readonly kind: 'help' };

/**
 * Reads flags, then the `SCANNER_*` environment for what no flag set, then defaults.
 *
 * @throws WorkerOptionsError naming the flag (and its variable) for a missing or invalid value.
 */
export function parseWorkerOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedCommand {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new WorkerOptionsError(`scanner-worker: ${error instanceof Error ? error.message : String(error)}; see --help`);
  }
  if (values.help === true) return { kind: 'help' };

  const pick = (flag: keyof typeof FLAGS, variable: string): { value: string; from: string } | undefined => {
    const fromFlag = values[flag];
    if (typeof fromFlag === 'string') return { value: fromFlag, from: `--${flag}` };
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv === '' ? undefined : { value: fromEnv, from: variable };
  };
  const duration = (flag: keyof typeof FLAGS, variable: string, fallbackMs: number, minMs: number): number => {
    const raw = pick(flag, variable);
    if (raw === undefined) return fallbackMs;
    const ms = parseDurationMs(raw.value);
    if (ms === undefined || ms < minMs) {
      throw new WorkerOptionsError(`scanner-worker: ${raw.from} ${JSON.stringify(raw.value)} is not a duration of at least ${minMs} ms; write e.g. 90s, 15m, 6h, 1h30m`);
    }
    return ms;
  };
  const count = (flag: keyof typeof FLAGS, variable: string, fallback: number): number => {
    const raw = pick(flag, variable);
    if (raw === undefined) return fallback;
    const value = Number(raw.value);
    if (!/^\d+$/.test(raw.value) || value < 1 || value > 1000) throw new WorkerOptionsError(`scanner-worker: ${raw.from} ${JSON.stringify(raw.value)} must be a whole number from 1 to 1000`);
    return value;
  };

  const config = pick('config', 'SCANNER_CONFIG');
  if (config === undefined) throw new WorkerOptionsError('scanner-worker: --config DIR (or SCANNER_CONFIG) is required: the directory holding targets.yaml and the team files');

  const listenRaw = pick('listen', 'SCANNER_LISTEN');
  const listen = parseListen(listenRaw?.value ?? '127.0.0.1:8080', listenRaw?.from ?? '--listen');

  const redis = pick('redis', 'SCANNER_REDIS_URL');
  if (redis !== undefined && !/^rediss?:\/\//.test(redis.value)) {
    throw new WorkerOptionsError(`scanner-worker: ${redis.from} must be a redis:// or rediss:// URL, e.g. redis://redis:6379/0`);
  }
  const level = pick('log-level', 'SCANNER_LOG_LEVEL')?.value ?? 'info';
  if (!LEVELS.has(level)) throw new WorkerOptionsError(`scanner-worker: log level ${JSON.stringify(level)} is not one of ${[...LEVELS].join(', ')}`);
  const insecureEnv = booleanVariable('SCANNER_INSECURE', env['SCANNER_INSECURE']);
  const token = env['SCANNER_TRIGGER_TOKEN'];
  if (token !== undefined && token !== '' && token.length < 16) {
    throw new WorkerOptionsError('scanner-worker: SCANNER_TRIGGER_TOKEN must be at least 16 characters (e.g. openssl rand -hex 24)');
  }

  return {
    kind: 'run',
    options: {
      configDir: config.value,
      listen,
      redisUrl: redis?.value,
      redisPrefix: pick('redis-prefix', 'SCANNER_REDIS_PREFIX')?.value ?? 'scanner-worker',
      intervalMs: duration('interval', 'SCANNER_INTERVAL', 6 * 3_600_000, 1_000),
      concurrency: count('concurrency', 'SCANNER_CONCURRENCY', 4),
      registryConcurrency: count('registry-concurrency', 'SCANNER_REGISTRY_CONCURRENCY', 2),
      gracePeriodMs: duration('grace-period', 'SCANNER_GRACE_PERIOD', 25_000, 0),
      jobLockMs: duration('job-lock', 'SCANNER_JOB_LOCK', 30_000, 1_000),
      reloadDebounceMs: duration('reload-debounce', 'SCANNER_RELOAD_DEBOUNCE', 500, 0),
      cacheTtlMs: duration('cache-ttl', 'SCANNER_CACHE_TTL', 24 * 3_600_000, 1_000),
      registriesConfig: pick('registries-config', 'SCANNER_REGISTRIES_CONFIG')?.value,
      insecure: values.insecure === true || insecureEnv,
      logLevel: level,
      triggerToken: token === undefined || token === '' ? undefined : token,
    },
  };
}


const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no', '']);

/** A yes/no variable: `true`/`false`, `1`/`0`, `yes`/`no` (any case); unset or empty is false; anything else is an error. */
function booleanVariable(name: string, value: string | undefined): boolean {
  const word = (value ?? '').trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new WorkerOptionsError(`scanner-worker: ${name} ${JSON.stringify(value)} must be true or false (also 1/0, yes/no)`);
}

function parseListen(text: string, from: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || port > 65_535) throw new WorkerOptionsError(`scanner-worker: ${from} ${JSON.stringify(text)} must be HOST:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080`);
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}
