// Registry requests per selection strategy for a 2,000-tag repository: cold, warm with the tag strategy, warm
// with the digest strategy (tag list still cached, and expired), beside the reference approach for newest-build
// (a manifest GET and a config GET per tag, as Argo CD Image Updater does). Requests are counted with the
// client's event hook; the registry is the in-memory one, paginating at 100 tags per page like GHCR.
import { createMemoryCache } from '@scanner/cache-memory';
import { createMemoryRegistry } from '@scanner/memory-registry';
import { createRegistryClient, createScanner } from '@scanner/registry';
import type { CacheStrategy, RegistryEvent } from '@scanner/registry';
import type { PolicyInput } from '@scanner/version';

const IMAGES = 100;
const TAGS_PER_IMAGE = 20;
const PAGE_SIZE = 100;
const REPOSITORY = 'bench/app';

const registry = createMemoryRegistry({ maxPageSize: PAGE_SIZE });
// Each image carries ten semver tags and ten build tags: 2,000 tags over 100 distinct images.
for (let image = 0; image < IMAGES; image++) {
  const major = Math.floor(image / 10);
  const minor = image % 10;
  const tags = [];
  for (let k = 0; k < TAGS_PER_IMAGE / 2; k++) tags.push(`${major}.${minor}.${k}`, `build-${image * 10 + k}`);
  const created = new Date(Date.UTC(2024, 0, 1) + image * 3_600_000);
  registry.seedImage(REPOSITORY, tags, { created, seed: `image-${image}`, ...(image % 2 === 0 ? { platforms: ['linux/amd64', 'linux/arm64/v8'] } : {}) });
}
const { host } = await registry.listen();
const image = `${host}/${REPOSITORY}`;

const policies: Record<string, PolicyInput> = {
  semver: { strategy: 'semver', constraint: '>=1.0.0 <9.0.0' },
  'semver + platform': { strategy: 'semver', constraint: '>=1.0.0 <9.0.0', platforms: ['linux/arm64'] },
  'newest-build': { strategy: 'newest-build', allowTags: ['build-*'] },
  alphabetical: { strategy: 'alphabetical', allowTags: ['build-*'] },
  numerical: { strategy: 'numerical', extract: { pattern: '^build-(\\d+)$', template: '$1' } },
  digest: { strategy: 'digest', constraint: '9.9.9' },
};

let requests = 0;
const onEvent = (event: RegistryEvent): void => {
  if (event.type === 'request') requests += 1;
};

interface Measured {
  requests: number;
  ms: number;
  tag: string | undefined;
}

async function measure(run: () => Promise<string | undefined>): Promise<Measured> {
  requests = 0;
  const started = performance.now();
  const tag = await run();
  return { requests, ms: performance.now() - started, tag };
}

function scannerWith(strategy: CacheStrategy) {
  const cache = createMemoryCache({ namespace: `bench-${strategy}` });
  return { cache, scanner: createScanner({ client: createRegistryClient({ onEvent }), cache, cacheStrategy: strategy }) };
}

// The reference approach for newest-build: every tag's manifest and config, no cache, no dedupe by digest.
async function referenceNewestBuild(): Promise<string | undefined> {
  const client = createRegistryClient({ onEvent });
  const tags = (await client.listTags(image)).filter((tag) => tag.startsWith('build-'));
  let best: { tag: string; created: string } | undefined;
  for (let i = 0; i < tags.length; i += 8) {
    const batch = tags.slice(i, i + 8);
    const metadata = await Promise.all(batch.map((tag) => client.getImageMetadata(`${image}:${tag}`)));
    metadata.forEach((meta, index) => {
      const tag = batch[index] ?? '';
      const created = meta.created ?? '';
      if (best === undefined || created > best.created || (created === best.created && tag > best.tag)) best = { tag, created };
    });
  }
  await client.close();
  return best?.tag;
}

const rows: string[][] = [];
for (const [name, policy] of Object.entries(policies)) {
  const byTag = scannerWith('tag');
  const cold = await measure(async () => (await byTag.scanner.select(image, policy)).selected?.tag);
  const warmTag = await measure(async () => (await byTag.scanner.select(image, policy)).selected?.tag);
  const byDigest = scannerWith('digest');
  await byDigest.scanner.select(image, policy);
  const warmDigest = await measure(async () => (await byDigest.scanner.select(image, policy)).selected?.tag);
  await byDigest.cache.delete(`v1:tags:${image}`);
  const warmDigestExpired = await measure(async () => (await byDigest.scanner.select(image, policy)).selected?.tag);
  const reference = name === 'newest-build' ? await measure(referenceNewestBuild) : undefined;
  if (reference !== undefined && reference.tag !== cold.tag) throw new Error(`reference chose ${String(reference.tag)}, scanner chose ${String(cold.tag)}`);
  const cell = (m: Measured): string => `${m.requests} (${m.ms.toFixed(0)} ms)`;
  rows.push([name, cold.tag ?? '—', cell(cold), cell(warmTag), cell(warmDigest), cell(warmDigestExpired), reference === undefined ? '—' : cell(reference)]);
}

await registry.close();

const header = ['strategy', 'selected', 'cold', 'warm, tag strategy', 'warm, digest strategy', 'warm, digest, tag list expired', 'reference (manifest + config per tag)'];
console.log(`${IMAGES * TAGS_PER_IMAGE} tags over ${IMAGES} images (half multi-arch), ${PAGE_SIZE} tags per page; registry requests (wall time)\n`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
