// The whole path on real registries: a config directory → loadMirrorConfig → planMirror → syncPlan, into a
// target with htpasswd and a target with token auth; then a second plan has nothing to do, and a moved mutable
// tag is planned as an update and updated.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasBinary, tempDir } from '@scanner/test-lab';
import type { TempDir } from '@scanner/test-lab';
import { loadMirrorConfig } from './config.ts';
import { planMirror } from './plan.ts';
import { readProvenance } from './provenance.ts';
import { seed, startLab } from './sync.fixture.ts';
import type { Lab } from './sync.fixture.ts';
import { syncPlan } from './sync.ts';

const missing = ['docker-registry', 'skopeo', 'htpasswd', 'openssl'].filter((binary) => !hasBinary(binary));
if (process.env['CI'] === 'true' && missing.length > 0) throw new Error(`the sync tests need ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('config → plan → sync on real registries', () => {
  let lab: Lab;
  let dir: TempDir;

  beforeAll(async () => {
    lab = await startLab();
    dir = await tempDir('scanner-sync-e2e-');
    await seed(lab, 'bitnami/postgresql:16.4.0', { images: [{ platform: 'linux/amd64', seed: 'pg' }, { platform: 'linux/arm64', seed: 'pg' }] });
    await seed(lab, 'bitnami/postgresql:16.3.0', { images: [{ platform: 'linux/amd64', seed: 'pg3' }, { platform: 'linux/arm64', seed: 'pg3' }] });
    await seed(lab, 'bitnami/postgresql:latest', { seed: 'latest-1' });
    await seed(lab, 'library/nginx:1.27', { seed: 'nginx' });
    await writeFile(join(dir.path, 'targets.yaml'), `targets:\n  - name: main\n    registry: ${lab.main.host}\n  - name: regional\n    registry: ${lab.regional.host}\n    prefix: acme\n`);
    await writeFile(
      join(dir.path, 'team-storage.yaml'),
      [
        'owner: team-storage',
        'provenance: true',
        'images:',
        `  - source: ${lab.source.host}/bitnami/postgresql`,
        '    tags:',
        "      - semver: '>=16.0.0'",
        '      - names: [latest]',
        '    mutable: [latest]',
        `  - source: ${lab.source.host}/library/nginx`,
        '    tags:',
        '      - names: ["1.27"]',
        '    targets: [main]',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await dir[Symbol.asyncDispose]();
    await lab[Symbol.asyncDispose]();
  });

  test('every planned tag lands with the source digest; a second plan has nothing to do; a moved mutable tag is updated', async () => {
    const config = await loadMirrorConfig(dir.path);
    const client = lab.client();
    try {
      const plan = await planMirror(config, { client });
      expect(plan.errors).toEqual([]);
      const copies = plan.items.filter((item) => item.action === 'copy');
      // postgresql 16.4.0, 16.3.0 and latest to both targets, nginx to main.
      expect(copies).toHaveLength(7);
      const report = await syncPlan(plan, { client, configDir: dir.path });
      expect(report.items.map((item) => [item.target, item.result, item.error])).toEqual(plan.items.map((item) => [item.target, 'copied', null]));
      for (const item of plan.items) expect(await lab.skopeoDigest(item.target)).toBe(await lab.skopeoDigest(item.source));
      expect(plan.items.map((item) => item.target)).toContain(`${lab.regional.host}/acme/bitnami/postgresql:16.4.0`);
      expect(report.stats.provenanceWritten).toBe(7);
      const provenance = await readProvenance(client, `${lab.regional.host}/acme/bitnami/postgresql:16.4.0`);
      expect(provenance).toMatchObject({ owner: 'team-storage', source: `${lab.source.host}/bitnami/postgresql:16.4.0`, config: 'team-storage.yaml' });
      const text = JSON.stringify(report);
      for (const secret of lab.secrets) expect(text).not.toContain(secret);

      const again = await planMirror(config, { client });
      expect(again.items.filter((item) => item.action !== 'skip')).toEqual([]);
      lab.main.proxy.resetRequests();
      lab.regional.proxy.resetRequests();
      const noop = await syncPlan(again, { client });
      expect(noop.items.every((item) => item.result === 'skipped')).toBe(true);
      expect(noop.stats.bytesUploaded).toBe(0);
      expect(lab.main.proxy.requests().length + lab.regional.proxy.requests().length).toBe(0);

      const moved = await seed(lab, 'bitnami/postgresql:latest', { seed: 'latest-2' });
      const third = await planMirror(config, { client });
      const updates = third.items.filter((item) => item.action === 'update');
      expect(updates.map((item) => [item.target.endsWith(':latest'), item.sourceDigest])).toEqual([
        [true, moved.digest],
        [true, moved.digest],
      ]);
      const updated = await syncPlan(third, { client });
      expect(updated.items.filter((item) => item.result === 'updated')).toHaveLength(2);
      for (const item of updates) expect(await lab.skopeoDigest(item.target)).toBe(moved.digest);
    } finally {
      await client.close();
    }
  });
});
