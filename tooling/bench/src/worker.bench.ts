// Soak of scanner-worker: 200 images × 2 tags × 2 targets on in-memory registries (in this process), the worker as
// its own process (from source, as `pnpm worker` runs it), so that its RSS is its own (/proc/<pid>/status).
// Measures idle RSS (config with targets only), RSS while copying the first mirror (sampled, and VmHWM), then
// NO_OP_CYCLES no-op cycles triggered through POST /api/sync: requests per cycle by method and route at the three
// registries, wall time, and RSS after each cycle (flat means no growth per cycle); then RSS after a minute idle.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryRegistry } from '@scanner/memory-registry';

const IMAGES = 200;
const IMAGES_PER_FILE = 20;
const LAYER_BYTES = 128 * 1024;
const NO_OP_CYCLES = Number(process.env['WORKER_BENCH_CYCLES'] ?? 5);
const TOKEN = randomBytes(24).toString('hex');
const BIN = join(import.meta.dirname, '../../../apps/worker/src/bin.ts');

const source = createMemoryRegistry();
const main = createMemoryRegistry();
const regional = createMemoryRegistry();
const repositories = Array.from({ length: IMAGES }, (_, index) => `team-${Math.floor(index / IMAGES_PER_FILE)}/app-${index}`);
for (const repository of repositories) {
  source.seedImage(repository, ['1.0'], { layers: [randomBytes(LAYER_BYTES)], seed: `${repository}-1.0` });
  source.seedImage(repository, ['1.1'], { layers: [randomBytes(LAYER_BYTES)], seed: `${repository}-1.1` });
}
const [sourceAddress, mainAddress, regionalAddress] = await Promise.all([source.listen(), main.listen(), regional.listen()]);

const dir = await mkdtemp(join(tmpdir(), 'worker-bench-'));
await writeFile(join(dir, 'targets.yaml'), `targets:\n  - { name: main, registry: '${mainAddress.host}' }\n  - { name: regional, registry: '${regionalAddress.host}', prefix: acme }\n`);

const child = spawn(
  process.execPath,
  // A cache TTL of 1 s stands in for the hours between real cycles: every cycle lists tags afresh.
  ['--conditions=@scanner/source', BIN, '--config', dir, '--listen', '127.0.0.1:0', '--interval', '6h', '--cache-ttl', '1s', '--concurrency', '8', '--registry-concurrency', '4', '--reload-debounce', '200ms'],
  // WORKER_BENCH_NODE_OPTIONS (e.g. --max-old-space-size=96) caps the worker's heap: a leak would then crash it.
  { env: { PATH: process.env['PATH'] ?? '', HOME: dir, SCANNER_TRIGGER_TOKEN: TOKEN, DOCKER_CONFIG: dir, NODE_OPTIONS: process.env['WORKER_BENCH_NODE_OPTIONS'] ?? '' }, stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
child.stdout.on('data', (chunk: Buffer) => {
  out += chunk.toString();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
async function procStatus(field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const text = await readFile(`/proc/${String(child.pid)}/status`, 'utf8');
  const kib = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return kib / 1024;
}
const mib = (value: number) => value.toFixed(1);
/** The worker's V8 heap in use (MiB), from its own /metrics (prom-client's default process metrics). */
async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^scanner_worker_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN) / 1024 / 1024;
}

interface Status {
  teams: { images: { targets: { state: string; lastRun: { finishedAt: string | null } | null }[] }[] }[];
}

try {
  const url = await until(() => /"msg":"worker started"/.test(out) ? (/"url":"([^"]+)"/.exec(out.slice(out.indexOf('"msg":"worker started"') - 400))?.[1] ?? undefined) : undefined, 'the worker to start', 30_000);
  const status = async (): Promise<Status> => (await (await fetch(`${url}/api/status`)).json()) as Status;
  const targetsOf = (doc: Status) => doc.teams.flatMap((team) => team.images.flatMap((image) => image.targets));
  await sleep(2_000);
  const idleRss = await procStatus('VmRSS');

  // First mirror: the team files appear; the reload queues every image.
  for (const registry of [source, main, regional]) registry.resetRequests();
  const started = Date.now();
  for (let file = 0; file < IMAGES / IMAGES_PER_FILE; file++) {
    const images = repositories
      .slice(file * IMAGES_PER_FILE, (file + 1) * IMAGES_PER_FILE)
      .map((repository) => `  - source: ${sourceAddress.host}/${repository}\n    tags: [{ names: ['1.0', '1.1'] }]\n`)
      .join('');
    await writeFile(join(dir, `team-${file}.yaml`), `owner: team-${file}\nimages:\n${images}`);
  }
  let peakSample = 0;
  await until(async () => {
    peakSample = Math.max(peakSample, await procStatus('VmRSS'));
    const targets = targetsOf(await status());
    return targets.length === IMAGES * 2 && targets.every((target) => target.state === 'up_to_date') ? true : undefined;
  }, 'the first mirror');
  const firstMs = Date.now() - started;
  const copyHwm = await procStatus('VmHWM');
  const afterCopyRss = await procStatus('VmRSS');
  const uploads = [main, regional].reduce((sum, registry) => sum + registry.requests().filter((request) => request.route === 'upload' && request.method === 'PUT').length, 0);

  console.log(`| state | RSS (MiB) |\n| --- | --- |`);
  console.log(`| idle (targets only, no images) | ${mib(idleRss)} |`);
  console.log(`| under copy (first mirror: ${IMAGES} images × 2 tags × 2 targets, ${String(LAYER_BYTES / 1024)} KiB layers), highest sample | ${mib(peakSample)} |`);
  console.log(`| peak over the run so far (VmHWM) | ${mib(copyHwm)} |`);
  console.log(`| right after the first mirror | ${mib(afterCopyRss)} |`);
  console.log(`\nfirst mirror: ${String(firstMs)} ms, ${String(uploads)} blob uploads completed (PUT) at the targets (${String(IMAGES * 2 * 2 * 2)} blobs to place)\n`);

  console.log('| no-op cycle | wall ms | requests | by method and route | RSS after (MiB) | heap used after (MiB) |\n| --- | --- | --- | --- | --- | --- |');
  for (let cycle = 1; cycle <= NO_OP_CYCLES; cycle++) {
    for (const registry of [source, main, regional]) registry.resetRequests();
    await sleep(1_100); // let the 1 s cache TTL lapse, as hours between runs would
    const since = new Date().toISOString();
    const begun = Date.now();
    const response = await fetch(`${url}/api/sync`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
    if (response.status !== 202) throw new Error(`POST /api/sync answered ${String(response.status)}`);
    await until(async () => {
      const targets = targetsOf(await status());
      return targets.every((target) => target.state === 'up_to_date' && (target.lastRun?.finishedAt ?? '') > since) ? true : undefined;
    }, `no-op cycle ${String(cycle)}`);
    const wallMs = Date.now() - begun;
    const counts = new Map<string, number>();
    for (const registry of [source, main, regional]) {
      for (const request of registry.requests()) counts.set(`${request.method} ${request.route}`, (counts.get(`${request.method} ${request.route}`) ?? 0) + 1);
    }
    const total = [...counts.values()].reduce((sum, value) => sum + value, 0);
    const byKind = [...counts].sort().map(([key, value]) => `${key}: ${String(value)}`).join(', ');
    (globalThis as { gc?: () => void }).gc?.();
    await sleep(500);
    console.log(`| ${String(cycle)} | ${String(wallMs)} | ${String(total)} | ${byKind} | ${mib(await procStatus('VmRSS'))} | ${mib(await heapUsed(url))} |`);
  }
  // The registry client arms a 60 s operation-timeout signal per operation (AbortSignal.timeout), held until it
  // fires: back-to-back cycles keep a minute of them alive. After a minute idle they are gone.
  await sleep(65_000);
  await fetch(`${url}/healthz`);
  console.log(`\nafter 65 s idle: RSS ${mib(await procStatus('VmRSS'))} MiB, heap used ${mib(await heapUsed(url))} MiB`);
  console.log(`worker peak RSS over the whole soak (VmHWM): ${mib(await procStatus('VmHWM'))} MiB`);
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await Promise.all([source.close(), main.close(), regional.close()]);
  await rm(dir, { recursive: true, force: true });
}
