import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { planImage, planMirror } from './plan.ts';
import { configFrom, countingClient } from './plan.fixture.ts';
import type { MirrorConfig, PlanItem } from './types.ts';

let source: MemoryRegistry;
let target: MemoryRegistry;
let other: MemoryRegistry;
let src: string;
let dst: string;
let dst2: string;

beforeEach(async () => {
  source = createMemoryRegistry();
  target = createMemoryRegistry();
  other = createMemoryRegistry();
  src = (await source.listen()).host;
  dst = (await target.listen()).host;
  dst2 = (await other.listen()).host;
});
afterEach(async () => {
  await Promise.all([source.close(), target.close(), other.close()]);
});

function targets(): string {
  return `targets:
  - name: main
    registry: ${dst}
  - name: regional
    registry: ${dst2}
    prefix: acme
`;
}

function config(team: string, file = 'team-a.yaml'): MirrorConfig {
  return configFrom(targets(), { [file]: team });
}

/** Copies a tag's manifest as it is (blobs included) into another memory registry, so digests are equal. */
function mirrorTag(from: MemoryRegistry, fromRepo: string, to: MemoryRegistry, toRepo: string, tag: string, toTag = tag): void {
  const manifest = from.getManifest(fromRepo, tag);
  if (manifest === undefined) throw new Error(`no ${fromRepo}:${tag}`);
  const parsed = JSON.parse(manifest.bytes.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  for (const digest of [parsed.config.digest, ...parsed.layers.map((layer) => layer.digest)]) {
    const blob = from.getBlob(fromRepo, digest);
    if (blob === undefined) throw new Error(`no blob ${digest}`);
    to.putBlob(toRepo, blob);
  }
  to.putManifest(toRepo, toTag, manifest.bytes, manifest.mediaType);
}

const brief = (items: readonly PlanItem[]) => items.map((item) => `${item.targetName} ${item.action} ${item.source} -> ${item.target}`);

describe('planImage / planMirror on the in-memory registry', () => {
  test('immutable tags are compared by name: no manifest request at all, one tag list per side', async () => {
    for (const tag of ['1.0.0', '1.1.0', '2.0.0', '2.1.0-rc.1', 'latest']) source.seedImage('team/app', tag);
    mirrorTag(source, 'team/app', target, 'team/app', '1.1.0');
    const cfg = config(`owner: team-a
targets: [main]
images:
  - source: ${src}/team/app
    tags:
      - semver: '>=1.0.0'
        limit: 2
`);
    await using counting = countingClient();
    const image = cfg.images[0];
    const main = cfg.targets[0];
    if (image === undefined || main === undefined) throw new Error('config');
    const plan = await planImage(image, main, { client: counting.client });
    expect(brief(plan.items)).toEqual([
      `main skip ${src}/team/app:1.1.0 -> ${dst}/team/app:1.1.0`,
      `main copy ${src}/team/app:2.0.0 -> ${dst}/team/app:2.0.0`,
    ]);
    expect(plan.items.every((item) => item.sourceDigest === null && item.targetDigest === null && !item.mutable)).toBe(true);
    expect(plan.errors).toEqual([]);
    expect(plan.repositories).toEqual([{ targetName: 'main', repository: `${dst}/team/app`, exists: true }]);
    expect(counting.summary().sort()).toEqual([`GET tags ${dst}/team/app`, `GET tags ${src}/team/app`].sort());
    expect(plan.pulls).toEqual({ [src]: 1 });
  });

  test('mutable tags are compared by digest (HEAD on both sides): skip when equal, update when the source moved, copy when missing', async () => {
    source.seedImage('team/app', ['latest', 'stable', 'edge']);
    mirrorTag(source, 'team/app', target, 'team/app', 'latest');
    mirrorTag(source, 'team/app', target, 'team/app', 'stable');
    // The source's stable moves on.
    const moved = source.seedImage('team/app', 'stable', { seed: 'moved', created: '2025-01-01T00:00:00Z' });
    const cfg = config(`owner: team-a
targets: [main]
images:
  - source: ${src}/team/app
    mutable: [latest, stable, edge]
    tags: [{ names: [latest, stable, edge] }]
`);
    await using counting = countingClient();
    const plan = await planMirror(cfg, { client: counting.client });
    const latestDigest = source.getManifest('team/app', 'latest')?.digest ?? '';
    const oldStable = target.getManifest('team/app', 'stable')?.digest ?? '';
    expect(plan.items.map((item) => [item.target.split(':').pop(), item.action, item.sourceDigest, item.targetDigest, item.mutable])).toEqual([
      ['edge', 'copy', latestDigest, null, true],
      ['latest', 'skip', latestDigest, latestDigest, true],
      ['stable', 'update', moved.digest, oldStable, true],
    ]);
    expect(oldStable).not.toBe(moved.digest);
    const heads = counting.requests.filter((request) => request.method === 'HEAD');
    expect(heads).toHaveLength(5);
    expect(counting.requests.filter((request) => request.kind === 'manifest' && request.method === 'GET')).toEqual([]);
    // Two distinct source digests to read for the copy of edge and the update of stable.
    expect(plan.pulls).toEqual({ [src]: 2 });
  });

  test('a pinned digest gets its tag at the target and is compared by digest', async () => {
    const pinned = source.seedImage('team/app', '1.0.0');
    source.seedImage('team/app', '1.0.0', { seed: 'retagged' });
    const cfg = config(`owner: team-a
images:
  - source: ${src}/team/app
    targets: [main]
    tags:
      - digest: ${pinned.digest}
        tag: 1.0.0-pinned
`);
    await using counting = countingClient();
    const first = await planMirror(cfg, { client: counting.client });
    expect(first.items).toMatchObject([
      { action: 'copy', source: `${src}/team/app@${pinned.digest}`, target: `${dst}/team/app:1.0.0-pinned`, sourceDigest: pinned.digest, targetDigest: null, mutable: true },
    ]);
    // A pinned-only image needs no source listing at all.
    expect(counting.summary()).toEqual([`GET tags ${dst}/team/app`]);
    mirrorTag(source, 'team/app', target, 'team/app', pinned.digest, '1.0.0-pinned');
    expect((await planMirror(cfg, { client: counting.client })).items[0]).toMatchObject({ action: 'skip', targetDigest: pinned.digest });
    mirrorTag(source, 'team/app', target, 'team/app', '1.0.0', '1.0.0-pinned');
    expect((await planMirror(cfg, { client: counting.client })).items[0]).toMatchObject({ action: 'update', sourceDigest: pinned.digest });
  });

  test('a target repository that does not exist: every tag is copy, and it is marked', async () => {
    source.seedImage('team/app', ['1', '2']);
    const cfg = config(`owner: team-a
images:
  - source: ${src}/team/app
    tags: [{ semver: '*', strict: false }]
`);
    await using counting = countingClient();
    const plan = await planMirror(cfg, { client: counting.client });
    expect(brief(plan.items)).toEqual([
      `main copy ${src}/team/app:1 -> ${dst}/team/app:1`,
      `main copy ${src}/team/app:2 -> ${dst}/team/app:2`,
      `regional copy ${src}/team/app:1 -> ${dst2}/acme/team/app:1`,
      `regional copy ${src}/team/app:2 -> ${dst2}/acme/team/app:2`,
    ]);
    expect(plan.repositories).toEqual([
      { targetName: 'main', repository: `${dst}/team/app`, exists: false },
      { targetName: 'regional', repository: `${dst2}/acme/team/app`, exists: false },
    ]);
    // The source is listed once for both targets.
    expect(counting.summary().filter((line) => line.includes(src))).toEqual([`GET tags ${src}/team/app`]);
    // Pulls are per distinct source manifest, not per target.
    expect(plan.pulls).toEqual({ [src]: 2 });
  });

  test('an unreachable source is an error of its own; the other images are planned', async () => {
    source.seedImage('team/app', '1.0.0');
    const gone = createMemoryRegistry();
    const goneHost = (await gone.listen()).host;
    await gone.close();
    const cfg = config(`owner: team-a
targets: [main]
images:
  - source: ${src}/team/app
    tags: [{ names: ['1.0.0'] }]
  - source: ${goneHost}/team/lost
    tags: [{ names: ['1.0.0'] }]
  - source: ${src}/team/missing
    tags: [{ names: ['1.0.0'] }]
`);
    await using counting = countingClient();
    const plan = await planMirror(cfg, { client: counting.client });
    expect(brief(plan.items)).toEqual([`main copy ${src}/team/app:1.0.0 -> ${dst}/team/app:1.0.0`]);
    expect(plan.errors).toHaveLength(2);
    expect(plan.errors).toEqual(expect.arrayContaining([
      expect.objectContaining({ owner: 'team-a', source: `${goneHost}/team/lost`, targetName: 'main', code: 'network', imageId: `team-a.yaml#${goneHost}/team/lost`, file: 'team-a.yaml' }),
      expect.objectContaining({ source: `${src}/team/missing`, targetName: 'main', code: 'NAME_UNKNOWN' }),
    ]));
    for (const error of plan.errors) expect(error.message).not.toContain('\n');
  });

  test('exclude drops tags before limit; targetTag renames; rules are a union listed once', async () => {
    for (const tag of ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.2.0-debian-11', 'stable-1.30.2', 'stable-1.31.0', 'latest']) source.seedImage('team/app', tag);
    const cfg = config(`owner: team-a
targets: [main]
images:
  - source: ${src}/team/app
    exclude: ['v1.2.0']
    targetTag: { pattern: '^v(.*)$', template: '$1' }
    tags:
      - semver: '^1'
        limit: 2
      - regexp: 'debian'
      - semver: '>=1.31'
        extract: { pattern: '^stable-(.*)$', template: '$1' }
      - names: [latest]
`);
    await using counting = countingClient();
    const plan = await planMirror(cfg, { client: counting.client });
    expect(plan.items.map((item) => `${item.source.split(':').pop() ?? ''} -> ${item.target.split(':').pop() ?? ''}`)).toEqual([
      'v1.0.0 -> 1.0.0',
      'v1.1.0 -> 1.1.0',
      'v1.2.0-debian-11 -> 1.2.0-debian-11',
      'latest -> latest',
      'stable-1.31.0 -> stable-1.31.0',
    ]);
    expect(counting.summary().filter((line) => line.includes(src))).toEqual([`GET tags ${src}/team/app`]);
  });

  test('targetTag turning two tags into one, or into an invalid name, is a plan error naming the tag', async () => {
    for (const tag of ['v1', 'x1', 'v-']) source.seedImage('team/app', tag);
    const cfg = config(`owner: team-a
targets: [main]
images:
  - source: ${src}/team/app
    targetTag: { pattern: '^[vx](.*)$', template: '$1' }
    tags: [{ regexp: '.' }]
`);
    await using counting = countingClient();
    const plan = await planMirror(cfg, { client: counting.client });
    // Which of the two the user meant cannot be told (the lowest? the newest?): neither is copied.
    expect(brief(plan.items)).toEqual([]);
    expect(plan.errors.map((error) => [error.code, error.message])).toEqual([
      ['invalid_target_tag', 'targetTag turns "v-" into "-", which is not a valid tag name; the tag is left out'],
      ['target_tag_conflict', `target tag "1" would be written from ${src}/team/app:v1, ${src}/team/app:x1; none of them is copied (fix targetTag so that each selected tag gets its own name)`],
    ]);
  });

  test('tags named like the referrers tag schema or cosign tags are never selected, nor written by targetTag', async () => {
    const hex = 'da'.repeat(32);
    const reserved = [`sha256-${hex}`, `sha256-${hex}.sig`, `sha256-${hex}.att`, `sha256-${hex}.sbom`, `sha512-${hex}`];
    for (const tag of ['v1', 'new', ...reserved, `x-${hex}`]) source.seedImage('team/app', tag, { created: tag === 'new' ? '2024-01-01T00:00:00Z' : '2023-01-01T00:00:00Z' });
    const cfg = config(`owner: team-a
targets: [main]
images:
  - source: ${src}/team/app
    targetTag: { pattern: '^x-(.*)$', template: 'sha256-$1' }
    tags:
      - regexp: '.*'
      - names: ['sha256-${hex}']
      - strategy: newest-build
        limit: 1
        allowTags: ['regexp:^(new|sha)']
`);
    await using counting = countingClient();
    const plan = await planMirror(cfg, { client: counting.client });
    expect(plan.items.map((item) => item.source.split(':').pop())).toEqual(['new', 'v1']);
    expect(plan.errors.map((error) => [error.code, error.message])).toEqual([
      [
        'reserved_target_tag',
        `targetTag turns "x-${hex}" into "sha256-${hex}", a name of the referrers tag schema (sha256-<hex>, cosign's .sig/.att/.sbom); the tag is left out`,
      ],
    ]);
  });

  test('an image whose rules select nothing lists no target repository (nothing to create) and sends no target request', async () => {
    source.seedImage('team/app', 'v1');
    const cfg = config(`owner: team-a
targets: [main]
images:
  - source: ${src}/team/app
    tags: [{ regexp: '^nothing-matches$' }]
`);
    await using counting = countingClient();
    const plan = await planMirror(cfg, { client: counting.client });
    expect(plan).toMatchObject({ items: [], errors: [], repositories: [] });
    expect(counting.summary()).toEqual([`GET tags ${src}/team/app`]);
  });

  test('newest-build rules go through the scanner on the same tag list; its digests come along', async () => {
    source.seedImage('team/app', 'main-a', { created: '2024-01-01T00:00:00Z' });
    const newest = source.seedImage('team/app', 'main-b', { created: '2024-03-01T00:00:00Z' });
    source.seedImage('team/app', 'main-c', { created: '2024-02-01T00:00:00Z' });
    source.seedImage('team/app', '1.0.0');
    const cfg = config(`owner: team-a
targets: [main]
images:
  - source: ${src}/team/app
    tags:
      - strategy: newest-build
        allowTags: ['regexp:^main-']
        limit: 1
      - names: ['1.0.0']
`);
    await using counting = countingClient();
    const plan = await planMirror(cfg, { client: counting.client });
    expect(plan.items.map((item) => [item.source, item.sourceDigest])).toEqual([
      [`${src}/team/app:1.0.0`, null],
      [`${src}/team/app:main-b`, newest.digest],
    ]);
    expect(counting.summary().filter((line) => line.startsWith('GET tags'))).toEqual([`GET tags ${src}/team/app`, `GET tags ${dst}/team/app`]);
  });

  test('filters by owner, target and image; the output is sorted and the same on every run', async () => {
    for (const repo of ['z/last', 'a/first', 'm/middle']) source.seedImage(repo, ['1.0.0', '0.9.0']);
    const cfg = configFrom(targets(), {
      'b.yaml': `owner: team-b
images:
  - { source: '${src}/z/last', tags: [{ semver: '*' }] }
  - { source: '${src}/a/first', tags: [{ semver: '*' }] }
`,
      'a.yaml': `owner: team-a
images:
  - { source: '${src}/m/middle', tags: [{ semver: '*' }] }
`,
    });
    await using counting = countingClient();
    const all = await planMirror(cfg, { client: counting.client, concurrency: 3 });
    const again = await planMirror(cfg, { client: counting.client, concurrency: 1 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(all));
    expect(all.items.map((item) => `${item.owner} ${item.targetName} ${item.target}`)).toEqual([
      `team-a main ${dst}/m/middle:0.9.0`,
      `team-a main ${dst}/m/middle:1.0.0`,
      `team-a regional ${dst2}/acme/m/middle:0.9.0`,
      `team-a regional ${dst2}/acme/m/middle:1.0.0`,
      `team-b main ${dst}/a/first:0.9.0`,
      `team-b main ${dst}/a/first:1.0.0`,
      `team-b main ${dst}/z/last:0.9.0`,
      `team-b main ${dst}/z/last:1.0.0`,
      `team-b regional ${dst2}/acme/a/first:0.9.0`,
      `team-b regional ${dst2}/acme/a/first:1.0.0`,
      `team-b regional ${dst2}/acme/z/last:0.9.0`,
      `team-b regional ${dst2}/acme/z/last:1.0.0`,
    ]);
    const filtered = await planMirror(cfg, { client: counting.client, owner: 'team-b', target: 'regional', image: `${src}/z/last` });
    expect(brief(filtered.items)).toEqual([
      `regional copy ${src}/z/last:0.9.0 -> ${dst2}/acme/z/last:0.9.0`,
      `regional copy ${src}/z/last:1.0.0 -> ${dst2}/acme/z/last:1.0.0`,
    ]);
    const byId = await planMirror(cfg, { client: counting.client, image: `a.yaml#${src}/m/middle`, target: 'main' });
    expect(byId.items).toHaveLength(2);
  });

  test('an aborted signal rejects the plan instead of listing errors', async () => {
    source.seedImage('team/app', '1.0.0');
    const cfg = config(`owner: team-a
images:
  - { source: '${src}/team/app', tags: [{ semver: '*' }] }
`);
    await using counting = countingClient();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(planMirror(cfg, { client: counting.client, signal: controller.signal })).rejects.toThrow(/stop|abort/);
  });
});
