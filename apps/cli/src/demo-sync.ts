// The mirroring part of `pnpm demo`: three in-memory registries (an upstream and two targets), a config
// directory with two teams, then `scanner plan`, `scanner sync` and a no-op re-sync through the CLI's `main()`,
// each with the requests every registry answered and the blob bytes moved.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry, RecordedRequest } from '@scanner/memory-registry';
import { main } from './main.ts';
import type { PlanJson, SyncJson } from './mirror-output.ts';
import { formatBytes } from './mirror-output.ts';

function describeRequests(requests: readonly RecordedRequest[]): string {
  const byKind = new Map<string, number>();
  for (const request of requests) {
    const key = `${request.method} ${request.route}`;
    byKind.set(key, (byKind.get(key) ?? 0) + 1);
  }
  const parts = [...byKind].sort(([a], [b]) => (a < b ? -1 : 1)).map(([kind, count]) => `${kind} ${count}`);
  return `${requests.length} request${requests.length === 1 ? '' : 's'}${parts.length === 0 ? '' : ` (${parts.join(', ')})`}`;
}

async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: (chunk: string) => (stderr += chunk) }, env: {} });
  return { code, stdout, stderr };
}

/**
 * Runs the sync demo, writing to `write`; returns how many steps did not do what they should (a sync that
 * failed or left a target digest different from the source's, a re-sync that moved bytes or copied).
 */
export async function runSyncDemo(write: (text: string) => void): Promise<number> {
  await using upstream = createMemoryRegistry();
  await using main1 = createMemoryRegistry();
  await using regional = createMemoryRegistry();
  for (const tag of ['16.1.0', '16.2.0', '16.3.0', '15.9.0']) upstream.seedImage('bitnami/postgresql', tag, { platforms: ['linux/amd64', 'linux/arm64'], layers: 3, seed: `pg-${tag}` });
  upstream.seedImage('bitnami/postgresql', 'latest', { platforms: ['linux/amd64', 'linux/arm64'], layers: 3, seed: 'pg-16.3.0' });
  for (const tag of ['1.26.2', '1.27.0', '1.27.1']) upstream.seedImage('library/nginx', tag, { layers: 2, seed: `nginx-${tag}` });
  const [up, mainAddress, regionalAddress] = await Promise.all([upstream.listen(), main1.listen(), regional.listen()]);
  const registries: readonly [string, MemoryRegistry][] = [
    ['upstream', upstream],
    ['main', main1],
    ['regional', regional],
  ];

  const dir = await mkdtemp(join(tmpdir(), 'scanner-demo-mirror-'));
  try {
    await writeFile(join(dir, 'targets.yaml'), `targets:\n  - name: main\n    registry: ${mainAddress.host}\n  - name: regional\n    registry: ${regionalAddress.host}\n    prefix: acme\n`);
    await writeFile(
      join(dir, 'team-storage.yaml'),
      `owner: team-storage\nprovenance: true\nimages:\n  - source: ${up.host}/bitnami/postgresql\n    tags:\n      - semver: '>=16.0.0'\n        limit: 2\n      - names: [latest]\n    mutable: [latest]\n`,
    );
    await writeFile(join(dir, 'team-web.yaml'), `owner: team-web\ntargets: [main]\nimages:\n  - source: ${up.host}/library/nginx\n    tags:\n      - semver: '~1.27'\n`);
    write(`\nmirroring: upstream ${up.host}, targets main=${mainAddress.host} and regional=${regionalAddress.host} (prefix acme), config ${dir}\n`);

    let failures = 0;
    const step = async (title: string, argv: readonly string[], show: boolean): Promise<{ code: number; stdout: string; stderr: string }> => {
      for (const [, registry] of registries) registry.resetRequests();
      const result = await run(argv);
      write(`\n$ scanner ${argv.join(' ').replace(dir, './mirror')}    # ${title}\n`);
      if (show) write(result.stdout);
      write('requests answered:\n');
      for (const [name, registry] of registries) write(`  ${name.padEnd(8)} ${describeRequests(registry.requests())}\n`);
      return result;
    };

    const plan = await step('the dry run', ['plan', '--config', dir], true);
    if (plan.code !== 0) failures += 1;

    const sync = await step('copy what is missing', ['sync', '--config', dir, '--progress', 'none'], true);
    if (sync.code !== 0) failures += 1;
    // Every planned tag now has the upstream's digest at its target.
    const check = await run(['plan', '--config', dir, '-o', 'json']);
    const planned = JSON.parse(check.stdout || '{"items":[]}') as PlanJson;
    if (planned.items.length === 0 || planned.items.some((item) => item.action !== 'skip')) failures += 1;
    for (const item of planned.items) {
      const [sourceRepo, tag] = item.source.slice(up.host.length + 1).split(':');
      const target = item.targetName === 'main' ? main1 : regional;
      const targetRepo = item.target.slice(item.target.indexOf('/') + 1).split(':')[0] ?? '';
      if (upstream.getManifest(sourceRepo ?? '', tag ?? '')?.digest !== target.getManifest(targetRepo, tag ?? '')?.digest) failures += 1;
    }

    const again = await step('the no-op re-sync', ['sync', '--config', dir, '--progress', 'none', '-o', 'json'], false);
    const report = JSON.parse(again.stdout || '{"items":[],"stats":{}}') as SyncJson;
    const idle = report.items.every((item) => item.result === 'skipped') && report.stats.bytesUploaded === 0;
    if (again.code !== 0 || !idle) failures += 1;
    write(`  → ${report.items.filter((item) => item.result === 'skipped').length} of ${report.items.length} tags already there, ${formatBytes(report.stats.bytesUploaded)} of blobs moved, ${report.stats.manifestsPut} manifests put\n`);
    if (failures > 0) write(`  ✗ ${failures} mirroring step(s) did not do what they should${sync.stderr === '' ? '' : `: ${sync.stderr.trim()}`}\n`);
    return failures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
