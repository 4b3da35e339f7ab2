// Mirroring, ours (@scanner/sync) beside skopeo 1.9 (`skopeo sync --all --src yaml --dest docker`), in one run on
// the same real distribution registries: first mirror into an empty target, a no-op re-sync, one new tag.
// Each tool writes to its own target registry (same kind, same start) and reads the one source; every request
// goes through a counting proxy per registry, so requests and blob bytes are counted alike for both tools.
// Each run is its own process: peak RSS is that process's (skopeo's through /usr/bin/time, ours VmHWM).
// Then the peak RSS of our sync copying one 1 GiB blob, beside a process that loads the same code and idles.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_OCI_LAYER_GZIP, MEDIA_TYPE_OCI_MANIFEST } from '@scanner/image';
import { createRegistryClient } from '@scanner/registry';
import { buildIndex, hasBinary, seedImage, startRegistry, tarWithFile, tempDir } from '@scanner/test-lab';
import type { Registry } from '@scanner/test-lab';
import { gzipSync } from 'node:zlib';
import { loadMirrorConfig, planMirror, syncPlan } from '@scanner/sync';
import type { SyncStats } from '@scanner/sync';

const REPOSITORIES = 4;
const TAGS_PER_REPOSITORY = 5;
const BASE_LAYER_BYTES = 8 * 1024 * 1024;
const OWN_LAYER_BYTES = 1024 * 1024;
const BIG_BLOB_BYTES = 1024 * 1024 * 1024;
const CHILD_TIMEOUT_MS = 600_000;
const MIB = 1024 * 1024;
const RESULT_PREFIX = 'BENCH-RESULT ';

// ---------------------------------------------------------------------------------------------------------
// A counting proxy: forwards as sent, counts requests and body bytes per direction.
// ---------------------------------------------------------------------------------------------------------

interface Counts {
  requests: number;
  manifestGets: number;
  /** Blob bytes downloaded (GET …/blobs/ response bodies). */
  blobBytesDown: number;
  /** Blob bytes uploaded (PATCH/PUT …/blobs/uploads/ request bodies). */
  blobBytesUp: number;
}

interface CountingProxy {
  readonly host: string;
  counts: Counts;
  reset(): void;
  close(): Promise<void>;
}

async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const fresh = (): Counts => ({ requests: 0, manifestGets: 0, blobBytesDown: 0, blobBytesUp: 0 });
  const state = { counts: fresh() };
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const counts = state.counts;
    counts.requests++;
    const path = request.url ?? '/';
    const isUpload = path.includes('/blobs/uploads/');
    if (request.method === 'GET' && path.includes('/manifests/')) counts.manifestGets++;
    const outgoing = httpRequest({ host: target.hostname, port: target.port, method: request.method, path, headers: { ...request.headers, host: target.host } }, (answer) => {
      const headers = { ...answer.headers };
      for (const name of ['location', 'link']) {
        const value = headers[name];
        if (typeof value === 'string') headers[name] = value.split(target.origin).join(`http://${proxy.host}`);
      }
      response.writeHead(answer.statusCode ?? 502, headers);
      if (request.method === 'GET' && path.includes('/blobs/') && !isUpload) answer.on('data', (chunk: Buffer) => (counts.blobBytesDown += chunk.byteLength));
      answer.pipe(response);
    });
    outgoing.on('error', () => response.destroy());
    if (isUpload) request.on('data', (chunk: Buffer) => (counts.blobBytesUp += chunk.byteLength));
    request.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the counting proxy has no port');
  const proxy: CountingProxy = {
    host: `127.0.0.1:${address.port}`,
    get counts() {
      return state.counts;
    },
    set counts(value) {
      state.counts = value;
    },
    reset: () => {
      state.counts = fresh();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
  return proxy;
}

// ---------------------------------------------------------------------------------------------------------
// Child: our sync in its own process.
// ---------------------------------------------------------------------------------------------------------

interface Task {
  readonly mode: 'idle' | 'sync';
  readonly source: string;
  readonly target: string;
  readonly repositories: readonly string[];
  /** Holds targets.yaml and the team file. */
  readonly configDir: string;
  /** Target path prefix (targets.yaml `prefix`). */
  readonly prefix?: string;
}

interface ChildReport {
  readonly ms: number;
  readonly peakRssMiB: number;
  readonly stats: SyncStats | undefined;
  readonly items: number;
  readonly failed: number;
  readonly error: string | undefined;
}

function peakRssMiB(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match?.[1] === undefined ? process.resourceUsage().maxRSS / 1024 : Number(match[1]) / 1024;
}

/** A config directory: one target, one team file mirroring every tag of each repository (as skopeo's `[]`). */
function writeConfig(dir: string, task: Task): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'targets.yaml'), `targets:\n  - name: main\n    registry: ${task.target}\n${task.prefix === undefined ? '' : `    prefix: ${task.prefix}\n`}`);
  const images = task.repositories.map((repository) => `  - source: ${task.source}/${repository}\n    tags:\n      - regexp: '.*'\n    referrers: false\n`).join('');
  writeFileSync(join(dir, 'bench.yaml'), `owner: bench\nimages:\n${images}`);
}

async function child(task: Task): Promise<void> {
  const started = performance.now();
  let report: Omit<ChildReport, 'ms' | 'peakRssMiB'> = { stats: undefined, items: 0, failed: 0, error: undefined };
  const client = createRegistryClient();
  try {
    if (task.mode === 'sync') {
      const config = await loadMirrorConfig(task.configDir);
      const plan = await planMirror(config, { client });
      if (plan.errors.length > 0) throw new Error(plan.errors.map((error) => error.message).join('; '));
      // SYNC_BENCH_CONCURRENCY sets syncPlan's item concurrency (default: syncPlan's own).
      const concurrency = process.env['SYNC_BENCH_CONCURRENCY'] === undefined ? undefined : Number(process.env['SYNC_BENCH_CONCURRENCY']);
      const result = await syncPlan(plan, { client, concurrency });
      report = { stats: result.stats, items: result.items.length, failed: result.items.filter((item) => item.result === 'failed').length, error: result.items.find((item) => item.error !== null)?.error?.message };
    }
  } catch (error) {
    report = { ...report, error: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.close();
  }
  const full: ChildReport = { ms: performance.now() - started, peakRssMiB: peakRssMiB(), ...report };
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(full)}\n`);
}

async function runChild(task: Task, nodeFlags: readonly string[] = []): Promise<ChildReport> {
  if (task.mode === 'sync') writeConfig(task.configDir, task);
  const proc = spawn(process.execPath, [...process.execArgv, ...nodeFlags, import.meta.filename, 'child', JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'inherit'], timeout: CHILD_TIMEOUT_MS });
  let output = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', resolve);
  });
  const line = output.split('\n').find((text) => text.startsWith(RESULT_PREFIX));
  if (line === undefined) throw new Error(`our sync child exited with ${String(code)} and no result`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildReport;
}

// ---------------------------------------------------------------------------------------------------------
// skopeo sync.
// ---------------------------------------------------------------------------------------------------------

async function runSkopeo(dir: string, source: string, target: string, repositories: readonly string[]): Promise<{ ms: number; peakRssMiB: number; error: string | undefined }> {
  const file = join(dir, 'sync.yaml');
  const policy = join(dir, 'policy.json');
  const auth = join(dir, 'auth.json');
  // An empty list means every tag (skopeo-sync YAML).
  writeFileSync(file, `${source}:\n  tls-verify: false\n  images:\n${repositories.map((repository) => `    ${repository}: []\n`).join('')}`);
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  writeFileSync(auth, '{"auths":{}}');
  const args = ['-f', 'MAXRSS %M', 'skopeo', '--policy', policy, 'sync', '--all', '--retry-times', '0', '--src-authfile', auth, '--dest-authfile', auth, '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', file, target];
  const started = performance.now();
  const proc = spawn('/usr/bin/time', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: CHILD_TIMEOUT_MS });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', resolve);
  });
  const ms = performance.now() - started;
  const rss = /MAXRSS (\d+)/.exec(stderr)?.[1];
  return { ms, peakRssMiB: rss === undefined ? Number.NaN : Number(rss) / 1024, error: code === 0 ? undefined : stderr.split('\n').filter((line) => line.includes('level=fatal') || line.includes('Error')).join(' ').slice(0, 300) || `exit ${String(code)}` };
}

// ---------------------------------------------------------------------------------------------------------
// Parent.
// ---------------------------------------------------------------------------------------------------------

/** Deterministic pseudo-random bytes (AES-CTR keystream), one chunk at a time. */
function* pseudoRandomChunks(totalBytes: number, key: number): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, key), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(MIB);
  for (let sent = 0; sent < totalBytes; sent += MIB) yield cipher.update(zeros.subarray(0, Math.min(MIB, totalBytes - sent)));
}

function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function layer(bytes: number, key: number): Buffer {
  return gzipSync(tarWithFile('data.bin', Buffer.concat([...pseudoRandomChunks(bytes, key)])), { level: 1 });
}

async function uploadBlob(origin: string, repository: string, digest: string, body: Uint8Array | Readable, size: number): Promise<void> {
  const started = await fetch(`${origin}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = started.headers.get('location');
  if (started.status !== 202 || location === null) throw new Error(`POST upload ${repository}: ${started.status}`);
  const url = new URL(location, origin);
  url.searchParams.set('digest', digest);
  await new Promise<void>((resolve, reject) => {
    const put = httpRequest(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) } }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode === 201) resolve();
        else reject(new Error(`PUT blob ${digest}: ${String(response.statusCode)}`));
      });
    });
    put.on('error', reject);
    if (body instanceof Readable) body.pipe(put);
    else put.end(body);
  });
}

/** Seeds `bench/big:1`, one image whose only layer is `BIG_BLOB_BYTES` of pseudo-random bytes, streamed. */
async function seedBigImage(registry: Registry): Promise<string> {
  const hash = createHash('sha256');
  for (const chunk of pseudoRandomChunks(BIG_BLOB_BYTES, 9)) hash.update(chunk);
  const layerDigest = `sha256:${hash.digest('hex')}`;
  await uploadBlob(registry.url, 'bench/big', layerDigest, Readable.from(pseudoRandomChunks(BIG_BLOB_BYTES, 9)), BIG_BLOB_BYTES);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] }, config: {} }));
  await uploadBlob(registry.url, 'bench/big', sha256(config), config, config.byteLength);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_OCI_MANIFEST,
      config: { mediaType: MEDIA_TYPE_OCI_CONFIG, digest: sha256(config), size: config.byteLength },
      layers: [{ mediaType: MEDIA_TYPE_OCI_LAYER_GZIP, digest: layerDigest, size: BIG_BLOB_BYTES }],
    }),
  );
  const put = await fetch(`${registry.url}/v2/bench/big/manifests/1`, { method: 'PUT', headers: { 'content-type': MEDIA_TYPE_OCI_MANIFEST }, body: manifest });
  if (put.status !== 201) throw new Error(`PUT bench/big:1: ${put.status}`);
  return sha256(manifest);
}

async function digestsOf(origin: string, repositories: readonly string[]): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const repository of repositories) {
    const list = await fetch(`${origin}/v2/${repository}/tags/list`);
    if (list.status !== 200) continue;
    const tags = ((await list.json()) as { tags: string[] | null }).tags ?? [];
    for (const tag of tags) {
      const head = await fetch(`${origin}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' } });
      digests.set(`${repository}:${tag}`, head.headers.get('docker-content-digest') ?? '');
    }
  }
  return digests;
}

function preferTmpfs(): string {
  try {
    const { bavail, bsize } = statfsSync('/dev/shm');
    if (bavail * bsize >= 6 * 1024 * MIB) {
      process.env['TMPDIR'] = '/dev/shm';
      return 'tmpfs';
    }
  } catch {
    // No /dev/shm: stay on the default temp dir.
  }
  return 'the default temp dir';
}

interface Row {
  readonly scenario: string;
  readonly tool: string;
  readonly ms: number;
  readonly requests: number;
  readonly manifestGets: number;
  readonly bytesDown: number;
  readonly bytesUp: number;
  readonly peakRssMiB: number;
  readonly check: string;
  readonly ok: boolean;
}

async function parent(): Promise<void> {
  for (const binary of ['docker-registry', 'skopeo']) if (!hasBinary(binary)) throw new Error(`${binary} is not installed; run \`pnpm setup\``);
  const storageOn = preferTmpfs();
  const started = performance.now();
  await using source = await startRegistry();
  await using skopeoTarget = await startRegistry();
  await using ourTarget = await startRegistry();
  await using scratch = await tempDir('scanner-sync-bench-');
  const sourceProxy = await startCountingProxy(source.url);
  const skopeoProxy = await startCountingProxy(skopeoTarget.url);
  const ourProxy = await startCountingProxy(ourTarget.url);
  try {
    // 4 repositories × 5 tags, each tag a 2-platform OCI index; every image has the shared 8 MiB base layer
    // and a 1 MiB layer of its own.
    const base = layer(BASE_LAYER_BYTES, 1);
    const repositories = Array.from({ length: REPOSITORIES }, (_, index) => `bench/app${index}`);
    let key = 10;
    const seedTag = async (repository: string, tag: string): Promise<void> => {
      const images = ['linux/amd64', 'linux/arm64'].map((platform) => ({ platform, layers: [base, layer(OWN_LAYER_BYTES, key++)], labels: { tag } }));
      await seedImage(source, `${repository}:${tag}`, buildIndex({ images }));
    };
    const seedStarted = performance.now();
    if (process.env['SYNC_BENCH_ONLY'] !== 'big') for (const repository of repositories) for (let t = 0; t < TAGS_PER_REPOSITORY; t++) await seedTag(repository, `1.${t}.0`);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const totalBlobBytes = base.byteLength + REPOSITORIES * TAGS_PER_REPOSITORY * 2 * (layer(OWN_LAYER_BYTES, 0).byteLength);

    const rows: Row[] = [];
    const run = async (scenario: string, tool: 'skopeo' | 'ours'): Promise<void> => {
      const targetProxy = tool === 'skopeo' ? skopeoProxy : ourProxy;
      const targetRegistry = tool === 'skopeo' ? skopeoTarget : ourTarget;
      sourceProxy.reset();
      targetProxy.reset();
      let ms: number;
      let peakRss: number;
      let error: string | undefined;
      if (tool === 'skopeo') {
        // Without --scoped, skopeo keeps only the last path component (bench/app0 → DEST/app0): DEST is <host>/bench.
        ({ ms, peakRssMiB: peakRss, error } = await runSkopeo(scratch.path, sourceProxy.host, `${targetProxy.host}/bench`, repositories));
      } else {
        const report = await runChild({ mode: 'sync', source: sourceProxy.host, target: targetProxy.host, repositories, configDir: join(scratch.path, 'config') });
        ({ ms, peakRssMiB: peakRss } = report);
        error = report.error;
      }
      const want = await digestsOf(source.url, repositories);
      const have = await digestsOf(targetRegistry.url, repositories);
      const same = [...want].filter(([name, digest]) => have.get(name) === digest).length;
      const ok = error === undefined && same === want.size;
      rows.push({
        scenario,
        tool: tool === 'skopeo' ? 'skopeo 1.9.3 sync --all' : '@scanner/sync planMirror + syncPlan',
        ms,
        requests: sourceProxy.counts.requests + targetProxy.counts.requests,
        manifestGets: sourceProxy.counts.manifestGets,
        bytesDown: sourceProxy.counts.blobBytesDown,
        bytesUp: targetProxy.counts.blobBytesUp,
        peakRssMiB: peakRss,
        check: error ?? `${same}/${want.size} tags with the source digest`,
        ok,
      });
    };
    // SYNC_BENCH_ONLY=big skips the comparison (for working on memory).
    if (process.env['SYNC_BENCH_ONLY'] !== 'big') {
      for (const tool of ['skopeo', 'ours'] as const) await run(`first mirror (${REPOSITORIES * TAGS_PER_REPOSITORY} tags)`, tool);
      for (const tool of ['skopeo', 'ours'] as const) await run('no-op re-sync', tool);
      await seedTag(repositories[0] ?? '', '2.0.0');
      for (const tool of ['skopeo', 'ours'] as const) await run('one new tag', tool);
    }

    // The 1 GiB blob: straight to the registries (no proxy), our sync only, beside an idle process.
    const bigDigest = await seedBigImage(source);
    const idle = await runChild({ mode: 'idle', source: source.host, target: ourTarget.host, repositories: [], configDir: join(scratch.path, 'config') });
    const big = await runChild({ mode: 'sync', source: source.host, target: ourTarget.host, repositories: ['bench/big'], configDir: join(scratch.path, 'config') });
    const copied = (await digestsOf(ourTarget.url, ['bench/big'])).get('bench/big:1') === bigDigest;
    // The same with a 1 MiB young generation (NODE_OPTIONS=--max-semi-space-size=1): the per-chunk garbage of
    // streaming then never grows the heap's new space to its default maximum.
    const tuned = ['--max-semi-space-size=1'];
    const idleTuned = await runChild({ mode: 'idle', source: source.host, target: ourTarget.host, repositories: [], configDir: join(scratch.path, 'config') }, tuned);
    const bigTuned = await runChild({ mode: 'sync', source: source.host, target: ourTarget.host, prefix: 'tuned', repositories: ['bench/big'], configDir: join(scratch.path, 'config') }, tuned);

    const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
    console.log(`distribution 2.8 registries (storage on ${storageOn}); source: ${REPOSITORIES} repositories × ${TAGS_PER_REPOSITORY} tags, each a 2-platform index (shared ${BASE_LAYER_BYTES / MIB} MiB base layer + 1 MiB per image; ${mib(totalBlobBytes)} MiB of distinct blobs), seeded in ${seedSeconds.toFixed(0)} s.`);
    console.log('Each tool mirrors into its own empty target registry; requests and blob bytes counted at the proxies (source + target); "manifest GETs" are at the source (Docker Hub pulls).\n');
    const header = ['scenario', 'tool', 'time (ms)', 'requests', 'manifest GETs (source)', 'blob MiB down', 'blob MiB up', 'peak RSS (MiB)', 'check'];
    console.log(`| ${header.join(' | ')} |`);
    console.log(`|${header.map(() => '---').join('|')}|`);
    for (const row of rows) {
      console.log(`| ${[row.scenario, row.tool, row.ms.toFixed(0), String(row.requests), String(row.manifestGets), mib(row.bytesDown), mib(row.bytesUp), row.peakRssMiB.toFixed(0), `${row.ok ? '✓' : '✗'} ${row.check}`].join(' | ')} |`);
    }
    const ratio = (scenario: string): string => {
      const [skopeoRow, ourRow] = rows.filter((row) => row.scenario.startsWith(scenario));
      return skopeoRow === undefined || ourRow === undefined ? '?' : (ourRow.ms / skopeoRow.ms).toFixed(2);
    };
    console.log(`\ntime ours / skopeo: first mirror ${ratio('first')}×, no-op ${ratio('no-op')}×, one new tag ${ratio('one new')}×`);
    console.log(`\n1 GiB blob (one image, straight to the registries): our sync ${(big.ms / 1000).toFixed(1)} s, peak RSS ${big.peakRssMiB.toFixed(0)} MiB; idle process ${idle.peakRssMiB.toFixed(0)} MiB; ${(big.peakRssMiB - idle.peakRssMiB).toFixed(0)} MiB above idle (target < 64); ${copied && big.failed === 0 ? '✓ target holds the same digest' : `✗ ${big.error ?? 'not copied'}`}.`);
    console.log(`With --max-semi-space-size=1: our sync ${(bigTuned.ms / 1000).toFixed(1)} s, peak RSS ${bigTuned.peakRssMiB.toFixed(0)} MiB; idle ${idleTuned.peakRssMiB.toFixed(0)} MiB; ${(bigTuned.peakRssMiB - idleTuned.peakRssMiB).toFixed(0)} MiB above idle; ${bigTuned.failed === 0 && bigTuned.error === undefined ? '✓ copied' : `✗ ${bigTuned.error ?? 'failed'}`}.`);
    console.log(`All done in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
    const failures = rows.filter((row) => !row.ok && row.tool.startsWith('@scanner'));
    if (failures.length > 0 || !copied || big.peakRssMiB - idle.peakRssMiB >= 64) process.exitCode = 1;
  } finally {
    await Promise.all([sourceProxy.close(), skopeoProxy.close(), ourProxy.close()]);
  }
}

if (process.argv[2] === 'child') {
  await child(JSON.parse(process.argv[3] ?? '{}') as Task);
} else {
  await parent();
}
