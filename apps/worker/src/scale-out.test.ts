import { startRedis } from '@scanner/test-lab/redis';
import { skopeoCopy, tempDir } from '@scanner/test-lab';
import { describe, expect, it } from 'vitest';
import type { StatusDocument } from './status.ts';
import { eventually, seedSource, spawnWorker, startMirrorLab } from './worker.fixture.ts';
import type { WorkerProcess } from './worker.fixture.ts';

/** `repository digest` of every blob upload a registry completed (201 on the closing PUT), from its access log. */
function completedUploads(log: string): string[] {
  const uploads: string[] = [];
  for (const match of log.matchAll(/"PUT \/v2\/(\S+?)\/blobs\/uploads\/\S*?[?&]digest=([^&\s"]+)\S* HTTP\/1\.1" 201 /g)) {
    uploads.push(`${match[1] ?? ''} ${decodeURIComponent(match[2] ?? '')}`);
  }
  return uploads;
}

const duplicates = (items: readonly string[]): string[] => items.filter((item, index) => items.indexOf(item) !== index);

async function status(worker: WorkerProcess): Promise<StatusDocument> {
  return (await (await fetch(`${worker.url}/api/status`)).json()) as StatusDocument;
}

describe('scale-out: two worker processes on one Redis', () => {
  it('hands a SIGKILLed replica’s copy to the other, which finishes it with exact digests and no blob uploaded twice', async () => {
    await using redis = await startRedis();
    await using lab = await startMirrorLab();
    const digests = new Map([
      ['1.0', await seedSource(lab, 'team/app', ['1.0'], 'app-1.0', 256 * 1024)],
      ['1.1', await seedSource(lab, 'team/app', ['1.1'], 'app-1.1', 256 * 1024)],
    ]);
    await lab.write('team-app.yaml', `owner: team-app\nimages:\n  - source: ${lab.sourceHost}/team/app\n    tags:\n      - names: ['1.0', '1.1']\n`);
    // Slow source blob reads, so that copies are surely in flight when a replica is killed. (Reads, not target
    // writes: a write the proxy held back would still land after its client died, which no real network does.)
    lab.sourceProxy.inject({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'delay', ms: 1_500 } });

    const args = ['--config', lab.configDir, '--listen', '127.0.0.1:0', '--redis', redis.url, '--redis-prefix', 'scale-out-test', '--job-lock', '3s', '--grace-period', '1s', '--log-level', 'debug'];
    const env = { DOCKER_CONFIG: lab.dockerConfigDir };
    // Both start together, as replicas of a Deployment do; the stack disposes (SIGTERMs) them at the end.
    await using stack = new AsyncDisposableStack();
    const [a, b] = await Promise.all([spawnWorker(args, env), spawnWorker(args, env)]);
    stack.use(a);
    stack.use(b);

    const unfinished = (worker: WorkerProcess): string[] => {
      const records = worker.records();
      const started = records.filter((record) => record['msg'] === 'run started').map((record) => String(record['target']));
      const ended = records.filter((record) => record['msg'] === 'run').map((record) => String(record['target']));
      return started.filter((target) => !ended.includes(target));
    };
    await eventually(() => lab.sourceProxy.requests().some((request) => request.fault === 'delay'), 20_000, 'a source blob read in flight');
    const holder = await eventually(() => [a, b].find((worker) => unfinished(worker).length > 0), 20_000, 'a replica in the middle of a copy');
    holder.kill('SIGKILL');
    expect(await holder.exited).toBe('SIGKILL');
    const orphaned = unfinished(holder);
    expect(orphaned.length).toBeGreaterThan(0);
    const survivor = holder === a ? b : a;

    const done = await eventually(async () => {
      const doc = await status(survivor);
      const targets = doc.teams[0]?.images[0]?.targets ?? [];
      return targets.length === 2 && targets.every((target) => target.state === 'up_to_date' && target.upToDate.length === 2) ? doc : undefined;
    }, 60_000, 'the survivor to finish both targets');
    expect(done.ready).toBe(true);
    expect(done.queue.kind).toBe('redis');
    // The survivor ran the dead replica's unfinished jobs itself: it took them over (stalled-job recovery).
    for (const target of orphaned) {
      expect(survivor.records().some((record) => record['msg'] === 'run' && record['target'] === target && record['result'] === 'succeeded')).toBe(true);
    }

    const targets = [`${lab.main.host}/team/app`, `${lab.regional.host}/acme/team/app`];
    await using scratch = await tempDir('scanner-worker-pull-');
    for (const repository of targets) {
      for (const [tag, digest] of digests) {
        expect(await lab.digest(`${repository}:${tag}`)).toBe(digest);
        // Pulling every blob proves no tag points at a missing blob.
        const registry = lab.registryOf(repository.slice(0, repository.indexOf('/')));
        await skopeoCopy(`docker://${repository}:${tag}`, `dir:${scratch.path}/${registry.port}-${tag}`, registry.credentials === undefined ? {} : { srcCreds: registry.credentials });
      }
    }
    const mainUploads = completedUploads(lab.main.logs());
    const regionalUploads = completedUploads(lab.regional.logs());
    expect(mainUploads.length).toBeGreaterThan(0);
    expect(regionalUploads.length).toBeGreaterThan(0);
    expect(duplicates(mainUploads)).toEqual([]);
    expect(duplicates(regionalUploads)).toEqual([]);

    // SIGTERM: the survivor shuts down cleanly, closing what it opened.
    survivor.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
    expect(survivor.records().at(-1)?.['msg']).toBe('stopped');
  }, 120_000);
});
