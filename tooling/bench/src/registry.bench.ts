// Registry client work against the real CNCF distribution registry: list 10,000 tags through a proxy that
// paginates at 100 per page, resolve 1,000 tags to digests, copy a 256 MiB blob between two repositories of
// the same registry. Each (operation, client) pair runs in its own Node process, so its peak RSS is its own;
// requests are counted at the one proxy every client goes through, so both clients are counted alike.
// The reference client is @snyk/docker-registry-v2-client. It cannot push, so its copies download with its
// API and upload with node:http. A failed check of @scanner/registry fails the run; the reference client's
// wrong answers are findings and are printed as such.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { downloadLayer, getLayer, getManifest as snykGetManifest, getTags as snykGetTags } from '@snyk/docker-registry-v2-client';
import { createRegistryClient } from '@scanner/registry';
import type { RegistryClient, RegistryEvent } from '@scanner/registry';
import { buildImage, hasBinary, startFaultProxy, startRegistry, tempDir } from '@scanner/test-lab';
import type { BuiltImage } from '@scanner/test-lab';

const TAG_COUNT = 10_000;
const IMAGE_COUNT = 100;
const PAGE_SIZE = 100;
const RESOLVE_COUNT = 1_000;
const BLOB_BYTES = 256 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
// The same number of requests in flight for both clients; it is also our client's default per registry.
const CONCURRENCY = 8;
const SEED_CONCURRENCY = 16;
const CHILD_TIMEOUT_MS = 120_000;
const MIB = 1024 * 1024;

const TAGS_REPOSITORY = 'bench/tags';
const BLOB_SOURCE = 'bench/blob-source';

type Side = 'ours' | 'snyk';
type Operation = 'idle' | 'list' | 'resolve' | 'copy' | 'copy-chunked' | 'copy-file' | 'mount';

interface Task {
  readonly side: Side;
  readonly operation: Operation;
  /** `127.0.0.1:PORT` of the proxy, as in image references. */
  readonly host: string;
  readonly tags: readonly string[];
  readonly blob: { readonly digest: string; readonly size: number; readonly target: string };
  readonly scratchDir: string;
}

interface ChildReport {
  readonly ms: number;
  readonly peakRssMiB: number;
  readonly peakHeapMiB: number;
  /** What the operation produced, checked by the parent. */
  readonly value: unknown;
  /** Requests our client reported through onEvent, as a cross-check of the proxy's count. */
  readonly clientRequests: number | undefined;
  readonly error: string | undefined;
}

const RESULT_PREFIX = 'BENCH-RESULT ';

// ---------------------------------------------------------------------------------------------------------
// Shared: a bounded pool, and the plain-HTTP upload glue used for seeding and for the reference client.
// ---------------------------------------------------------------------------------------------------------

async function pool<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// node:http rather than fetch: fetch copies a Uint8Array body, which would charge the glue's copy to the
// reference client's buffered download.
function send(method: string, url: URL, headers: Record<string, string>, body?: Uint8Array | Readable): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method, headers }, (response) => {
      response.resume();
      response.once('error', reject);
      response.once('end', () => {
        resolve({ status: response.statusCode ?? 0, location: response.headers.location });
      });
    });
    outgoing.once('error', reject);
    if (body instanceof Readable) {
      body.once('error', (error) => outgoing.destroy(error));
      body.pipe(outgoing);
    } else {
      outgoing.end(body);
    }
  });
}

/** POST, then one PUT carrying the whole blob (a buffer, or a stream of known size). */
async function uploadMonolithic(origin: string, repository: string, digest: string, body: Uint8Array | Readable, size: number): Promise<void> {
  const started = await send('POST', new URL(`/v2/${repository}/blobs/uploads/`, origin), { 'content-length': '0' });
  if (started.status !== 202 || started.location === undefined) throw new Error(`POST blob upload to ${repository}: HTTP ${started.status}`);
  const url = new URL(started.location, origin);
  url.searchParams.set('digest', digest);
  const put = await send('PUT', url, { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body);
  if (put.status !== 201) throw new Error(`PUT blob ${digest} to ${repository}: HTTP ${put.status}`);
}

function tagListSummary(tags: readonly string[]): { count: number; unique: number; sha256: string } {
  const sorted = [...new Set(tags)].sort();
  return { count: tags.length, unique: sorted.length, sha256: createHash('sha256').update(sorted.join('\n')).digest('hex') };
}

// ---------------------------------------------------------------------------------------------------------
// Child: one operation of one client, then its figures as one line on stdout.
// ---------------------------------------------------------------------------------------------------------

async function copyOurs(client: RegistryClient, task: Task): Promise<unknown> {
  const source = `${task.host}/${BLOB_SOURCE}`;
  const target = `${task.host}/${task.blob.target}`;
  const { digest, size } = task.blob;
  // A mount within one registry moves no bytes: it is reported apart from the streamed copies.
  if (task.operation === 'mount') return await client.copyBlob(source, target, { digest, size });
  const stream = async (): Promise<ReadableStream<Uint8Array>> => (await client.getBlob(source, digest, { size })).stream;
  return await client.uploadBlob(target, stream, { digest, size, chunked: task.operation === 'copy-chunked' });
}

async function runOurs(task: Task, onEvent: (event: RegistryEvent) => void): Promise<unknown> {
  const client = createRegistryClient({ onEvent, pageSize: PAGE_SIZE });
  try {
    const repository = `${task.host}/${TAGS_REPOSITORY}`;
    switch (task.operation) {
      case 'idle':
        return undefined;
      case 'list':
        return tagListSummary(await client.listTags(repository, { pageSize: PAGE_SIZE }));
      case 'resolve':
        return await pool(task.tags, CONCURRENCY, (tag) => client.resolveDigest(`${repository}:${tag}`));
      case 'copy':
      case 'copy-chunked':
      case 'mount':
        return await copyOurs(client, task);
      case 'copy-file':
        throw new Error('copy-file is a reference-client variant');
    }
  } finally {
    await client.close();
  }
}

async function runSnyk(task: Task): Promise<unknown> {
  const options = { protocol: 'http:' };
  const origin = `http://${task.host}`;
  const { digest, target } = task.blob;
  switch (task.operation) {
    case 'idle':
      return undefined;
    case 'list':
      return tagListSummary(await snykGetTags(task.host, TAGS_REPOSITORY, undefined, undefined, PAGE_SIZE, undefined, options));
    case 'resolve':
      return await pool(task.tags, CONCURRENCY, async (tag) => (await snykGetManifest(task.host, TAGS_REPOSITORY, tag, undefined, undefined, options)).manifestDigest);
    case 'copy': {
      // getLayer returns the whole blob as one Buffer; the upload is one PUT of that Buffer.
      const bytes = await getLayer(task.host, BLOB_SOURCE, digest, undefined, undefined, options);
      const downloadPeakRssMiB = peakRssMiB();
      await uploadMonolithic(origin, target, digest, bytes, bytes.byteLength);
      return { downloadPeakRssMiB };
    }
    case 'copy-file': {
      // downloadLayer streams to a file; the upload then streams the file in one PUT.
      const file = join(task.scratchDir, 'layer');
      await downloadLayer(file, task.host, BLOB_SOURCE, digest, undefined, undefined, options);
      const { size } = await stat(file);
      await uploadMonolithic(origin, target, digest, createReadStream(file), size);
      return { downloadPeakRssMiB: peakRssMiB() };
    }
    case 'copy-chunked':
    case 'mount':
      throw new Error(`the reference client has no ${task.operation}`);
  }
}

/**
 * Peak RSS of this process. Linux carries getrusage's maxrss across exec, so a child spawned by a parent
 * holding 600 MiB reports at least 600 MiB; VmHWM belongs to the process image alone.
 */
function peakRssMiB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match?.[1] !== undefined) return Number(match[1]) / 1024;
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS / 1024;
}

async function child(task: Task): Promise<void> {
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 50);
  sampler.unref();
  let clientRequests = 0;
  const onEvent = (event: RegistryEvent): void => {
    if (event.type === 'request') clientRequests += 1;
  };
  const started = performance.now();
  let value: unknown;
  let error: string | undefined;
  try {
    value = task.side === 'ours' ? await runOurs(task, onEvent) : await runSnyk(task);
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  const ms = performance.now() - started;
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const report: ChildReport = {
    ms,
    peakRssMiB: peakRssMiB(),
    peakHeapMiB: peakHeap / MIB,
    value,
    clientRequests: task.side === 'ours' ? clientRequests : undefined,
    error,
  };
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(report)}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// Parent: seeds the registry, runs the children one after another, checks their answers, prints the table.
// ---------------------------------------------------------------------------------------------------------

async function runChild(task: Task): Promise<ChildReport> {
  const args = [...process.execArgv, import.meta.filename, 'child', JSON.stringify(task)];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: CHILD_TIMEOUT_MS });
  let output = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', resolve);
  });
  const line = output.split('\n').find((text) => text.startsWith(RESULT_PREFIX));
  if (line === undefined) throw new Error(`${task.side} ${task.operation}: the child exited with ${String(code)} and no result${proc.killed ? ' (timed out)' : ''}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildReport;
}

/** Deterministic pseudo-random bytes (an AES-CTR keystream), one chunk at a time, never the whole blob. */
function* pseudoRandomChunks(totalBytes: number): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(CHUNK_BYTES);
  for (let sent = 0; sent < totalBytes; sent += CHUNK_BYTES) yield cipher.update(zeros.subarray(0, Math.min(CHUNK_BYTES, totalBytes - sent)));
}

function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function pseudoRandomDigest(totalBytes: number): string {
  const hash = createHash('sha256');
  for (const chunk of pseudoRandomChunks(totalBytes)) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** Docker Engine writes schema 2 manifests indented by three spaces; the stored bytes are what get hashed. */
function dockerManifestBytes(image: BuiltImage): Buffer {
  return Buffer.from(JSON.stringify(image.manifest, null, 3));
}

async function blobStored(origin: string, repository: string, digest: string, size: number): Promise<boolean> {
  const response = await fetch(`${origin}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
  return response.status === 200 && response.headers.get('docker-content-digest') === digest && response.headers.get('content-length') === String(size);
}

async function putManifest(origin: string, repository: string, tag: string, manifest: { bytes: Buffer; mediaType: string }): Promise<void> {
  const response = await send('PUT', new URL(`/v2/${repository}/manifests/${tag}`, origin), { 'content-type': manifest.mediaType, 'content-length': String(manifest.bytes.byteLength) }, manifest.bytes);
  if (response.status !== 201) throw new Error(`PUT manifest ${repository}:${tag}: HTTP ${response.status}`);
}

/**
 * Tags a manifest the registry already holds by writing the two link files distribution's filesystem
 * storage keeps per tag, the layout a manifest PUT writes. 10,000 PUTs take over a minute on two cores;
 * the files take a second. The parent then checks the result over HTTP.
 */
function linkTag(storage: string, repository: string, tag: string, digest: string): void {
  const tagDir = join(storage, 'docker/registry/v2/repositories', repository, '_manifests/tags', tag);
  const [algorithm = '', hex = ''] = digest.split(':');
  const indexDir = join(tagDir, 'index', algorithm, hex);
  mkdirSync(join(tagDir, 'current'), { recursive: true });
  mkdirSync(indexDir, { recursive: true });
  writeFileSync(join(tagDir, 'current/link'), digest);
  writeFileSync(join(indexDir, 'link'), digest);
}

/**
 * Puts the registry's storage and the scratch files on tmpfs when there is room: on this VM's disk, creating
 * and removing 10,000 tag directories took half a minute under load, and the figures are about clients, not disks.
 */
function preferTmpfs(): string {
  try {
    const { bavail, bsize } = statfsSync('/dev/shm');
    if (bavail * bsize >= 4 * 1024 * MIB) {
      process.env['TMPDIR'] = '/dev/shm';
      return 'tmpfs';
    }
  } catch {
    // No /dev/shm: stay on the default temp dir.
  }
  return 'the default temp dir';
}

interface Row {
  operation: string;
  client: string;
  report: ChildReport | undefined;
  requests: number | undefined;
  check: string;
  ok: boolean;
}

function cells(row: Row): string[] {
  const { report } = row;
  const figure = (value: number | undefined): string => (value === undefined ? '—' : value.toFixed(0));
  return [row.operation, row.client, figure(report?.ms), row.requests === undefined ? '—' : String(row.requests), figure(report?.peakRssMiB), figure(report?.peakHeapMiB), `${row.ok ? '✓' : '✗'} ${row.check}`];
}

const CLIENT_NAMES: Record<Side, string> = { ours: '@scanner/registry', snyk: '@snyk/docker-registry-v2-client' };

async function parent(): Promise<void> {
  if (!hasBinary('docker-registry')) throw new Error('docker-registry is not installed; run `pnpm setup` (it installs the Debian docker-registry package)');
  const started = performance.now();
  const storageOn = preferTmpfs();
  const phases: string[] = [];
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const phaseStarted = performance.now();
    const result = await work();
    phases.push(`${name} ${((performance.now() - phaseStarted) / 1000).toFixed(1)} s`);
    return result;
  };
  await using registry = await startRegistry({ auth: 'none' });
  await using proxy = await startFaultProxy({ upstream: registry.url });
  await using scratch = await tempDir('scanner-bench-');
  proxy.inject({ method: 'GET', path: /\/tags\/list/, fault: { kind: 'paginate-tags', pageSize: PAGE_SIZE } });

  // 100 Docker schema 2 images that share one layer and differ in their config; 10,000 tags spread over them.
  const first = buildImage({ mediaTypes: 'docker', labels: { build: '0' } });
  const layer = first.blobs.get(first.layers[0]?.digest ?? '');
  if (layer === undefined) throw new Error('the fixture image has no layer');
  const images = [first, ...Array.from({ length: IMAGE_COUNT - 1 }, (_, i) => buildImage({ mediaTypes: 'docker', labels: { build: String(i + 1) }, layers: [layer] }))];
  const blobs = new Map<string, Uint8Array>();
  for (const image of images) for (const [digest, bytes] of image.blobs) blobs.set(digest, bytes);
  const manifests = images.map((image) => {
    const bytes = dockerManifestBytes(image);
    return { bytes, mediaType: image.mediaType, digest: sha256(bytes) };
  });
  const tags = Array.from({ length: TAG_COUNT }, (_, i) => `build-${i}`);
  const manifestOf = (index: number): (typeof manifests)[number] => manifests[index % IMAGE_COUNT] as (typeof manifests)[number];

  await timed(`${blobs.size} blobs + ${IMAGE_COUNT} manifests over HTTP`, async () => {
    await pool([...blobs], SEED_CONCURRENCY, ([digest, bytes]) => uploadMonolithic(registry.url, TAGS_REPOSITORY, digest, bytes, bytes.byteLength));
    await pool(tags.slice(0, IMAGE_COUNT), SEED_CONCURRENCY, (tag) => putManifest(registry.url, TAGS_REPOSITORY, tag, manifestOf(Number(tag.slice('build-'.length)))));
  });
  await timed(`${TAG_COUNT - IMAGE_COUNT} more tags as storage links`, () => {
    for (const tag of tags.slice(IMAGE_COUNT)) linkTag(join(registry.dir, 'storage'), TAGS_REPOSITORY, tag, manifestOf(Number(tag.slice('build-'.length))).digest);
    return Promise.resolve();
  });
  const listed = (await (await fetch(`${registry.url}/v2/${TAGS_REPOSITORY}/tags/list`)).json()) as { tags?: unknown };
  const linked = await fetch(`${registry.url}/v2/${TAGS_REPOSITORY}/manifests/${tags.at(-1) ?? ''}`, { method: 'HEAD', headers: { accept: first.mediaType } });
  if (!Array.isArray(listed.tags) || listed.tags.length !== TAG_COUNT || linked.headers.get('docker-content-digest') !== manifestOf(TAG_COUNT - 1).digest) {
    throw new Error(`seeding failed: the registry lists ${Array.isArray(listed.tags) ? listed.tags.length : 'no'} tags (want ${TAG_COUNT}); has its storage layout changed?`);
  }

  const digest = await timed('256 MiB blob', async () => {
    const computed = pseudoRandomDigest(BLOB_BYTES);
    await uploadMonolithic(registry.url, BLOB_SOURCE, computed, Readable.from(pseudoRandomChunks(BLOB_BYTES)), BLOB_BYTES);
    return computed;
  });
  if (!(await blobStored(registry.url, BLOB_SOURCE, digest, BLOB_BYTES))) throw new Error('the 256 MiB source blob was not stored');

  // 1,000 distinct tags spread over the whole list (7919 is prime, so k * 7919 mod 10,000 never repeats).
  const resolveIndexes = Array.from({ length: RESOLVE_COUNT }, (_, k) => (k * 7919) % TAG_COUNT);
  const resolveTags = resolveIndexes.map((index) => `build-${index}`);
  const expectedDigests = resolveIndexes.map((index) => manifestOf(index).digest);
  const expectedList = tagListSummary(tags);
  // Both clients then find the registry warm (tag links read once), whichever runs first.
  await timed('warm-up', async () => {
    await (await fetch(`${registry.url}/v2/${TAGS_REPOSITORY}/tags/list`)).arrayBuffer();
    await pool(resolveTags, SEED_CONCURRENCY, async (tag) => {
      await send('HEAD', new URL(`/v2/${TAGS_REPOSITORY}/manifests/${tag}`, registry.url), { accept: first.mediaType });
    });
  });

  const run = async (operation: Operation, side: Side, target = ''): Promise<{ report: ChildReport; requests: number }> => {
    proxy.resetRequests();
    const report = await runChild({ side, operation, host: proxy.host, tags: operation === 'resolve' ? resolveTags : [], blob: { digest, size: BLOB_BYTES, target }, scratchDir: scratch.path });
    return { report, requests: proxy.requests().length };
  };

  const rows: Row[] = [];
  const baseline = new Map<Side, number>();
  for (const side of ['ours', 'snyk'] as const) baseline.set(side, (await run('idle', side)).report.peakRssMiB);

  for (const side of ['ours', 'snyk'] as const) {
    const { report, requests } = await run('list', side);
    const value = report.value as ReturnType<typeof tagListSummary> | undefined;
    const ok = report.error === undefined && value?.count === TAG_COUNT && value.unique === TAG_COUNT && value.sha256 === expectedList.sha256;
    const check = report.error ?? `${value?.count ?? 0} of ${TAG_COUNT} tags${ok ? '' : ` (${value?.unique ?? 0} distinct, ${value?.sha256 === expectedList.sha256 ? 'same' : 'different'} set)`}`;
    rows.push({ operation: `list ${TAG_COUNT} tags (n=${PAGE_SIZE})`, client: CLIENT_NAMES[side], report, requests, check, ok });
  }

  for (const side of ['ours', 'snyk'] as const) {
    const { report, requests } = await run('resolve', side);
    const value = Array.isArray(report.value) ? (report.value as unknown[]) : [];
    const matching = expectedDigests.filter((expected, index) => value[index] === expected).length;
    const ok = report.error === undefined && matching === RESOLVE_COUNT;
    const wrong = value.find((actual, index) => actual !== expectedDigests[index]);
    const check = report.error ?? `${matching} of ${RESOLVE_COUNT} digests match${ok ? '' : ` (got e.g. ${String(wrong)})`}`;
    rows.push({ operation: `resolve ${RESOLVE_COUNT} digests`, client: CLIENT_NAMES[side], report, requests, check, ok });
  }

  const copies: { operation: Operation; side: Side; label: string }[] = [
    { operation: 'copy', side: 'ours', label: 'copy 256 MiB blob: GET stream → one PUT' },
    { operation: 'copy-chunked', side: 'ours', label: 'copy 256 MiB blob: GET stream → 8 MiB PATCHes' },
    { operation: 'copy', side: 'snyk', label: 'copy 256 MiB blob: getLayer Buffer → one PUT' },
    { operation: 'copy-file', side: 'snyk', label: 'copy 256 MiB blob: downloadLayer file → one PUT' },
    { operation: 'mount', side: 'ours', label: 'copy 256 MiB blob: cross-repo mount (no bytes)' },
  ];
  for (const [index, copy] of copies.entries()) {
    const target = `bench/blob-copy-${index}`;
    const { report, requests } = await run(copy.operation, copy.side, target);
    const stored = report.error === undefined && (await blobStored(registry.url, target, digest, BLOB_BYTES));
    const download = (report.value as { downloadPeakRssMiB?: number } | undefined)?.downloadPeakRssMiB;
    const detail = download === undefined ? '' : `; peak RSS after the download step ${download.toFixed(0)} MiB`;
    const check = report.error ?? (stored ? `target holds ${digest.slice(0, 19)}…, ${BLOB_BYTES} bytes${detail}` : 'the target does not hold the blob');
    rows.push({ operation: copy.label, client: copy.side === 'ours' ? CLIENT_NAMES.ours : `${CLIENT_NAMES.snyk} + node:http PUT`, report, requests, check, ok: stored });
  }

  const header = ['operation', 'client', 'time (ms)', 'requests', 'peak RSS (MiB)', 'peak heapUsed (MiB)', 'result check'];
  console.log(`distribution registry (storage on ${storageOn}), ${TAG_COUNT} tags over ${IMAGE_COUNT} Docker schema 2 images; ${phases.join(', ')}; all rows done after ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  console.log(`Every request goes through one proxy (it counts them; tags/list paginated at n=${PAGE_SIZE} with Link); ${CONCURRENCY} requests in flight for both clients;`);
  console.log(`one process per row (peak RSS of a process that loads the client and does nothing: ours ${baseline.get('ours')?.toFixed(0) ?? '?'} MiB, reference ${baseline.get('snyk')?.toFixed(0) ?? '?'} MiB).\n`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${cells(row).join(' | ')} |`);
  for (const row of rows) {
    const reported = row.report?.clientRequests;
    if (reported !== undefined && reported !== row.requests) console.log(`\nnote: ${row.operation}: our client's onEvent saw ${reported} requests, the proxy ${String(row.requests)}`);
  }
  const failures = rows.filter((row) => !row.ok && row.client === CLIENT_NAMES.ours);
  if (failures.length > 0) {
    console.error(`\n${failures.length} check(s) of @scanner/registry failed`);
    process.exitCode = 1;
  }
}

if (process.argv[2] === 'child') {
  await child(JSON.parse(process.argv[3] ?? '{}') as Task);
} else {
  await parent();
}
