import { mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryCache } from '@scanner/cache-memory';
import { tempDir } from '@scanner/test-lab';
import { describe, expect, it } from 'vitest';
import { createConfigStore } from './config-store.ts';
import { watchConfigDir } from './config-watch.ts';
import { createSyncEngine } from './sync-engine.ts';

const TARGETS = 'targets:\n  - name: main\n    registry: mirror.example.io\n';
const team = (owner: string, source: string, extra = '') => `owner: ${owner}\nimages:\n  - source: ${source}\n    tags:\n      - names: [latest]\n${extra}`;

async function engine() {
  return createSyncEngine({ registriesConfig: undefined, insecure: false, env: { DOCKER_CONFIG: '/nonexistent' }, cache: createMemoryCache(), cacheTtlMs: 1_000, userAgent: 'test' });
}

describe('the config store', () => {
  it('keeps the last valid version of a file that broke, leaves the other files alone, and drops deleted files', async () => {
    await using dir = await tempDir('scanner-worker-config-');
    await using sync = await engine();
    const write = (file: string, content: string) => writeFile(join(dir.path, file), content);
    await write('targets.yaml', TARGETS);
    await write('team-a.yaml', team('team-a', 'docker.io/library/nginx'));
    await write('team-b.yaml', team('team-b', 'quay.io/prometheus/node-exporter'));
    let clock = Date.UTC(2026, 10, 29, 20, 0);
    const store = createConfigStore({ dir: dir.path, engine: sync, now: () => clock });

    const first = await store.load();
    expect([...first.changed].sort()).toEqual(['team-a.yaml#docker.io/library/nginx', 'team-b.yaml#quay.io/prometheus/node-exporter']);
    expect(store.files().map((file) => [file.file, file.valid])).toEqual([['targets.yaml', true], ['team-a.yaml', true], ['team-b.yaml', true]]);

    // team-a breaks, team-b changes its image at the same time.
    clock += 60_000;
    await write('team-a.yaml', 'owner: team-a\nimages:\n  - source: docker.io/library/nginx\n    tags:\n      - semver: "not a range"\n');
    await write('team-b.yaml', team('team-b', 'quay.io/prometheus/prometheus'));
    const second = await store.load();
    expect(second.changed).toEqual(['team-b.yaml#quay.io/prometheus/prometheus']);
    expect(second.removed).toEqual(['team-b.yaml#quay.io/prometheus/node-exporter']);
    const broken = store.files().find((file) => file.file === 'team-a.yaml');
    expect(broken).toMatchObject({ valid: false, inForce: true, owner: 'team-a', invalidSince: '2026-11-29T20:01:00.000Z' });
    expect(broken?.issues[0]).toMatchObject({ file: 'team-a.yaml', line: 5, path: 'images[0].tags[0].semver' });
    expect(store.image('team-a.yaml#docker.io/library/nginx')?.owner).toBe('team-a');

    // Still broken a minute later: the streak keeps its start.
    clock += 60_000;
    await store.load();
    expect(store.files().find((file) => file.file === 'team-a.yaml')?.invalidSince).toBe('2026-11-29T20:01:00.000Z');

    // A cron pattern croner refuses makes the file invalid too.
    await write('team-a.yaml', team('team-a', 'docker.io/library/nginx', '    schedule: "99 * * * *"\n'));
    await store.load();
    expect(store.files().find((file) => file.file === 'team-a.yaml')?.issues[0]).toMatchObject({ path: 'images[0].schedule' });
    expect(store.image('team-a.yaml#docker.io/library/nginx')?.schedule).toBeUndefined();

    // Fixed: valid again; an invalid targets.yaml keeps the last targets in force.
    await write('team-a.yaml', team('team-a', 'docker.io/library/nginx'));
    await write('targets.yaml', 'targets: oops\n');
    await store.load();
    expect(store.files().map((file) => [file.file, file.valid])).toEqual([['targets.yaml', false], ['team-a.yaml', true], ['team-b.yaml', true]]);
    expect(store.config()?.targets.map((target) => target.name)).toEqual(['main']);

    await unlink(join(dir.path, 'team-b.yaml'));
    const last = await store.load();
    expect(last.removed).toEqual(['team-b.yaml#quay.io/prometheus/prometheus']);
    expect(store.config()?.images.map((image) => image.id)).toEqual(['team-a.yaml#docker.io/library/nginx']);
  });

  it('reports a file whose images collide with another file, keeping its last valid version', async () => {
    await using dir = await tempDir('scanner-worker-config-');
    await using sync = await engine();
    await writeFile(join(dir.path, 'targets.yaml'), TARGETS);
    await writeFile(join(dir.path, 'team-a.yaml'), team('team-a', 'docker.io/library/nginx'));
    await writeFile(join(dir.path, 'team-b.yaml'), team('team-b', 'docker.io/library/redis'));
    const store = createConfigStore({ dir: dir.path, engine: sync });
    await store.load();
    await writeFile(join(dir.path, 'team-b.yaml'), team('team-b', 'docker.io/library/redis', '    rename: library/nginx\n'));
    await store.load();
    const b = store.files().find((file) => file.file === 'team-b.yaml');
    expect(b?.valid).toBe(false);
    expect(b?.issues[0]?.message).toContain('would be written from');
    expect(store.image('team-b.yaml#docker.io/library/redis')?.rename).toBeUndefined();
  });
});

describe('watching the config directory', () => {
  it('sees a Kubernetes ConfigMap update (a ..data symlink swap) once, debounced', async () => {
    await using dir = await tempDir('scanner-worker-watch-');
    await using sync = await engine();
    // The kubelet's atomic writer: files live in a timestamped directory; ..data points at it; each key is a
    // symlink through ..data.
    const version = async (name: string, content: string) => {
      await mkdir(join(dir.path, name));
      await writeFile(join(dir.path, name, 'targets.yaml'), TARGETS);
      await writeFile(join(dir.path, name, 'team-a.yaml'), content);
    };
    await version('..2026_11_29_20_00_00.1', team('team-a', 'docker.io/library/nginx'));
    await symlink('..2026_11_29_20_00_00.1', join(dir.path, '..data'));
    await symlink('..data/targets.yaml', join(dir.path, 'targets.yaml'));
    await symlink('..data/team-a.yaml', join(dir.path, 'team-a.yaml'));
    const store = createConfigStore({ dir: dir.path, engine: sync });
    await store.load();
    expect(store.config()?.images.map((image) => image.id)).toEqual(['team-a.yaml#docker.io/library/nginx']);

    let changes = 0;
    const changed = new Promise<void>((resolve) => {
      const watcher = watchConfigDir({
        dir: dir.path,
        debounceMs: 100,
        onChange: () => {
          changes += 1;
          resolve();
          setTimeout(() => { watcher[Symbol.dispose](); }, 300);
        },
        onError: () => undefined,
      });
    });
    await version('..2026_11_29_20_05_00.2', team('team-a', 'docker.io/library/redis'));
    await symlink('..2026_11_29_20_05_00.2', join(dir.path, '..data_tmp'));
    await rename(join(dir.path, '..data_tmp'), join(dir.path, '..data'));
    await rm(join(dir.path, '..2026_11_29_20_00_00.1'), { recursive: true });
    await changed;
    await store.load();
    expect(store.config()?.images.map((image) => image.id)).toEqual(['team-a.yaml#docker.io/library/redis']);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(changes).toBe(1);
  });
});
