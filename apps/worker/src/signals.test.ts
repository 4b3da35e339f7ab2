import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '@scanner/test-lab';
import { describe, expect, it } from 'vitest';
import type { StatusDocument } from './status.ts';
import { eventually, spawnWorker } from './worker.fixture.ts';

describe('scanner-worker signals', () => {
  it('reloads on SIGHUP and shuts down cleanly on SIGTERM', async () => {
    await using dir = await tempDir('scanner-worker-signals-');
    // Nothing listens at the target: runs fail fast, which is beside the point here.
    await writeFile(join(dir.path, 'targets.yaml'), 'targets:\n  - name: main\n    registry: 127.0.0.1:9\n');
    await writeFile(join(dir.path, 'team-a.yaml'), 'owner: team-a\nimages:\n  - source: 127.0.0.1:9/library/nginx\n    tags:\n      - names: [latest]\n');
    // A debounce of an hour: only SIGHUP can make it read the directory again.
    await using worker = await spawnWorker(['--config', dir.path, '--listen', '127.0.0.1:0', '--reload-debounce', '1h'], {});
    const owners = async () => ((await (await fetch(`${worker.url}/api/status`)).json()) as StatusDocument).teams.map((team) => team.owner);
    expect(await owners()).toEqual(['team-a']);

    await writeFile(join(dir.path, 'team-b.yaml'), 'owner: team-b\nimages:\n  - source: 127.0.0.1:9/library/redis\n    tags:\n      - names: [latest]\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await owners()).toEqual(['team-a']);
    worker.kill('SIGHUP');
    await eventually(async () => (await owners()).includes('team-b'), 10_000, 'the reload');
    expect(worker.records().some((record) => record['msg'] === 'config loaded' && record['reason'] === 'SIGHUP')).toBe(true);

    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const messages = worker.records().map((record) => record['msg']);
    // A run that was going may end within the grace period, between 'shutting down' and 'stopped'.
    expect(messages.indexOf('signal received')).toBeLessThan(messages.indexOf('shutting down'));
    expect(messages.at(-1)).toBe('stopped');
  });

  it('exits 2 with a message naming the flag when an option is invalid', async () => {
    await expect(spawnWorker(['--config', '/nonexistent', '--interval', 'soon'], {}, 10_000)).rejects.toThrow(/exited \(2\)[\s\S]*--interval "soon" is not a duration/);
  });

  it('exits 2 with one line when the --listen port is taken', async () => {
    await using dir = await tempDir('scanner-worker-busy-');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = busy.address() as AddressInfo;
      const error = await spawnWorker(['--config', dir.path, '--listen', `127.0.0.1:${port}`], {}, 10_000).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(String(error)).toMatch(/exited \(2\)/);
      expect(String(error)).toContain(`scanner-worker: --listen 127.0.0.1:${port}: the address is in use`);
      expect(String(error)).not.toMatch(/"level":60|stack/);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('exits 2 with one line when the config directory does not exist or is not a directory', async () => {
    for (const dir of ['/nonexistent/scanner-config', '/etc/hostname']) {
      const error = await spawnWorker(['--config', dir, '--listen', '127.0.0.1:0'], {}, 10_000).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(String(error)).toMatch(/exited \(2\)/);
      expect(String(error)).toContain(`scanner-worker: --config ${JSON.stringify(dir)}`);
      expect(String(error)).not.toMatch(/"level"|stack| {4}at /);
    }
  });
});
