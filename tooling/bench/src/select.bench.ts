// Ranks 100,000 generated tags under the policies a scan uses and prints a markdown table.
// Run: `pnpm --filter @scanner/bench bench -- select` (Node 24, `--conditions=@scanner/source --expose-gc`).
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Tag } from '@scanner/tag';
import type { Candidate, PolicyInput } from '@scanner/version';
import { parsePolicy, rankTags, selectTags } from '@scanner/version';

const TAG_COUNT = 100_000;
// V8 keeps re-optimising the ranking code for the first ~20 runs; the first run is reported on its own.
const WARMUP_RUNS = 10;
const RUNS = 21;
const MiB = 1024 * 1024;

// mulberry32: a tiny seeded PRNG, so every run ranks the same tags.
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generateTags(count: number): Tag[] {
  const random = createRandom(0x5eed);
  const int = (max: number): number => Math.floor(random() * max);
  const hex = (length: number): string => Array.from({ length }, () => '0123456789abcdef'.charAt(int(16))).join('');
  const version = (): string => `${int(60)}.${int(30)}.${int(50)}`;
  const date = (): string => {
    const day = new Date(Date.UTC(2019, 0, 1) + int(6 * 365) * 86_400_000);
    return day.toISOString().slice(0, 10);
  };
  const makers: readonly (readonly [number, () => string])[] = [
    [30, () => version()],
    [20, () => `v${version()}`],
    [8, () => `${random() < 0.5 ? 'v' : ''}${version()}-${['rc', 'beta', 'alpha'][int(3)] ?? 'rc'}.${int(10)}`],
    [6, () => `${int(60)}.${int(30)}`],
    [14, () => `main-${hex(7)}`],
    [6, () => `pr-${int(5000)}-${hex(7)}`],
    [6, () => date()],
    [4, () => `${date().replaceAll('-', '')}-${hex(6)}`],
    [3, () => String(1_600_000_000 + int(100_000_000))],
    [3, () => `${version()}-debian-${int(13)}-r${int(40)}`],
  ];
  const total = makers.reduce((sum, [weight]) => sum + weight, 0);
  const names = new Set<string>();
  while (names.size < count) {
    let pick = random() * total;
    for (const [weight, make] of makers) {
      pick -= weight;
      if (pick < 0) {
        names.add(make());
        break;
      }
    }
  }
  const start = Date.UTC(2019, 0, 1);
  return [...names].map((name, index) =>
    // One tag in fifty has no creation time (an artifact without a config date).
    index % 50 === 0 ? { name } : { name, createdAt: new Date(start + int(6 * 365 * 86_400) * 1000) },
  );
}

interface Scenario {
  readonly label: string;
  readonly run: () => readonly Candidate<unknown>[];
}

interface Row {
  readonly label: string;
  readonly candidates: number;
  readonly firstMs: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly medianCpuMs: number;
  readonly peakRssMiB: number;
  readonly heapUsedMiB: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function measure(scenario: Scenario): Row {
  collectGarbage();
  const firstStarted = performance.now();
  let candidates = scenario.run().length;
  const firstMs = performance.now() - firstStarted;
  for (let i = 1; i < WARMUP_RUNS; i += 1) candidates = scenario.run().length;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let heapUsed = 0;
  for (let i = 0; i < RUNS; i += 1) {
    collectGarbage();
    const cpuStarted = process.cpuUsage();
    const started = performance.now();
    const result = scenario.run();
    times.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuStarted);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    // Heap while the result is still alive: what a scan holds at its peak.
    heapUsed = Math.max(heapUsed, process.memoryUsage().heapUsed);
    candidates = result.length;
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  return {
    label: scenario.label,
    candidates,
    firstMs,
    medianMs: percentile(times, 0.5),
    p95Ms: percentile(times, 0.95),
    // CPU time of this process (all its threads, so GC helpers count): steadier than wall time on a busy machine.
    medianCpuMs: percentile(cpuTimes, 0.5),
    // maxRSS is in KiB and covers the whole process so far, including the generated tags.
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
    heapUsedMiB: heapUsed / MiB,
  };
}

const tags = generateTags(TAG_COUNT);
const names = tags.map((tag) => tag.name);
// Parsing the policy inside each run counts compiling the range and matchers, as a cold scan would.
const byName = (policy: PolicyInput) => () => rankTags(names, parsePolicy(policy));
const byTag = (policy: PolicyInput) => () => selectTags(tags, parsePolicy(policy));

const scenarios: readonly Scenario[] = [
  { label: 'semver `>=1.0, <50.0` (rankTags)', run: byName({ strategy: 'semver', constraint: '>=1.0, <50.0' }) },
  { label: 'semver `>=1.0, <50.0`, strict: false, prereleases (rankTags)', run: byName({ strategy: 'semver', constraint: '>=1.0, <50.0', strict: false, prereleases: true }) },
  { label: 'semver `^12.3`, ignoreTags `*-debian-*` (rankTags)', run: byName({ strategy: 'semver', constraint: '^12.3', ignoreTags: ['*-debian-*'] }) },
  { label: 'semver `>=1.0, <50.0`, limit 5 (selectTags)', run: byTag({ strategy: 'semver', constraint: '>=1.0, <50.0', limit: 5 }) },
  { label: 'alphabetical (rankTags)', run: byName({ strategy: 'alphabetical' }) },
  { label: 'numerical (rankTags)', run: byName({ strategy: 'numerical' }) },
  { label: 'newest-build (selectTags)', run: byTag({ strategy: 'newest-build' }) },
  { label: 'newest-build, allowTags `regexp:^main-` (selectTags)', run: byTag({ strategy: 'newest-build', allowTags: ['regexp:^main-'] }) },
];

const rows = scenarios.map(measure);
const format = (value: number): string => value.toFixed(1);
const lines = [
  `Node ${process.version}, ${String(availableParallelism())} CPUs, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}; ` +
    `first run cold, then ${String(RUNS)} measured runs after ${String(WARMUP_RUNS)} warm-up runs; each run parses the policy and ranks ${TAG_COUNT.toLocaleString('en-US')} tags`,
  '',
  '| policy | tags | candidates | first run ms | median ms | p95 ms | median CPU ms | peak RSS MiB | heap used MiB |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (row) =>
      `| ${row.label} | ${TAG_COUNT.toLocaleString('en-US')} | ${row.candidates.toLocaleString('en-US')} | ${format(row.firstMs)} | ${format(row.medianMs)} | ${format(row.p95Ms)} | ${format(row.medianCpuMs)} | ${format(row.peakRssMiB)} | ${format(row.heapUsedMiB)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
