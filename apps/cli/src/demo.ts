/**
 * `pnpm demo`: starts the in-memory registry on a free loopback port, seeds it, and runs the CLI's `main()`
 * in-process (the code path of the `scanner` binary) through every strategy and both cache strategies,
 * printing each command line, what it selected and how many registry requests it took. Needs no network and
 * no installed registry. Then mirrors (demo-sync.ts): plan, sync and a no-op re-sync between three in-memory
 * registries, with the requests and bytes each took. Exits 1 if any command did not do what it should.
 */
import { createMemoryCache } from '@scanner/cache-memory';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { RecordedRequest } from '@scanner/memory-registry';
import type { Cache } from '@scanner/registry';
import { DEMO_EXPECTED, DEMO_REPOSITORIES, seedDemoImages } from './demo-images.fixture.ts';
import { runSyncDemo } from './demo-sync.ts';
import { main } from './main.ts';
import type { SelectJson } from './output.ts';
import { shortDigest } from './output.ts';

interface Step {
  readonly args: readonly string[];
  readonly expect: string;
  readonly memoryCache?: Cache;
  /** Printed before the step, e.g. to introduce the cache runs. */
  readonly title?: string;
  /** Prefixes the result, e.g. `cold`/`warm`; a step with a label and the same args as the last one reuses its command line. */
  readonly label?: string;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./$-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

function describeRequests(requests: readonly RecordedRequest[]): string {
  if (requests.length === 0) return '0 requests';
  const byRoute = new Map<string, number>();
  for (const request of requests) {
    const key = request.route === 'manifest' ? `${request.method} manifest` : request.route;
    byRoute.set(key, (byRoute.get(key) ?? 0) + 1);
  }
  const parts = [...byRoute].map(([route, count]) => `${route} ${count}`);
  return `${requests.length} request${requests.length === 1 ? '' : 's'} (${parts.join(', ')})`;
}

/** Runs every step; returns how many did not select what they should. */
async function runDemo(): Promise<number> {
  await using registry = createMemoryRegistry();
  seedDemoImages(registry);
  const { host, origin } = await registry.listen();
  // Commands are shown with $R for the registry so that they fit on a line.
  const image = (repository: string): string => `$R/${repository}`;
  const { app, multiarch, builds, nightly, numbered } = DEMO_REPOSITORIES;
  const tagCache = createMemoryCache({ namespace: 'demo-tag' });
  const digestCache = createMemoryCache({ namespace: 'demo-digest' });
  const newestMain = ['--strategy', 'newest-build', '--allow-tags', 'glob:main-*'];

  const steps: Step[] = [
    { args: ['select', image(app), '--strategy', 'semver', '--constraint', '^1.2'], expect: DEMO_EXPECTED.semverCaret12 },
    { args: ['select', image(multiarch), '--strategy', 'semver', '--platform', 'linux/arm64'], expect: DEMO_EXPECTED.semverArm64 },
    { args: ['select', image(builds), ...newestMain], expect: DEMO_EXPECTED.newestMainBuild },
    { args: ['select', image(nightly), '--strategy', 'alphabetical', '--allow-tags', 'glob:nightly-*'], expect: DEMO_EXPECTED.nightly },
    { args: ['select', image(numbered), '--strategy', 'numerical'], expect: DEMO_EXPECTED.numerical },
    { args: ['select', image(app), '--strategy', 'digest', '--constraint', 'latest'], expect: 'latest' },
    ...(['tag', 'digest'] as const).flatMap((strategy): Step[] => {
      const memoryCache = strategy === 'tag' ? tagCache : digestCache;
      const args = ['select', image(builds), ...newestMain, '--cache', 'memory', '--cache-strategy', strategy];
      return [
        { args, expect: DEMO_EXPECTED.newestMainBuild, memoryCache, title: `\nthe same scan twice with a memory cache, --cache-strategy ${strategy}:`, label: 'cold' },
        { args, expect: DEMO_EXPECTED.newestMainBuild, memoryCache, label: 'warm' },
      ];
    }),
  ];

  const write = (text: string): void => {
    process.stdout.write(text);
  };
  write(`scanner demo: an in-memory OCI registry at ${origin} (R=${host}), ${registry.repositories().length} repositories, no network\n\n`);
  let failures = 0;
  let previous: readonly string[] | undefined;
  for (const step of steps) {
    if (step.title !== undefined) write(`${step.title}\n`);
    const shown = [...step.args, '-o', 'json'];
    const argv = shown.map((arg) => arg.replace('$R', host));
    let out = '';
    let err = '';
    registry.resetRequests();
    const code = await main(argv, {
      stdout: { write: (chunk: string) => (out += chunk) },
      stderr: { write: (chunk: string) => (err += chunk) },
      env: {},
      ...(step.memoryCache === undefined ? {} : { memoryCache: step.memoryCache }),
    });
    const requests = describeRequests(registry.requests());
    if (previous === undefined || step.label === undefined || previous.join(' ') !== shown.join(' ')) {
      write(`$ scanner ${shown.map(shellQuote).join(' ')}\n`);
    }
    previous = shown;
    if (code !== 0) {
      failures += 1;
      write(`  ✗ exit ${code}: ${err.trim()}\n`);
      continue;
    }
    const { selected } = JSON.parse(out) as SelectJson;
    const ok = selected?.tag === step.expect;
    if (!ok) failures += 1;
    const facts = [selected?.createdAt?.slice(0, 10), selected?.platforms?.join(',')].filter((value) => value !== undefined);
    write(
      `  ${step.label === undefined ? '' : `${step.label}: `}${ok ? '→' : `✗ expected ${step.expect}, got`} ${selected?.tag ?? 'nothing'} ` +
        `${shortDigest(selected?.digest)}${facts.length === 0 ? '' : ` (${facts.join(', ')})`}  ·  ${requests}\n`,
    );
  }
  await Promise.all([tagCache.close(), digestCache.close()]);
  return failures;
}

const scanFailures = await runDemo();
process.stdout.write(scanFailures === 0 ? '\nevery strategy selected what it should; the registry is stopped\n' : `\n${scanFailures} step(s) failed\n`);
const syncFailures = await runSyncDemo((text) => process.stdout.write(text));
process.stdout.write(syncFailures === 0 ? '\nthe mirror holds the upstream digests; the re-sync moved nothing; the registries are stopped\n' : `\n${syncFailures} mirroring step(s) failed\n`);
process.exitCode = scanFailures + syncFailures === 0 ? 0 : 1;
