// The dry run at scale: a plan of 1,000 images × 20 tags × 2 targets on the in-memory registry (one source, two
// targets), with requests counted through the client's event hook. Three states of the targets: empty (the
// first mirror: every repository missing), complete (a no-op re-sync), and complete with one mutable tag per
// image (`latest`, compared by digest). Each image selects 19 semver tags and `latest`.
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { createRegistryClient } from '@scanner/registry';
import type { RegistryEvent } from '@scanner/registry';
import { assembleMirrorConfig, parseTargetsFile, parseTeamFile, planMirror } from '@scanner/sync';
import type { MirrorConfig, Plan } from '@scanner/sync';

const IMAGES = 1000;
const TAGS = 20;
const IMAGES_PER_FILE = 100;

const source = createMemoryRegistry();
const main = createMemoryRegistry();
const regional = createMemoryRegistry();

const tags = [...Array.from({ length: TAGS - 1 }, (_, index) => `1.${Math.floor(index / 5)}.${index % 5}`), 'latest'];
const repositories = Array.from({ length: IMAGES }, (_, index) => `team-${Math.floor(index / IMAGES_PER_FILE)}/app-${index}`);
for (const repository of repositories) source.seedImage(repository, tags, { seed: repository });

const [sourceAddress, mainAddress, regionalAddress] = await Promise.all([source.listen(), main.listen(), regional.listen()]);

function config(mutable: boolean): MirrorConfig {
  const targets = parseTargetsFile(`targets:
  - { name: main, registry: '${mainAddress.host}' }
  - { name: regional, registry: '${regionalAddress.host}', prefix: acme }
`);
  if (!targets.ok) throw new Error('invalid targets');
  const teams = [];
  for (let file = 0; file < IMAGES / IMAGES_PER_FILE; file++) {
    const images = repositories
      .slice(file * IMAGES_PER_FILE, (file + 1) * IMAGES_PER_FILE)
      .map((repository) => `  - source: ${sourceAddress.host}/${repository}\n${mutable ? '    mutable: [latest]\n' : ''}    tags: [{ semver: '>=1.0.0' }, { names: [latest] }]\n`)
      .join('');
    const parsed = parseTeamFile(`owner: team-${file}\nimages:\n${images}`, `team-${file}.yaml`);
    if (!parsed.ok) throw new Error(`invalid team file: ${parsed.issues[0]?.message ?? ''}`);
    teams.push(parsed.value);
  }
  const assembled = assembleMirrorConfig('bench', targets.value, teams);
  if (assembled.issues.length > 0) throw new Error(`invalid config: ${assembled.issues[0]?.message ?? ''}`);
  return assembled.config;
}

/** Puts every source tag into a target as it is (same digests), in-process. */
function fill(target: MemoryRegistry, prefix: string): void {
  for (const repository of repositories) {
    const to = `${prefix}${repository}`;
    const manifest = source.getManifest(repository, 'latest');
    if (manifest === undefined) throw new Error(`no ${repository}:latest`);
    const parsed = JSON.parse(manifest.bytes.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    for (const digest of [parsed.config.digest, ...parsed.layers.map((layer) => layer.digest)]) {
      const blob = source.getBlob(repository, digest);
      if (blob === undefined) throw new Error(`no blob ${digest}`);
      target.putBlob(to, blob);
    }
    for (const tag of tags) target.putManifest(to, tag, manifest.bytes, manifest.mediaType);
  }
}

interface Row {
  readonly scenario: string;
  readonly plan: Plan;
  readonly requests: Map<string, number>;
  readonly ms: number;
  readonly rssMiB: number;
}

async function measure(scenario: string, mirrorConfig: MirrorConfig): Promise<Row> {
  const requests = new Map<string, number>();
  const onEvent = (event: RegistryEvent): void => {
    if (event.type !== 'request') return;
    const key = `${event.method} ${event.kind}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
  };
  const client = createRegistryClient({ onEvent });
  globalThis.gc?.();
  const started = performance.now();
  const plan = await planMirror(mirrorConfig, { client });
  const ms = performance.now() - started;
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  await client.close();
  if (plan.errors.length > 0) throw new Error(`${scenario}: ${plan.errors.length} errors, first: ${plan.errors[0]?.message ?? ''}`);
  return { scenario, plan, requests, ms, rssMiB };
}

const rows: Row[] = [];
rows.push(await measure('first mirror (targets empty)', config(false)));
fill(main, '');
fill(regional, 'acme/');
rows.push(await measure('no-op (targets complete)', config(false)));
rows.push(await measure('no-op, `latest` mutable', config(true)));

await Promise.all([source.close(), main.close(), regional.close()]);

const count = (plan: Plan, action: string): number => plan.items.filter((item) => item.action === action).length;
const header = ['scenario', 'items', 'copy / update / skip', 'tag lists', 'manifest HEAD', 'manifest GET', 'other', 'requests', 'wall time', 'requests/s', 'pulls (source)', 'RSS after'];
console.log(`${IMAGES} images × ${TAGS} tags × 2 targets (${IMAGES * TAGS * 2} plan items), in-memory registries on loopback, default concurrency (8)\n`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) {
  const total = [...row.requests.values()].reduce((sum, value) => sum + value, 0);
  const tagLists = row.requests.get('GET tags') ?? 0;
  const heads = row.requests.get('HEAD manifest') ?? 0;
  const gets = row.requests.get('GET manifest') ?? 0;
  const cells = [
    row.scenario,
    String(row.plan.items.length),
    `${count(row.plan, 'copy')} / ${count(row.plan, 'update')} / ${count(row.plan, 'skip')}`,
    String(tagLists),
    String(heads),
    String(gets),
    String(total - tagLists - heads - gets),
    String(total),
    `${(row.ms / 1000).toFixed(2)} s`,
    (total / (row.ms / 1000)).toFixed(0),
    String(row.plan.pulls[sourceAddress.host] ?? 0),
    `${row.rssMiB.toFixed(0)} MiB`,
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
