// The plan against the real CNCF distribution registry: an open source, a target behind htpasswd and one
// behind token auth, seeded by skopeo (an independent client).
import { freePort, hasBinary, seedImage, skopeoCopy, startRegistry } from '@scanner/test-lab';
import type { BuiltImage, Registry } from '@scanner/test-lab';
import type { CredentialProvider } from '@scanner/registry';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planMirror } from './plan.ts';
import { configFrom, countingClient } from './plan.fixture.ts';
import type { MirrorConfig } from './types.ts';

const available = hasBinary('docker-registry') && hasBinary('skopeo');

function provider(registry: Registry): CredentialProvider {
  const credentials = registry.credentials;
  return {
    description: 'test-lab',
    get: () => Promise.resolve(credentials === undefined ? undefined : { kind: 'basic', ...credentials }),
  };
}

describe.skipIf(!available)('planMirror against the distribution registry', () => {
  let source: Registry;
  let basic: Registry;
  let token: Registry;
  let unreachable: string;
  let config: MirrorConfig;
  let latest: BuiltImage;

  const settings = () => ({ [basic.host]: { credentials: provider(basic) }, [token.host]: { credentials: provider(token) } });

  beforeAll(async () => {
    [source, basic, token] = await Promise.all([startRegistry({ auth: 'none' }), startRegistry({ auth: 'basic' }), startRegistry({ auth: 'token' })]);
    unreachable = `127.0.0.1:${await freePort()}`;
    const release = (await seedImage(source, 'team/app:1.0.0', { created: '2024-01-01T00:00:00Z' })) as BuiltImage;
    await seedImage(source, 'team/app:1.1.0', { created: '2024-02-01T00:00:00Z' });
    latest = (await seedImage(source, 'team/app:latest', { created: '2024-03-01T00:00:00Z' })) as BuiltImage;
    await seedImage(source, 'team/fresh:2.0.0');
    // The target already holds 1.0.0 and latest, copied with their digests.
    for (const tag of ['1.0.0', 'latest']) {
      await skopeoCopy(`docker://${source.host}/team/app:${tag}`, `docker://${basic.host}/team/app:${tag}`, { ...(basic.credentials ? { destCreds: basic.credentials } : {}) });
    }
    expect(release.digest).not.toBe(latest.digest);
    config = configFrom(
      `targets:
  - name: main
    registry: ${basic.host}
  - name: regional
    registry: ${token.host}
    prefix: acme
`,
      {
        'team-a.yaml': `owner: team-a
targets: [main]
images:
  - source: ${source.host}/team/app
    mutable: [latest]
    tags:
      - semver: '^1'
      - names: [latest]
  - source: ${source.host}/team/fresh
    targets: [main, regional]
    tags: [{ semver: '*' }]
  - source: ${unreachable}/team/gone
    tags: [{ names: [latest] }]
`,
      },
    );
  }, 180_000);
  afterAll(async () => {
    await Promise.all([source.stop(), basic.stop(), token.stop()]);
  });

  test('skip by name without a manifest request, HEADs for the mutable tag, a missing repository, an unreachable source', async () => {
    await using counting = countingClient({ settings: settings() });
    const plan = await planMirror(config, { client: counting.client });
    expect(plan.items.map((item) => [item.targetName, item.target, item.action, item.sourceDigest, item.targetDigest])).toEqual([
      ['main', `${basic.host}/team/app:1.0.0`, 'skip', null, null],
      ['main', `${basic.host}/team/app:1.1.0`, 'copy', null, null],
      ['main', `${basic.host}/team/app:latest`, 'skip', latest.digest, latest.digest],
      ['main', `${basic.host}/team/fresh:2.0.0`, 'copy', null, null],
      ['regional', `${token.host}/acme/team/fresh:2.0.0`, 'copy', null, null],
    ]);
    expect(plan.repositories).toEqual([
      { targetName: 'main', repository: `${basic.host}/team/app`, exists: true },
      { targetName: 'main', repository: `${basic.host}/team/fresh`, exists: false },
      { targetName: 'regional', repository: `${token.host}/acme/team/fresh`, exists: false },
    ]);
    expect(plan.errors).toEqual([
      expect.objectContaining({ owner: 'team-a', source: `${unreachable}/team/gone`, targetName: 'main', code: 'network', file: 'team-a.yaml' }),
    ]);
    // Manifest requests: only the two HEADs of the mutable tag; immutable tags are compared by name.
    const manifests = counting.requests.filter((request) => request.kind === 'manifest');
    expect(manifests.map((request) => `${request.method} ${request.registry} ${new URL(request.url).pathname}`).sort()).toEqual(
      [`HEAD ${source.host} /v2/team/app/manifests/latest`, `HEAD ${basic.host} /v2/team/app/manifests/latest`].sort(),
    );
    // fresh:2.0.0 is read once for both targets; 1.1.0 once.
    expect(plan.pulls).toEqual({ [source.host]: 2 });
    const json = JSON.stringify(plan);
    for (const registry of [basic, token]) expect(json).not.toContain(registry.credentials?.password ?? '\u0000');
  });

  test('a mutable tag moved at the source is an update with both digests', async () => {
    const moved = (await seedImage(source, 'team/app:latest', { created: '2024-04-01T00:00:00Z' })) as BuiltImage;
    await using counting = countingClient({ settings: settings() });
    const plan = await planMirror(config, { client: counting.client, image: `${source.host}/team/app` });
    expect(plan.items.find((item) => item.target.endsWith(':latest'))).toMatchObject({
      action: 'update',
      sourceDigest: moved.digest,
      targetDigest: latest.digest,
      mutable: true,
    });
  });

  test('failing auth at a target is an error for that target only', async () => {
    await using counting = countingClient({
      settings: {
        [basic.host]: { credentials: { description: 'wrong', get: () => Promise.resolve({ kind: 'basic', username: 'nobody', password: 'wrong-password' }) } },
        [token.host]: { credentials: provider(token) },
      },
    });
    const plan = await planMirror(config, { client: counting.client, image: `${source.host}/team/fresh` });
    expect(plan.items.map((item) => item.targetName)).toEqual(['regional']);
    expect(plan.errors).toEqual([expect.objectContaining({ targetName: 'main', code: 'unauthorized' })]);
    expect(JSON.stringify(plan)).not.toContain('wrong-password');
  });
});
