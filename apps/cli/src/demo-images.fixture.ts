import type { MemoryRegistry } from '@scanner/memory-registry';

/**
 * The repositories the demo and the tests seed into the in-memory registry, one per strategy:
 * - `demo/app`: semver tags, some `v`-prefixed, with prereleases and `latest`;
 * - `demo/multiarch`: semver tags with different platform sets (the newest one lacks arm64);
 * - `demo/builds`: `main-<sha>` build tags whose creation order differs from their name order, plus a newer
 *   pull-request build that the demo's `--allow-tags` leaves out;
 * - `demo/nightly`: date tags for the alphabetical strategy;
 * - `demo/numbered`: build numbers, where numerical and alphabetical order disagree.
 */
export const DEMO_REPOSITORIES = {
  app: 'demo/app',
  multiarch: 'demo/multiarch',
  builds: 'demo/builds',
  nightly: 'demo/nightly',
  numbered: 'demo/numbered',
} as const;

/** What the tests expect each strategy to pick from the seeded repositories. */
export const DEMO_EXPECTED = {
  semverCaret12: 'v1.2.3',
  semverPrerelease: 'v1.3.0-rc.1',
  semverArm64: '1.9.0',
  newestMainBuild: 'main-0c4e8f2',
  newestBuild: 'pr-118-77d1e0a',
  nightly: 'nightly-2024-05-06',
  numerical: '1024',
} as const;

const BUILDS: readonly { tag: string; created: string }[] = [
  { tag: 'main-3f9c2e1', created: '2024-05-01T09:00:00.000Z' },
  { tag: 'main-a17b0d4', created: '2024-05-03T09:00:00.000Z' },
  { tag: 'main-0c4e8f2', created: '2024-05-07T09:00:00.000Z' },
  { tag: 'pr-118-77d1e0a', created: '2024-05-08T09:00:00.000Z' },
];

/** Seeds every demo repository (no HTTP; works before or after `listen()`). */
export function seedDemoImages(registry: MemoryRegistry): void {
  const { app, multiarch, builds, nightly, numbered } = DEMO_REPOSITORIES;

  registry.seedImage(app, '1.0.0', { created: '2024-01-10T00:00:00Z' });
  registry.seedImage(app, 'v1.1.0', { created: '2024-02-10T00:00:00Z' });
  registry.seedImage(app, 'v1.2.0', { created: '2024-03-10T00:00:00Z' });
  registry.seedImage(app, ['v1.2.3', 'latest'], {
    created: '2024-03-20T00:00:00Z',
    labels: { 'org.opencontainers.image.source': 'https://example.test/demo/app', 'org.opencontainers.image.version': '1.2.3' },
  });
  registry.seedImage(app, 'v1.3.0-rc.1', { created: '2024-04-01T00:00:00Z' });
  registry.seedImage(app, 'v2.0.0-beta.1', { created: '2024-04-15T00:00:00Z' });

  registry.seedImage(multiarch, '1.8.0', { platforms: ['linux/amd64', 'linux/arm64/v8'], created: '2024-02-01T00:00:00Z' });
  registry.seedImage(multiarch, '1.9.0', {
    platforms: ['linux/amd64', 'linux/arm64/v8'],
    created: '2024-03-01T00:00:00Z',
    annotations: { 'org.opencontainers.image.title': 'multiarch' },
  });
  registry.seedImage(multiarch, '2.0.0', { platforms: ['linux/amd64'], created: '2024-04-01T00:00:00Z' });
  registry.seedImage(multiarch, '2.1.0', { platforms: ['linux/amd64', 'linux/s390x'], created: '2024-05-01T00:00:00Z' });

  for (const build of BUILDS) registry.seedImage(builds, build.tag, { created: build.created });

  for (const date of ['2024-04-28', '2024-05-02', '2024-05-06']) registry.seedImage(nightly, `nightly-${date}`, { created: `${date}T02:00:00Z` });
  registry.seedImage(nightly, 'stable', { created: '2024-05-07T02:00:00Z' });

  for (const number of ['7', '42', '99', '128', '1024']) registry.seedImage(numbered, number);
  registry.seedImage(numbered, 'latest');
}
