// Start-up of the `scanner` command as scripts call it, once per image: `scanner digest` and `scanner select`
// beside `skopeo inspect --format '{{.Digest}}'` and `skopeo list-tags` on the same real distribution registry
// (loopback) in the same run. Each command is a fresh process, run RUNS times interleaved with the others;
// the table shows the median wall time (spawn to exit, measured here) and the median peak RSS (GNU time's
// maximum resident set size). Ours is the built CLI (`apps/cli/dist/bin.cjs`) run by the same Node as this
// file, as an installed `scanner` runs; it is built first.
//
// BENCH_RUNS (default 15) sets the number of runs per command; BENCH_SKIP_BUILD=1 uses the dist as it is.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, seedImage, startRegistry, tempDir } from '@scanner/test-lab';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const TAG_COUNT = 30;
const REPOSITORY = 'bench/cli';
const TIME_BINARY = '/usr/bin/time';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cliEntry = join(repoRoot, 'apps/cli/dist/bin.cjs');

// Every tool is required: a benchmark with a missing side would print a table that compares nothing.
const skopeo = findBinary('skopeo');
if (skopeo === undefined || findBinary('docker-registry') === undefined || !existsSync(TIME_BINARY)) {
  throw new Error('cli.bench needs skopeo, docker-registry and GNU time (/usr/bin/time); run pnpm setup');
}

// The CLI is measured as users run it, from its build; built here so that the numbers are never of a stale
// dist (BENCH_SKIP_BUILD=1 measures the dist as it is).
if (process.env['BENCH_SKIP_BUILD'] !== '1' || !existsSync(cliEntry)) {
  process.stdout.write('building @scanner/cli and its dependencies\n');
  const build = spawnSync('pnpm', ['--filter', '@scanner/cli...', '--workspace-concurrency=1', 'run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('building @scanner/cli failed');
}

await using registry = await startRegistry({ auth: 'none' });
await using scratch = await tempDir('scanner-cli-bench-');
const home = join(scratch.path, 'home');
const compileCache = join(scratch.path, 'node-compile-cache');
mkdirSync(home);

// A repository of TAG_COUNT semver tags over a few images, so that `select` lists and resolves as in use.
const tags = Array.from({ length: TAG_COUNT }, (_, index) => `1.${Math.floor(index / 10)}.${index % 10}`);
const seeded = new Map<string, string>();
for (const [index, tag] of tags.entries()) {
  const artifact = await seedImage(registry, `${REPOSITORY}:${tag}`, { labels: { index: String(index) } });
  seeded.set(tag, artifact.digest);
}
const latestTag = tags.at(-1) ?? '';
const expectedDigest = seeded.get(latestTag) ?? '';
const image = `${registry.host}/${REPOSITORY}`;

interface Command {
  readonly name: string;
  readonly argv: readonly string[];
  /** Extra environment beside HOME and PATH. */
  readonly env?: Readonly<Record<string, string>>;
  /** Throws when the output is not the right answer, so that a fast wrong command is never a result. */
  readonly check: (stdout: string) => void;
}

const checkDigest = (stdout: string): void => {
  if (stdout.trim() !== expectedDigest) throw new Error(`expected ${expectedDigest}, got ${JSON.stringify(stdout.slice(0, 200))}`);
};

// Every tag's digest, one line each: what a script that pins a list of images asks for.
const everyReference = tags.map((tag) => `${image}:${tag}`);
const checkEveryDigest = (stdout: string): void => {
  const lines = stdout.trim().split('\n');
  const expected = tags.map((tag) => seeded.get(tag) ?? '');
  const digests = lines.map((line) => line.split(' ').at(-1));
  if (JSON.stringify(digests) !== JSON.stringify(expected)) throw new Error(`expected ${TAG_COUNT} digests in order, got ${JSON.stringify(stdout.slice(0, 300))}`);
};
const shellLoop = (command: string): string[] => ['/bin/sh', '-c', `for ref in ${everyReference.join(' ')}; do ${command} || exit 1; done`];

// The least any Node program pays for the same answer: start, one HEAD with node:http, print, exit. Nothing
// of ours; it shows how much of the gap to skopeo is Node itself.
const floorScript = `const r = require('node:http').request('http://${registry.host}/v2/${REPOSITORY}/manifests/${latestTag}', { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json' } }, (res) => { process.stdout.write(res.headers['docker-content-digest'] + '\\n'); res.resume(); }); r.end();`;

const commands: readonly Command[] = [
  // The floors: Node itself, and our command line without any registry work.
  { name: 'node -e 0', argv: [process.execPath, '-e', '0'], check: () => undefined },
  {
    name: 'scanner --version',
    argv: [process.execPath, cliEntry, '--version'],
    env: { NODE_COMPILE_CACHE: compileCache },
    check: (stdout) => {
      if (!/^\d+\.\d+\.\d+/.test(stdout)) throw new Error(`--version printed ${JSON.stringify(stdout)}`);
    },
  },
  {
    name: `scanner digest`,
    argv: [process.execPath, cliEntry, 'digest', `${image}:${latestTag}`],
    env: { NODE_COMPILE_CACHE: compileCache },
    check: checkDigest,
  },
  {
    name: `scanner digest (no compile cache)`,
    argv: [process.execPath, cliEntry, 'digest', `${image}:${latestTag}`],
    env: { NODE_DISABLE_COMPILE_CACHE: '1' },
    check: checkDigest,
  },
  {
    name: `skopeo inspect --format '{{.Digest}}'`,
    argv: [skopeo, 'inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${image}:${latestTag}`],
    check: checkDigest,
  },
  { name: 'node: one HEAD with node:http (no scanner code)', argv: [process.execPath, '-e', floorScript], check: checkDigest },
  {
    name: `scanner digest of ${TAG_COUNT} images (one run)`,
    argv: [process.execPath, cliEntry, 'digest', ...everyReference],
    env: { NODE_COMPILE_CACHE: compileCache },
    check: checkEveryDigest,
  },
  {
    name: `scanner digest ×${TAG_COUNT} (a shell loop)`,
    argv: shellLoop(`${process.execPath} ${cliEntry} digest "$ref"`),
    env: { NODE_COMPILE_CACHE: compileCache },
    check: checkEveryDigest,
  },
  {
    name: `skopeo inspect ×${TAG_COUNT} (a shell loop)`,
    argv: shellLoop(`${skopeo} inspect --tls-verify=false --format '{{.Digest}}' "docker://$ref"`),
    check: checkEveryDigest,
  },
  {
    name: 'scanner select (semver)',
    argv: [process.execPath, cliEntry, 'select', image, '-o', 'json'],
    env: { NODE_COMPILE_CACHE: compileCache },
    check: (stdout) => {
      const selected = (JSON.parse(stdout) as { selected: { tag: string; digest: string } | null }).selected;
      if (selected?.tag !== latestTag || selected.digest !== expectedDigest) throw new Error(`select chose ${JSON.stringify(selected)}`);
    },
  },
  {
    name: 'skopeo list-tags',
    argv: [skopeo, 'list-tags', '--tls-verify=false', `docker://${image}`],
    check: (stdout) => {
      const listed = (JSON.parse(stdout) as { Tags: string[] }).Tags;
      if (listed.length !== TAG_COUNT) throw new Error(`list-tags returned ${listed.length} tags`);
    },
  },
];

interface Sample {
  readonly ms: number;
  readonly peakRssKiB: number;
}

// A run that hangs is killed (with GNU time and everything under it) after this long, counted and left out.
const RUN_TIMEOUT_MS = 30_000;
const hung = new Map<string, number>();

/**
 * One run in its own process group, awaited (not spawnSync): the registry this process started writes its
 * access log to a pipe that this event loop must keep draining, or the registry stalls once the pipe is full.
 */
async function runOnce(command: Command): Promise<Sample | undefined> {
  const env = { PATH: process.env['PATH'] ?? '', HOME: home, ...command.env };
  // GNU time writes its one line (`%M`, the peak RSS in KiB) to a file, so stderr stays the command's own.
  const timeFile = join(scratch.path, 'time.out');
  const started = performance.now();
  const child = spawn(TIME_BINARY, ['-f', '%M', '-o', timeFile, ...command.argv], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const run = { timedOut: false };
  const timer = setTimeout(() => {
    run.timedOut = true;
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, RUN_TIMEOUT_MS);
  const status = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      resolve(code);
    });
  });
  clearTimeout(timer);
  const ms = performance.now() - started;
  if (run.timedOut) {
    hung.set(command.name, (hung.get(command.name) ?? 0) + 1);
    return undefined;
  }
  if (status !== 0) throw new Error(`${command.name} exited ${String(status)}: ${stderr}`);
  command.check(stdout);
  const peak = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
  return { ms, peakRssKiB: peak };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

// One unmeasured run each: fills the compile cache and the page cache for every side alike.
const firstRun = new Map<string, Sample | undefined>();
for (const command of commands) firstRun.set(command.name, await runOnce(command));

const samples = new Map<string, Sample[]>(commands.map((command) => [command.name, []]));
for (let run = 0; run < RUNS; run += 1) {
  for (const command of commands) {
    const sample = await runOnce(command);
    if (sample !== undefined) samples.get(command.name)?.push(sample);
  }
}

const rows = commands.map((command) => {
  const list = samples.get(command.name) ?? [];
  return {
    name: command.name,
    ms: median(list.map((sample) => sample.ms)),
    rssMiB: median(list.map((sample) => sample.peakRssKiB)) / 1024,
    firstMs: firstRun.get(command.name)?.ms ?? Number.NaN,
  };
});
const msOf = (name: string): number => rows.find((row) => row.name === name)?.ms ?? Number.NaN;
const peerOf: Readonly<Record<string, string>> = {
  'scanner digest': `skopeo inspect --format '{{.Digest}}'`,
  'scanner digest (no compile cache)': `skopeo inspect --format '{{.Digest}}'`,
  'node: one HEAD with node:http (no scanner code)': `skopeo inspect --format '{{.Digest}}'`,
  [`scanner digest of ${TAG_COUNT} images (one run)`]: `skopeo inspect ×${TAG_COUNT} (a shell loop)`,
  [`scanner digest ×${TAG_COUNT} (a shell loop)`]: `skopeo inspect ×${TAG_COUNT} (a shell loop)`,
  'scanner select (semver)': 'skopeo list-tags',
};

process.stdout.write(`CLI start-up on the real distribution registry (loopback), ${TAG_COUNT} tags; median of ${RUNS} runs, Node ${process.version}\n\n`);
process.stdout.write('| command | wall (median) | × skopeo | peak RSS (median) | first run |\n| --- | ---: | ---: | ---: | ---: |\n');
for (const row of rows) {
  const peer = peerOf[row.name];
  const ratio = peer === undefined ? '' : `${(row.ms / msOf(peer)).toFixed(2)}×`;
  process.stdout.write(`| ${row.name} | ${row.ms.toFixed(0)} ms | ${ratio} | ${row.rssMiB.toFixed(1)} MiB | ${row.firstMs.toFixed(0)} ms |\n`);
}
if (hung.size > 0) {
  process.stdout.write(`\nLeft out after ${RUN_TIMEOUT_MS / 1000} s without an answer: ${[...hung].map(([name, count]) => `${name} ×${count}`).join(', ')}.\n`);
}
process.stdout.write(
  '\n`first run` is the unmeasured warm-up (empty compile cache for ours). `select` lists the tags and resolves the chosen one; `list-tags` only lists. The node:http row is the floor for any Node program: start, one HEAD, print, exit. The ×' +
    `${TAG_COUNT} rows resolve every tag: a shell loop of one process per image, or one scanner run with every image.\n`,
);
