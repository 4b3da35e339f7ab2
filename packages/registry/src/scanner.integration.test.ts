import { buildImage, buildIndex, hasBinary, seedImage, startRegistry } from '@scanner/test-lab';
import type { Registry } from '@scanner/test-lab';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createRegistryClient } from './client.ts';
import type { RegistryEvent } from './events.ts';
import { createScanner } from './scanner.ts';

// Every strategy end to end against the real CNCF distribution registry behind real Bearer token auth
// (anonymous pull tokens from the lab's token server), seeded by skopeo, an independent client.
describe.skipIf(!hasBinary('docker-registry') || !hasBinary('skopeo'))('scanner against the real registry', () => {
  let registry: Registry;
  let image: string;
  const digests: Record<string, string> = {};
  let events: RegistryEvent[] = [];

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token', publicRepositories: 'all' });
    image = `${registry.host}/team/app`;
    const older = buildImage({ created: '2024-01-01T00:00:00Z' });
    const newest = buildImage({ created: '2024-03-01T00:00:00Z', labels: { 'org.label-schema.build-date': '2024-03-02T00:00:00Z' } });
    const multiArch = buildIndex({
      images: [
        { created: '2024-02-01T00:00:00Z', architecture: 'amd64' },
        { created: '2024-02-01T00:00:00Z', architecture: 'arm64', variant: 'v8' },
      ],
    });
    const prerelease = buildImage({ created: '2024-04-01T00:00:00Z' });
    const seeds: [string, typeof older | typeof multiArch][] = [
      ['1.0.0', older],
      ['42', older],
      ['1.1.0', newest],
      ['1.1.1', newest],
      ['v1.2.0', multiArch],
      ['2.0.0-rc.1', prerelease],
    ];
    for (const [tag, artifact] of seeds) {
      await seedImage(registry, `team/app:${tag}`, artifact);
      digests[tag] = artifact.digest;
    }
  }, 120_000);

  afterAll(async () => {
    await registry.stop();
  });

  beforeEach(() => {
    events = [];
  });

  function scanner() {
    return createScanner({ client: createRegistryClient({ onEvent: (event) => events.push(event) }) });
  }

  function requests(): Record<string, number> {
    const byKind: Record<string, number> = {};
    for (const event of events) if (event.type === 'request') byKind[`${event.method} ${event.kind}`] = (byKind[`${event.method} ${event.kind}`] ?? 0) + 1;
    return byKind;
  }

  test('semver: the tag list and one HEAD, behind one anonymous token', async () => {
    const result = await scanner().select(image, { strategy: 'semver', constraint: '^1.0' });
    expect(result.selected).toEqual({ tag: 'v1.2.0', digest: digests['v1.2.0'], createdAt: undefined, platforms: undefined });
    expect(result.candidates.map((candidate) => candidate.tag)).toEqual(['v1.2.0', '1.1.1', '1.1.0', '1.0.0']);
    const counted = requests();
    expect(counted['GET tags']).toBe(2); // the first is answered 401 with the challenge
    expect(counted['HEAD manifest']).toBe(1);
    expect(counted['GET token']).toBe(1);
  });

  test('semver with a platform filter walks candidates in rank order', async () => {
    const arm = await scanner().select(image, { strategy: 'semver', constraint: '^1.0', platforms: ['linux/arm64'] });
    expect(arm.selected?.tag).toBe('v1.2.0');
    expect(arm.selected?.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    const s390x = await scanner().select(image, { strategy: 'semver', constraint: '^1.0', platforms: ['linux/s390x'] });
    expect(s390x.selected).toBeNull();
  });

  test('newest-build fetches metadata once per distinct digest', async () => {
    const result = await scanner().select(image, { strategy: 'newest-build', allowTags: ['1.*'] });
    // 1.1.0 and 1.1.1 share one image dated by its build-date label (later than its config); the tie goes to
    // the byte-wise greater tag.
    expect(result.candidates.map((candidate) => [candidate.tag, candidate.createdAt])).toEqual([
      ['1.1.1', '2024-03-02T00:00:00.000Z'],
      ['1.1.0', '2024-03-02T00:00:00.000Z'],
      ['1.0.0', '2024-01-01T00:00:00.000Z'],
    ]);
    expect(result.selected?.digest).toBe(digests['1.1.1']);
    const counted = requests();
    expect(counted['HEAD manifest']).toBe(3);
    expect(counted['GET manifest']).toBe(2);
    expect(counted['GET blob']).toBe(2);
  });

  test('alphabetical and numerical', async () => {
    expect((await scanner().select(image, { strategy: 'alphabetical' })).selected?.tag).toBe('v1.2.0');
    expect((await scanner().select(image, { strategy: 'alphabetical', order: 'desc' })).selected?.tag).toBe('1.0.0');
    const numerical = await scanner().select(image, { strategy: 'numerical' });
    expect(numerical.selected).toMatchObject({ tag: '42', digest: digests['42'] });
  });

  test('digest: one HEAD of the tracked tag, no listing', async () => {
    const result = await scanner().select(image, { strategy: 'digest', constraint: '1.1.0' });
    expect(result.selected?.digest).toBe(digests['1.1.0']);
    const counted = requests();
    expect(counted['GET tags']).toBeUndefined();
    expect(counted['HEAD manifest']).toBe(2); // the first is answered 401 with the challenge
  });
});
