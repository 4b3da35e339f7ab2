import type { Cache, CacheCallOptions, CacheSetOptions } from '@scanner/registry';
import { Redis } from 'ioredis';
import { checkTtlMs, decodeValue, encodeValue, quote } from './codec.ts';
import { RedisCacheError } from './errors.ts';

/** Options of {@link createRedisCache}. */
export interface RedisCacheOptions {
  /**
   * An ioredis client to use as it is: the cache neither changes its options nor closes it. Give either
   * `client` or `url`.
   */
  client?: Redis;
  /**
   * Where Redis listens, e.g. `redis://:password@cache.internal:6379/2` (`rediss:` for TLS). The cache creates
   * its client from it on first use and quits it on `close()`.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * Names this cache's keyspace, the one prefix of its keys: keys are stored as `${namespace}:${key}`, e.g. the
   * scanner's `scanner:v1:tags:ghcr.io/org/app`. Give each tool or deployment sharing a Redis its own.
   * @default 'scanner'
   */
  namespace?: string;
  /**
   * Extra text put before the namespace (`${keyPrefix}${namespace}:${key}`), for a deployment that groups several
   * namespaces under one prefix (the worker's `redisPrefix`). Most callers leave it empty.
   * @default ''
   */
  keyPrefix?: string;
  /**
   * How long one command may take before the call rejects with code `timeout`.
   * @default 1000
   */
  commandTimeoutMs?: number;
  /**
   * How long connecting may take before the call rejects with code `timeout`.
   * @default 2000
   */
  connectTimeoutMs?: number;
  /**
   * Longest wait between two reconnection attempts of a client the cache created; attempts start at 50 ms
   * and double up to this.
   * @default 2000
   */
  maxReconnectDelayMs?: number;
}

/** A {@link Cache} stored in Redis. Also `await using cache = createRedisCache(…)`, which calls `close()`. */
export interface RedisCache extends Cache, AsyncDisposable {
  /** Quits the client the cache created (an injected client is left open); later calls reject with code `closed`. Idempotent. */
  close(): Promise<void>;
}

/** The name a client created by the cache gives itself, visible in Redis's `CLIENT LIST`. */
export const REDIS_CACHE_CONNECTION_NAME = 'scanner-cache';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/**
 * A cache in Redis, on ioredis. Nothing connects until the first call; concurrent first calls share one
 * connection attempt. TTLs are kept by Redis (`SET … PX`).
 *
 * While Redis is unreachable, calls reject promptly with code `unavailable` (or `timeout`) instead of queueing,
 * so a caller that treats a rejection as a miss keeps going; the client reconnects in the background and the
 * same cache works again once Redis is back.
 *
 * @example
 * const cache = createRedisCache({ url: process.env.REDIS_URL }); // keys: scanner:<key>
 * await cache.set('tags:docker.io/library/nginx', ['1.27', '1.28'], { ttlMs: 60_000 });
 * await cache.close();
 */
export function createRedisCache(options: RedisCacheOptions = {}): RedisCache {
  const keyPrefix = checkString(options.keyPrefix ?? '', 'keyPrefix', true);
  const namespace = checkString(options.namespace ?? 'scanner', 'namespace', false);
  const commandTimeoutMs = checkPositive(options.commandTimeoutMs ?? 1_000, 'commandTimeoutMs');
  const connectTimeoutMs = checkPositive(options.connectTimeoutMs ?? 2_000, 'connectTimeoutMs');
  const maxReconnectDelayMs = checkPositive(options.maxReconnectDelayMs ?? 2_000, 'maxReconnectDelayMs');
  if (options.client !== undefined && options.url !== undefined) {
    throw new RedisCacheError('config', 'give either client or url, not both');
  }
  const injected = options.client;
  const url = options.url ?? DEFAULT_URL;
  const target = injected === undefined ? checkUrl(url) : undefined;
  const server = target?.server ?? `${injected?.options.host ?? '127.0.0.1'}:${injected?.options.port ?? 6379}`;
  // The database is selected by us after connecting (not by ioredis from the url), so a number the server
  // does not have fails the calls with what Redis said instead of silently using database 0.
  const database = target?.database ?? 0;
  let refusedDatabase: RedisCacheError | undefined;
  const prefix = `${keyPrefix}${namespace}:`;
  const tls = injected === undefined ? url.startsWith('rediss:') : injected.options.tls !== undefined;

  let created: Redis | undefined;
  let connecting: Promise<void> | undefined;
  let lastError: Error | undefined;
  let closing: Promise<void> | undefined;

  function client(): Redis {
    if (injected !== undefined) return injected;
    created ??= createClient();
    return created;
  }

  function createClient(): Redis {
    const redis = new Redis(target?.withoutDatabase ?? url, {
      lazyConnect: true,
      // Fail calls while disconnected instead of queueing them until Redis returns: a cache miss is cheaper.
      enableOfflineQueue: false,
      // Reject commands in flight when the connection drops, and never replay them on reconnect.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: commandTimeoutMs,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(25 * 2 ** Math.min(attempt, 16), maxReconnectDelayMs),
      connectionName: REDIS_CACHE_CONNECTION_NAME,
    });
    // Without a listener ioredis prints every failed reconnection attempt; the calls report failures instead.
    redis.on('error', (error: Error) => {
      lastError = error;
    });
    return redis;
  }

  /**
   * `redis.connect()`, but rejecting with what Redis or TLS said rather than ioredis's "Connection is closed":
   * a refused AUTH (`WRONGPASS`) or a failed handshake is emitted as an `error` event just before the close.
   */
  async function connectReporting(redis: Redis): Promise<void> {
    let said: Error | undefined;
    const listen = (error: Error): void => {
      said ??= error;
    };
    redis.on('error', listen);
    try {
      await redis.connect();
    } catch (error) {
      // ioredis emits the reason on the next turns of the event loop after rejecting.
      await new Promise((resolve) => setImmediate(resolve));
      throw said ?? lastError ?? error;
    } finally {
      redis.off('error', listen);
    }
    if (database !== 0) await selectDatabase(redis);
  }

  /** `SELECT database`; ioredis then re-selects it on every reconnection. A refusal closes the client for good. */
  async function selectDatabase(redis: Redis): Promise<void> {
    try {
      await redis.select(database);
    } catch (error) {
      const said = error instanceof Error ? error.message : String(error);
      const hint = 'use a database number the server has (0 to 15 on a default Redis, see its `databases` setting)';
      refusedDatabase = new RedisCacheError('config', `Redis at ${server} refused database ${database} of the url: it answered "${said}"`, {
        cause: error,
        hints: { library: hint, config: hint, cli: hint },
      });
      redis.disconnect();
      throw refusedDatabase;
    }
  }

  /** Resolves once the client can take commands, or rejects at once when Redis is known to be down. */
  async function ready(redis: Redis, operation: string, signal: AbortSignal | undefined): Promise<void> {
    switch (redis.status) {
      case 'ready':
        return;
      case 'wait': {
        const attempt = connectReporting(redis);
        connecting = attempt;
        // A failed first attempt leaves ioredis retrying by itself; later calls then see `reconnecting`.
        attempt.catch(() => undefined).finally(() => {
          if (connecting === attempt) connecting = undefined;
        });
        await bound(attempt, { operation, timeoutMs: connectTimeoutMs, what: 'connectTimeoutMs', signal });
        return;
      }
      case 'connecting':
      case 'connect':
        await bound(connecting ?? untilReady(redis), { operation, timeoutMs: connectTimeoutMs, what: 'connectTimeoutMs', signal });
        return;
      default: {
        // While reconnecting, the last thing Redis or TLS said is the reason (a refused password stays refused).
        const reason = lastError ?? new Error(`connection status is ${redis.status}`);
        const said = toCacheError(reason, operation, 'connectTimeoutMs', connectTimeoutMs);
        throw said.code === 'auth_failed' || said.code === 'tls' ? said : unavailable(operation, reason);
      }
    }
  }

  async function run<T>(operation: string, signal: AbortSignal | undefined, command: (redis: Redis) => Promise<T>): Promise<T> {
    if (closing !== undefined) throw new RedisCacheError('closed', `${operation}() was called after close(); create a new cache`);
    throwIfAborted(operation, signal);
    if (refusedDatabase !== undefined) throw refusedDatabase;
    const redis = client();
    await ready(redis, operation, signal);
    return bound(command(redis), { operation, timeoutMs: commandTimeoutMs, what: 'commandTimeoutMs', signal });
  }

  /** Races `promise` against a timeout and the signal, and turns ioredis failures into our errors. */
  async function bound<T>(promise: Promise<T>, { operation, timeoutMs, what, signal }: { operation: string; timeoutMs: number; what: string; signal: AbortSignal | undefined }): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guards = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(timeoutError(operation, what, timeoutMs));
      }, timeoutMs);
      if (signal?.aborted) {
        reject(abortedError(operation, signal));
      } else if (signal !== undefined) {
        onAbort = () => { reject(abortedError(operation, signal)); };
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    // The command may still settle after we gave up on it; its outcome no longer matters.
    promise.catch(() => undefined);
    try {
      return await Promise.race([promise, guards]);
    } catch (error) {
      throw toCacheError(error, operation, what, timeoutMs);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
  }

  function toCacheError(error: unknown, operation: string, what: string, timeoutMs: number): RedisCacheError {
    if (error instanceof RedisCacheError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.name === 'ReplyError') {
      if (AUTH_REPLY.test(message)) return authFailed(operation, message, error);
      return new RedisCacheError('server_error', `${operation}() failed: Redis at ${server} answered "${message}"`, { cause: error, reason: `Redis at ${server} answered "${message}"` });
    }
    if (isTlsFailure(error)) {
      return new RedisCacheError('tls', `${operation}() could not set up TLS with ${server} (${message}); if that port serves plain-text Redis, use a redis:// url, else check the server's certificate`, {
        cause: error,
        reason: `could not set up TLS with Redis at ${server} (${message})`,
        hints: { library: 'use a redis:// url for a plain-text port, rediss:// only where Redis serves TLS', config: 'use a redis:// url for a plain-text port, rediss:// only where Redis serves TLS', cli: 'use redis:// for a plain-text port, rediss:// only where Redis serves TLS' },
      });
    }
    if (/timed? ?out/i.test(message)) {
      // ioredis's own commandTimeout or connectTimeout, which race ours.
      return timeoutError(operation, what, timeoutMs, error);
    }
    return unavailable(operation, error);
  }

  function authFailed(operation: string, said: string, cause: unknown): RedisCacheError {
    const what = said.startsWith('NOAUTH')
      ? 'requires a password the url does not give'
      : 'refused the credentials of the url';
    const hint = 'put the right password (and ACL user) in the url: redis://[user]:PASSWORD@host:port';
    return new RedisCacheError('auth_failed', `${operation}() failed: Redis at ${server} ${what}: it answered "${said}"`, {
      cause,
      reason: `Redis at ${server} ${what}: it answered "${said}"`,
      hints: { library: hint, config: hint, cli: hint },
    });
  }

  function timeoutError(operation: string, what: string, timeoutMs: number, cause?: unknown): RedisCacheError {
    // A rediss:// client talking to a plain-text port waits for a handshake that never comes.
    const tlsHint = tls && what === 'connectTimeoutMs' ? `; no TLS handshake completed — if ${server} serves plain-text Redis, use a redis:// url` : '';
    const plainText = tlsHint === '' ? '' : `if ${server} serves plain-text Redis, use a redis:// url; `;
    return new RedisCacheError(
      'timeout',
      `${operation}() got no answer from Redis at ${server} within ${what} (${timeoutMs})${tlsHint}; check Redis's health or raise ${what}`,
      {
        ...(cause === undefined ? {} : { cause }),
        // The option names are the library's: the reason and the other audiences' hints go without them.
        reason: `got no answer from Redis at ${server} within ${timeoutMs} ms${tls && what === 'connectTimeoutMs' ? '; no TLS handshake completed' : ''}`,
        hints: {
          library: `${plainText}check Redis's health or raise ${what}`,
          config: `${plainText}check Redis's health`,
          cli: `${plainText}check Redis's health`,
        },
      },
    );
  }

  function unavailable(operation: string, cause: unknown): RedisCacheError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new RedisCacheError(
      'unavailable',
      `${operation}() could not reach Redis at ${server} (${reason}); start Redis or fix the url — the cache reconnects by itself`,
      {
        cause,
        reason: `could not reach Redis at ${server} (${reason})`,
        hints: { library: 'start Redis or fix the url — the cache reconnects by itself', config: 'start Redis or fix the url', cli: 'start Redis or fix the --cache url' },
      },
    );
  }

  return {
    namespace,

    async get<T = unknown>(key: string, { signal }: CacheCallOptions = {}): Promise<T | undefined> {
      const json = await run('get', signal, (redis) => redis.get(prefix + key));
      if (json === null) return undefined;
      try {
        return decodeValue(json) as T;
      } catch (error) {
        throw new RedisCacheError('invalid_response', `the value under key ${quote(prefix + key)} is not JSON written by this cache; delete it or use another namespace`, { cause: error });
      }
    },

    async set(key: string, value: unknown, { ttlMs, signal }: CacheSetOptions = {}): Promise<void> {
      // Checked before touching Redis, so bad input fails the same way whether Redis is up or not.
      const ttl = ttlMs === undefined ? undefined : checkTtlMs(ttlMs, 'ttlMs');
      const json = encodeValue(value);
      await run('set', signal, (redis) => (ttl === undefined ? redis.set(prefix + key, json) : redis.set(prefix + key, json, 'PX', ttl)));
    },

    async delete(key: string, { signal }: CacheCallOptions = {}): Promise<void> {
      await run('delete', signal, (redis) => redis.del(prefix + key));
    },

    [Symbol.asyncDispose](): Promise<void> {
      return this.close();
    },

    close(): Promise<void> {
      closing ??= (async () => {
        const redis = created;
        if (redis === undefined) return;
        if (redis.status === 'ready') {
          // QUIT lets Redis finish what it has; if it does not answer in time, drop the socket anyway.
          await bound(redis.quit(), { operation: 'close', timeoutMs: commandTimeoutMs, what: 'commandTimeoutMs', signal: undefined }).catch(() => undefined);
        }
        // Also stops a pending reconnection timer, which would otherwise keep the process alive.
        redis.disconnect();
      })();
      return closing;
    },
  };
}

/** Redis's answers to a missing or refused AUTH (Redis 6+ `WRONGPASS`, older `ERR invalid password`). */
const AUTH_REPLY = /^(WRONGPASS|NOAUTH|ERR invalid password|ERR AUTH|ERR Client sent AUTH|ERR invalid username-password)/;

function isTlsFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (typeof code === 'string' && /^ERR_SSL|^ERR_TLS|^EPROTO$|CERT|SELF_SIGNED|UNABLE_TO_/.test(code)) || /before secure TLS connection|SSL routines|wrong version number/i.test(message);
}

/** Resolves on the client's next `ready`, rejects if its connection attempt closes first. */
function untilReady(redis: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      redis.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      redis.off('ready', onReady);
      reject(new Error('the connection closed while connecting'));
    };
    redis.once('ready', onReady);
    redis.once('close', onClose);
  });
}

function throwIfAborted(operation: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(operation, signal);
}

function abortedError(operation: string, signal: AbortSignal): RedisCacheError {
  // A command already sent is not undone: an aborted set may still have been stored.
  return new RedisCacheError('aborted', `${operation}() was aborted`, { cause: signal.reason });
}

function checkString(value: unknown, name: string, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '')) {
    throw new RedisCacheError('config', `${name} must be a${allowEmpty ? '' : ' non-empty'} string, got ${quote(value)}`);
  }
  return value;
}

function checkPositive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new RedisCacheError('config', `${name} must be a positive integer number of milliseconds, got ${quote(value)}`);
  }
  return value;
}

/**
 * Validates the URL and answers `host:port` for messages (which never carry its credentials), the database
 * number of its path (`/2`; none is 0) and the URL without that path, for ioredis.
 */
function checkUrl(url: unknown): { server: string; database: number; withoutDatabase: string } {
  if (typeof url !== 'string') throw new RedisCacheError('config', `url must be a string, got ${quote(url)}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new RedisCacheError('config', `url ${quote(redact(url))} is not a URL; expected e.g. redis://127.0.0.1:6379`, { cause: error });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisCacheError('config', `url ${quote(redact(url))} must start with redis:// or rediss://`);
  }
  const path = /^\/?(\d{0,9})$/.exec(parsed.pathname);
  if (path === null) {
    throw new RedisCacheError('config', `the path of url ${quote(redact(url))} is not a database number; end the url in one, as in redis://host:6379/0, or leave the path out`, {
      hints: { library: 'end the url in a database number such as /0, or leave the path out', config: 'end the url in a database number such as /0, or leave the path out', cli: 'end the url in a database number such as /0, or leave the path out' },
    });
  }
  const database = Number(path[1] ?? '');
  parsed.pathname = '';
  return { server: `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`, database, withoutDatabase: parsed.href };
}

function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}
