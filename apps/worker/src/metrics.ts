import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The one prefix of every metric the worker exports. */
export const METRIC_PREFIX = 'scanner_worker_';

/** State read at scrape time. */
export interface MetricsSource {
  /** Tags per team, target and state (`up_to_date`, `missing`, `failed`) from the latest runs. */
  tagCounts(): Promise<readonly { readonly team: string; readonly target: string; readonly result: string; readonly count: number }[]>;
  /**
   * (image, target) pairs per team, target and state of their latest run (`failing`, `missing`, `running`,
   * `pending`, `up_to_date`, as on the status page); a target that fails as a whole (auth, time-out, plan
   * error) counts as `failing` here, while it has no tag in `tagCounts`.
   */
  imageCounts(): Promise<readonly { readonly team: string; readonly target: string; readonly result: string; readonly count: number }[]>;
  queueCounts(): Promise<{ readonly waiting: number; readonly active: number }>;
  /** Config files that are valid and invalid now. */
  configFiles(): { readonly valid: number; readonly invalid: number };
  ready(): boolean;
}

/** The worker's metrics, on a registry of its own. */
export interface WorkerMetrics {
  readonly registry: Registry;
  /** One (image, target) run ended; `result` is `succeeded` or `failed`. */
  runFinished(team: string, target: string, result: string, durationSeconds: number): void;
  /** One tag ended with a sync result (`copied`, `updated`, `skipped`, `failed`). */
  tagSynced(team: string, target: string, result: string): void;
  /** Blob bytes sent to a target. */
  bytesUploaded(team: string, target: string, bytes: number): void;
  /** A config load ended; `result` is `success` when every file was valid, else `failure`. */
  configLoaded(result: 'success' | 'failure'): void;
}

/**
 * Metrics named by the Prometheus guide: one prefix (`scanner_worker_`), base units, `_total` on counters.
 * Labels are `team`, `target` (the target's name in `targets.yaml`) and `result` only: never an image or a tag,
 * whose number is unbounded. Process metrics (memory, CPU, event loop) come with the same prefix.
 */
export function createWorkerMetrics(source: MetricsSource): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  const runs = new Counter({ name: `${METRIC_PREFIX}runs_total`, help: 'Runs of one image at one target, by result (succeeded, failed).', labelNames: ['team', 'target', 'result'], registers: [registry] });
  const runSeconds = new Histogram({
    name: `${METRIC_PREFIX}run_duration_seconds`,
    help: 'Wall time of one image at one target: plan and copy.',
    labelNames: ['team', 'target', 'result'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  const tags = new Counter({ name: `${METRIC_PREFIX}tags_synced_total`, help: 'Tags handled by runs, by sync result (copied, updated, skipped, failed).', labelNames: ['team', 'target', 'result'], registers: [registry] });
  const bytes = new Counter({ name: `${METRIC_PREFIX}uploaded_bytes_total`, help: 'Blob bytes sent to target registries.', labelNames: ['team', 'target'], registers: [registry] });
  const loads = new Counter({ name: `${METRIC_PREFIX}config_loads_total`, help: 'Loads of the config directory, by result (success: every file valid; failure: some file invalid).', labelNames: ['result'], registers: [registry] });

  new Gauge({
    name: `${METRIC_PREFIX}tags`,
    help: 'Selected tags per team and target after the latest runs, by state (up_to_date, missing, failed).',
    labelNames: ['team', 'target', 'result'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await source.tagCounts()) this.set({ team: row.team, target: row.target, result: row.result }, row.count);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}images`,
    help: 'Images per team and target by the state of their latest run (failing, missing, running, pending, up_to_date); a target failing as a whole (auth, time-out) counts as failing.',
    labelNames: ['team', 'target', 'result'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await source.imageCounts()) this.set({ team: row.team, target: row.target, result: row.result }, row.count);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}config_files`,
    help: 'Config files by result of their latest load (valid, invalid); an invalid file keeps its last valid version in force.',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const files = source.configFiles();
      this.set({ result: 'valid' }, files.valid);
      this.set({ result: 'invalid' }, files.invalid);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}queue_jobs`,
    help: 'Jobs waiting in the queue (for Redis: across every replica).',
    registers: [registry],
    async collect() {
      try {
        this.set((await source.queueCounts()).waiting);
      } catch {
        this.reset();
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}ready`,
    help: '1 when the worker can do its job (config loaded, Redis reachable when used), else 0.',
    registers: [registry],
    collect() {
      this.set(source.ready() ? 1 : 0);
    },
  });

  return {
    registry,
    runFinished(team, target, result, durationSeconds) {
      runs.inc({ team, target, result });
      runSeconds.observe({ team, target, result }, durationSeconds);
    },
    tagSynced: (team, target, result) => {
      tags.inc({ team, target, result });
    },
    bytesUploaded: (team, target, amount) => {
      if (amount > 0) bytes.inc({ team, target }, amount);
    },
    configLoaded: (result) => {
      loads.inc({ result });
    },
  };
}
