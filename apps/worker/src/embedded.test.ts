import { describe, expect, it } from 'vitest';
import type { StatusDocument } from './status.ts';
import { eventually, logSink, seedSource, startMirrorLab, startTestWorker } from './worker.fixture.ts';

const storageFile = (lab: { source: { host: string } }, tags: string) => `owner: team-storage
images:
  - source: ${lab.source.host}/bitnami/postgresql
    tags:
      - names: [${tags}]
`;

describe('the embedded worker (one process, in-memory queue) on real registries', () => {
  it('mirrors a config into two registries, shows it, picks up a changed file and reports a broken one', async () => {
    await using lab = await startMirrorLab();
    const pgDigest = await seedSource(lab, 'bitnami/postgresql', ['16.3.0', '16.4.0']);
    const redisDigest = await seedSource(lab, 'library/redis', ['7.2', '7.4']);
    await lab.write('team-storage.yaml', storageFile(lab, '16.3.0'));
    await lab.write('team-cache.yaml', `owner: team-cache\ntargets: [main]\nimages:\n  - source: ${lab.source.host}/library/redis\n    tags:\n      - names: ['7.2', '7.4']\n`);
    const log = logSink();
    await using worker = await startTestWorker(lab, log);

    const status = async (): Promise<StatusDocument> => (await (await fetch(`${worker.url}/api/status`)).json()) as StatusDocument;
    const upToDate = (doc: StatusDocument, owner: string) => doc.teams.find((team) => team.owner === owner)?.state === 'up_to_date';
    await eventually(async () => { const doc = await status(); return upToDate(doc, 'team-storage') && upToDate(doc, 'team-cache'); }, 30_000, 'both teams up to date');

    expect(await lab.digest(`${lab.mainHost}/bitnami/postgresql:16.3.0`)).toBe(pgDigest);
    expect(await lab.digest(`${lab.regional.host}/acme/bitnami/postgresql:16.3.0`)).toBe(pgDigest);
    expect(await lab.digest(`${lab.mainHost}/library/redis:7.4`)).toBe(redisDigest);
    expect(await lab.digest(`${lab.regional.host}/acme/library/redis:7.4`)).toBeUndefined();

    const doc = await status();
    const pg = doc.teams.find((team) => team.owner === 'team-storage')?.images[0];
    expect(pg?.targets.map((target) => [target.name, target.repository, target.upToDate])).toEqual([
      ['main', `${lab.mainHost}/bitnami/postgresql`, ['16.3.0']],
      ['regional', `${lab.regional.host}/acme/bitnami/postgresql`, ['16.3.0']],
    ]);
    const page = await (await fetch(`${worker.url}/`)).text();
    expect(page).toContain('team-storage');
    expect(page).toContain(`${lab.regional.host}/acme/bitnami/postgresql`);

    // A changed team file is picked up without a restart.
    await lab.write('team-storage.yaml', storageFile(lab, '16.3.0, 16.4.0'));
    await eventually(async () => (await lab.digest(`${lab.regional.host}/acme/bitnami/postgresql:16.4.0`)) === pgDigest, 30_000, 'the new tag mirrored');
    await eventually(async () => (await status()).teams.find((team) => team.owner === 'team-storage')?.images[0]?.targets.every((target) => target.upToDate.length === 2), 10_000, 'status shows both tags');

    // A broken file is reported; its last valid version stays in force; the other team goes on.
    await lab.write('team-cache.yaml', `owner: team-cache\nimages:\n  - source: ${lab.source.host}/library/redis\n    tags:\n      - regexp: '('\n`);
    const broken = await eventually(async () => {
      const current = await status();
      const file = current.config.files.find((candidate) => candidate.file === 'team-cache.yaml');
      return file?.valid === false ? current : undefined;
    }, 10_000, 'the broken file reported');
    const cache = broken.teams.find((team) => team.owner === 'team-cache');
    expect(cache?.state).toBe('failing');
    expect(cache?.images.map((image) => image.source)).toEqual([`${lab.source.host}/library/redis`]);
    expect(cache?.files[0]?.issues[0]?.path).toMatch(/^images\[0\]\.tags\[0\]/);
    expect(broken.teams.find((team) => team.owner === 'team-storage')?.state).toBe('up_to_date');
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(metrics).toMatch(/^scanner_worker_config_files\{result="invalid"\} 1$/m);
    expect(log.records().some((record) => record['msg'] === 'config file invalid; its last valid version stays in force' && record['file'] === 'team-cache.yaml')).toBe(true);

    // One log line per run, with owner, source and target; no credential anywhere.
    const runs = log.records().filter((record) => record['msg'] === 'run');
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const run of runs) {
      expect(run['result']).toBe('succeeded');
      expect([typeof run['owner'], typeof run['source'], typeof run['target']]).toEqual(['string', 'string', 'string']);
    }
    for (const secret of lab.secrets) {
      expect(log.text()).not.toContain(secret);
      expect(page).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }
  });

  it('counts a target that fails as a whole (auth) in scanner_worker_images{result="failing"}', async () => {
    await using lab = await startMirrorLab();
    await seedSource(lab, 'bitnami/postgresql', ['16.3.0']);
    // The basic-auth registry straight, not through the proxy the Docker config has credentials for: 401.
    await lab.write('targets.yaml', `targets:\n  - name: main\n    registry: ${lab.mainHost}\n  - name: locked\n    registry: ${lab.main.host}\n`);
    await lab.write('team-storage.yaml', `owner: team-storage\nimages:\n  - source: ${lab.source.host}/bitnami/postgresql\n    tags:\n      - names: [16.3.0]\n`);
    const log = logSink();
    await using worker = await startTestWorker(lab, log);
    const metrics = async (): Promise<string> => (await worker.app.request('/metrics')).text();
    const text = await eventually(async () => {
      const current = await metrics();
      return /^scanner_worker_images\{team="team-storage",target="locked",result="failing"\} 1$/m.test(current) && /^scanner_worker_images\{team="team-storage",target="main",result="up_to_date"\} 1$/m.test(current) ? current : undefined;
    }, 20_000, 'the locked target counted as failing');
    expect(text).toMatch(/^scanner_worker_images\{team="team-storage",target="main",result="failing"\} 0$/m);
    expect(text).toMatch(/^scanner_worker_images\{team="team-storage",target="locked",result="up_to_date"\} 0$/m);
    for (const secret of lab.secrets) expect(text).not.toContain(secret);
  }, 60_000);
});
