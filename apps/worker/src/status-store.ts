import type { Redis } from 'ioredis';

/** A tag that could not be mirrored, with why. */
export interface FailedTag {
  readonly tag: string;
  readonly code: string;
  /** One line, free of credentials (the registry and sync packages scrub their messages). */
  readonly message: string;
}

/**
 * What the worker knows about one (image, target) from its latest run. Tags are target tag names. Stored as
 * JSON (in memory, or in Redis for every replica to read).
 */
export interface RunRecord {
  readonly imageId: string;
  readonly targetName: string;
  /** Target repository the run wrote to, e.g. `mirror.example.io/bitnami/postgresql`; undefined before a plan. */
  readonly repository: string | undefined;
  /**
   * {@link imageSelection} of the image and target this run planned under; when the config in force now gives
   * another one (a reload added a tag or a rule), the record is older than the selection and the image shows as
   * `pending` until it is planned again. Absent in records written before this field existed.
   */
  readonly selection?: string | undefined;
  /** ISO 8601. */
  readonly startedAt: string;
  /** ISO 8601; `null` while the run goes on (or when its replica died). */
  readonly finishedAt: string | null;
  /** `null` while running. */
  readonly result: 'succeeded' | 'failed' | null;
  /** Selected tags present at the target with the source's digest. */
  readonly upToDate: readonly string[];
  /** Tags the plan found missing or outdated that the run has not (yet) copied. */
  readonly missing: readonly string[];
  readonly failed: readonly FailedTag[];
  /** The run's error as a whole (source unreachable, auth), else the first failed tag's; `null` when none. */
  readonly lastError: { readonly code: string; readonly message: string } | null;
  /** ISO 8601 of the first failed run in the current streak of failed runs; `null` after a success. */
  readonly failingSince: string | null;
  /** ISO 8601 of the last run that ended with every selected tag up to date. */
  readonly lastSuccessAt: string | null;
}

/** Where run records live: per process in memory, or shared in Redis. */
export interface StatusStore {
  get(jobId: string): Promise<RunRecord | undefined>;
  put(jobId: string, record: RunRecord): Promise<void>;
  all(): Promise<ReadonlyMap<string, RunRecord>>;
}

/** Run records in this process. */
export function createMemoryStatusStore(): StatusStore {
  const records = new Map<string, RunRecord>();
  return {
    get: (id) => Promise.resolve(records.get(id)),
    put(id, record) {
      records.set(id, record);
      return Promise.resolve();
    },
    all: () => Promise.resolve(new Map(records)),
  };
}

/** Options of {@link createRedisStatusStore}. */
export interface RedisStatusStoreOptions {
  readonly connection: Redis;
  /** @default 'scanner-worker' */
  readonly prefix?: string;
  /**
   * Lifetime of the records hash, renewed on every write; Redis runs with `noeviction` for BullMQ, so every key
   * the worker writes expires. @default 30 days
   */
  readonly ttlMs?: number;
}

/** Run records in one Redis hash (`<prefix>:status`), so that every replica's status page shows every run. */
export function createRedisStatusStore(options: RedisStatusStoreOptions): StatusStore {
  const key = `${options.prefix ?? 'scanner-worker'}:status`;
  const ttlMs = options.ttlMs ?? 30 * 24 * 3_600_000;
  const { connection } = options;
  const parse = (text: string): RunRecord => JSON.parse(text) as RunRecord;
  // The shared client queues commands while disconnected (BullMQ needs that); the status page must not wait.
  const reachable = (): void => {
    if (connection.status !== 'ready') throw new Error('scanner-worker: Redis is not reachable; run records are unavailable');
  };
  return {
    async get(id) {
      reachable();
      const text = await connection.hget(key, id);
      return text === null ? undefined : parse(text);
    },
    async put(id, record) {
      reachable();
      await connection.multi().hset(key, id, JSON.stringify(record)).pexpire(key, ttlMs).exec();
    },
    async all() {
      reachable();
      const entries = await connection.hgetall(key);
      return new Map(Object.entries(entries).map(([id, text]) => [id, parse(text)]));
    },
  };
}
