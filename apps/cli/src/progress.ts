// The progress display of `scanner sync`, driven by the sync's events: one line per team and target, animated
// by listr2 on a terminal; plain lines, one per finished tag, when stderr is not a terminal or CI is set.
import { WriteStream } from 'node:tty';
import type { Plan, PlanItem, SyncEvent, SyncItem } from '@scanner/sync';
import type { ListrDefaultRendererLogLevels } from 'listr2';
import type { OutputStream } from './main.ts';
import { formatBytes } from './mirror-output.ts';

const CURSOR_SHOW = '\u001B[?25h';

/** How progress is shown: `animated` (listr2, a terminal), `plain` (a line per finished tag), `none`. */
export type ProgressMode = 'animated' | 'plain' | 'none';

/** A progress display for one sync run. */
export interface SyncProgress {
  /** Give every event of the run here. */
  readonly onEvent: (event: SyncEvent) => void;
  /** Ends the display (after the sync returned); safe to call twice. */
  finish(): Promise<void>;
}

/**
 * `auto` chooses `animated` when `stream` is a terminal and `CI` is not set, else `plain`. `plain` and `none`
 * are kept as asked.
 */
export function progressMode(wanted: 'auto' | 'plain' | 'none', stream: OutputStream, env: Readonly<Record<string, string | undefined>>): ProgressMode {
  if (wanted !== 'auto') return wanted;
  // A terminal that reports no width (some CI pseudo-terminals) would get one character per line.
  const tty = stream instanceof WriteStream && stream.isTTY && stream.columns > 0;
  const ci = env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false' && env['CI'] !== '0';
  return tty && !ci ? 'animated' : 'plain';
}

/** One team at one target: what the display counts. */
interface Lane {
  readonly owner: string;
  readonly targetName: string;
  /** Items that copy or update (skips are done without work). */
  readonly total: number;
  /** Target reference → result of the last attempt (a failed item is tried again at the end of the run). */
  readonly results: Map<string, SyncItem['result']>;
  readonly finished: Promise<void>;
  readonly finish: () => void;
}

function laneKey(item: Pick<PlanItem, 'owner' | 'targetName'>): string {
  return `${item.owner}\u0000${item.targetName}`;
}

function createLanes(plan: Plan): Map<string, Lane> {
  const lanes = new Map<string, Lane>();
  for (const item of plan.items) {
    if (item.action === 'skip') continue;
    const key = laneKey(item);
    const known = lanes.get(key);
    let resolve: () => void = () => undefined;
    const finished = new Promise<void>((done) => (resolve = done));
    lanes.set(key, known === undefined ? { owner: item.owner, targetName: item.targetName, total: 1, results: new Map(), finished, finish: resolve } : { ...known, total: known.total + 1 });
  }
  return lanes;
}

function failedCount(lane: Lane): number {
  return [...lane.results.values()].filter((result) => result === 'failed').length;
}

function laneTitle(lane: Lane, targetBytes: number): string {
  const failed = failedCount(lane);
  const failures = failed === 0 ? '' : `, ${failed} failed`;
  // Blobs are shared by every team's images at a target, so bytes are counted per target.
  const bytes = targetBytes === 0 ? '' : ` (${formatBytes(targetBytes)} sent to ${lane.targetName})`;
  return `${lane.owner} → ${lane.targetName}: ${lane.results.size}/${lane.total} tags${failures}${bytes}`;
}

function itemLine(item: SyncItem, durationMs: number): string {
  const error = item.error === null ? '' : `: ${item.error.code}: ${item.error.message}`;
  return `${item.result} ${item.target} (${item.owner} → ${item.targetName}, ${Math.round(durationMs)} ms)${error}`;
}

/** Plain lines: no escape codes, one line when a tag is done, so logs of CI runs read well. */
function plainProgress(plan: Plan, stream: OutputStream): SyncProgress {
  const work = plan.items.filter((item) => item.action !== 'skip').length;
  const skipped = plan.items.length - work;
  stream.write(`scanner: syncing ${work} tag${work === 1 ? '' : 's'} (${skipped} already there)\n`);
  const seen = new Set<string>();
  return {
    onEvent(event) {
      if (event.type !== 'item_done' || event.item.result === 'skipped') return;
      // A failed item is tried once more at the end of the run: its second line says so.
      const again = seen.has(event.item.target);
      seen.add(event.item.target);
      stream.write(`scanner: [${again ? 'retry' : `${seen.size}/${work}`}] ${itemLine(event.item, event.durationMs)}\n`);
    },
    finish: () => Promise.resolve(),
  };
}

/**
 * The animated display: a listr2 task per team and target that ends when its last tag is done. listr2 draws
 * on `stream` (stderr) and holds other writes to it until the end, so diagnostics never tear the display.
 */
async function animatedProgress(plan: Plan, terminal: WriteStream): Promise<SyncProgress> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const lanes = createLanes(plan);
  const bytesByTarget = new Map<string, number>();
  const title = (lane: Lane): string => laneTitle(lane, bytesByTarget.get(lane.targetName) ?? 0);
  const tasks = [...lanes.values()].map((lane) => ({
    title: title(lane),
    task: async (_context: unknown, task: { title: string; output: string }) => {
      const update = setInterval(() => {
        task.title = title(lane);
      }, 100);
      try {
        await lane.finished;
      } finally {
        clearInterval(update);
      }
      task.title = title(lane);
      const failed = failedCount(lane);
      if (failed > 0) throw new Error(`${failed} of ${lane.total} tags failed`);
    },
  }));
  const list = new Listr(tasks, {
    concurrent: true,
    exitOnError: false,
    registerSignalListeners: false,
    renderer: 'default',
    rendererOptions: { logger: new ListrLogger<ListrDefaultRendererLogLevels>({ processOutput: new ProcessOutput(terminal, terminal) }), collapseErrors: false },
  });
  // listr2 draws through log-update, whose cursor handling (restore-cursor → signal-exit) re-raises SIGINT and
  // kills the process (exit 130, cursor hidden, no report) whenever only its own listeners are left, as they are
  // once the command's Ctrl-C handler (`process.once` in bin.ts) has run. A listener of ours while the display
  // runs lets the first Ctrl-C stop the sync cleanly (the report follows); a second one ends the process with
  // the cursor shown.
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts++;
    if (interrupts < 2) return;
    terminal.write(CURSOR_SHOW);
    process.exit(130);
  };
  process.on('SIGINT', onInterrupt);
  const running = list.run().catch(() => undefined);
  return {
    onEvent(event) {
      if (event.type === 'blob') {
        bytesByTarget.set(event.targetName, (bytesByTarget.get(event.targetName) ?? 0) + event.bytes);
        return;
      }
      if (event.type !== 'item_done' || event.item.result === 'skipped') return;
      const lane = lanes.get(laneKey(event.item));
      if (lane === undefined) return;
      lane.results.set(event.item.target, event.item.result);
      // The display waits for the retries of failed items: the run's end finishes it.
      if (lane.results.size >= lane.total && failedCount(lane) === 0) lane.finish();
    },
    async finish() {
      // Items the sync never reported (an aborted run) must not leave the display waiting.
      for (const lane of lanes.values()) lane.finish();
      try {
        await running;
      } finally {
        process.removeListener('SIGINT', onInterrupt);
        terminal.write(CURSOR_SHOW);
      }
    },
  };
}

/** The progress display for a sync of `plan` on `stream`. */
export async function createSyncProgress(plan: Plan, mode: ProgressMode, stream: OutputStream): Promise<SyncProgress> {
  if (mode === 'none') return { onEvent: () => undefined, finish: () => Promise.resolve() };
  // Only a terminal can be drawn on; anything else gets plain lines.
  if (mode === 'plain' || !(stream instanceof WriteStream)) return plainProgress(plan, stream);
  return animatedProgress(plan, stream);
}
