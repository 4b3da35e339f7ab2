// Faults on the way, through the test-lab fault proxy in front of the source and the targets. After each: every
// target tag is absent or complete with the source's digest, a re-run converges, no credential is printed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasBinary } from '@scanner/test-lab';
import { blobPuts, item, provider, seed, startLab } from './sync.fixture.ts';
import type { Lab } from './sync.fixture.ts';
import { syncPlan } from './sync.ts';
import type { SyncOptions } from './sync.ts';
import type { Plan, PlanItem, SyncEvent, SyncReport } from './types.ts';

const missing = ['docker-registry', 'skopeo', 'htpasswd', 'openssl'].filter((binary) => !hasBinary(binary));
if (process.env['CI'] === 'true' && missing.length > 0) throw new Error(`the sync tests need ${missing.join(', ')}`);

function plan(items: readonly PlanItem[]): Plan {
  return { items, errors: [], repositories: [], pulls: {} };
}

const MANIFEST_INVALID = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid', detail: 'rejected by policy' }] });

describe.skipIf(missing.length > 0)('syncPlan under faults', () => {
  let lab: Lab;
  const secrets: string[] = [];

  beforeAll(async () => {
    lab = await startLab();
    secrets.push(...lab.secrets);
    // Layers of random bytes (gzip cannot shrink them), large enough to be cut mid-way.
    for (const repository of ['faults/a', 'faults/b', 'faults/c']) {
      await seed(lab, `${repository}:1.0`, { images: [{ platform: 'linux/amd64', layers: [{ size: 96 * 1024 }, { size: 32 * 1024 }] }, { platform: 'linux/arm64', layers: [{ size: 96 * 1024 }] }] });
    }
  });
  afterAll(async () => {
    await lab[Symbol.asyncDispose]();
  });

  function clearFaults(): void {
    for (const registry of [lab.source, lab.main, lab.regional]) {
      registry.proxy.clear();
      registry.proxy.resetRequests();
    }
  }

  /** Runs a sync with a fresh client; checks no secret is in the report. */
  async function sync(items: readonly PlanItem[], options: Partial<SyncOptions> & { override?: Parameters<Lab['client']>[0] } = {}): Promise<SyncReport> {
    const { override, ...rest } = options;
    const client = lab.client(override);
    try {
      const report = await syncPlan(plan(items), { client, ...rest });
      const text = JSON.stringify(report);
      for (const secret of secrets) expect(text).not.toContain(secret);
      return report;
    } finally {
      await client.close();
    }
  }

  /** Every target tag is absent or has the source's digest; returns how many are there. */
  async function assertAbsentOrComplete(items: readonly PlanItem[]): Promise<number> {
    let present = 0;
    for (const entry of items) {
      const target = await lab.skopeoDigest(entry.target);
      if (target === undefined) continue;
      expect(target).toBe(await lab.skopeoDigest(entry.source));
      present++;
    }
    return present;
  }

  async function assertConverges(items: readonly PlanItem[]): Promise<void> {
    clearFaults();
    const report = await sync(items);
    expect(report.items.map((entry) => entry.error)).toEqual(items.map(() => null));
    expect(await assertAbsentOrComplete(items)).toBe(items.length);
  }

  const itemsFor = (prefix: string): PlanItem[] =>
    ['faults/a:1.0', 'faults/b:1.0'].flatMap((source) => [item(lab, source, lab.main, { target: `${prefix}/${source}` }), item(lab, source, lab.regional, { target: `${prefix}/${source}` })]);

  test('a connection reset mid-blob at the source is resumed', async () => {
    clearFaults();
    const items = itemsFor('reset');
    const reset = lab.source.proxy.inject({ method: 'GET', path: /\/blobs\/sha256:/, times: 3, fault: { kind: 'reset', afterBytes: 4096 } });
    const report = await sync(items);
    expect(reset.hits()).toBe(3);
    expect(report.items.every((entry) => entry.error === null)).toBe(true);
    expect(await assertAbsentOrComplete(items)).toBe(items.length);
  });

  test('5xx and 429 on PUTs at the targets are retried', async () => {
    clearFaults();
    const items = itemsFor('retry');
    const hits = [
      lab.main.proxy.inject({ method: 'PUT', path: /\/blobs\/uploads\//, times: 2, fault: { kind: 'status', status: 503 } }),
      lab.main.proxy.inject({ method: 'PUT', path: /\/manifests\//, times: 1, fault: { kind: 'status', status: 500 } }),
      lab.regional.proxy.inject({ method: 'PUT', path: /\/blobs\/uploads\//, times: 2, fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } } }),
      lab.regional.proxy.inject({ method: 'PUT', path: /\/manifests\//, times: 1, fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } } }),
    ];
    const report = await sync(items);
    expect(hits.map((hit) => hit.hits())).toEqual([2, 1, 2, 1]);
    expect(report.items.map((entry) => [entry.target, entry.error])).toEqual(items.map((entry) => [entry.target, null]));
    expect(await assertAbsentOrComplete(items)).toBe(items.length);
  });

  test('corrupted blob bytes from the source never reach a target; the blob is read again', async () => {
    clearFaults();
    const items = itemsFor('corrupt');
    const corrupt = lab.source.proxy.inject({ method: 'GET', path: /\/blobs\/sha256:/, times: 2, fault: { kind: 'corrupt' } });
    const report = await sync(items);
    expect(corrupt.hits()).toBe(2);
    expect(report.items.every((entry) => entry.error === null)).toBe(true);
    expect(await assertAbsentOrComplete(items)).toBe(items.length);
    // Every stored blob has its digest (distribution verifies on PUT); nothing was stored twice either.
    for (const target of [lab.main, lab.regional]) expect([...blobPuts(target.proxy).values()].every((count) => count === 1)).toBe(true);
  });

  test('a target that rejects a manifest fails that item only; its tag does not move; the re-run converges', async () => {
    clearFaults();
    const items = itemsFor('reject');
    const rejectedTarget = items[0]!;
    const path = `/v2/${rejectedTarget.target.slice(rejectedTarget.target.indexOf('/') + 1).replace(':', '/manifests/')}`;
    lab.main.proxy.inject({ method: 'PUT', path, fault: { kind: 'status', status: 400, headers: { 'content-type': 'application/json' }, body: MANIFEST_INVALID } });
    const events: SyncEvent[] = [];
    const report = await sync(items, { onEvent: (event) => events.push(event) });
    expect(report.items[0]).toMatchObject({ result: 'failed', error: { code: 'MANIFEST_INVALID' } });
    const doneOfRejected = events.filter((event) => event.type === 'item_done' && event.item.target === rejectedTarget.target);
    expect(doneOfRejected.map((event) => (event.type === 'item_done' ? [event.attempt, event.item.result] : []))).toEqual([
      [1, 'failed'],
      [2, 'failed'],
    ]);
    expect(report.items.slice(1).every((entry) => entry.result === 'copied')).toBe(true);
    expect(await lab.skopeoDigest(rejectedTarget.target)).toBeUndefined();
    expect(await assertAbsentOrComplete(items)).toBe(items.length - 1);
    // Tried twice: once in the run, once in the retry round at the end.
    expect(lab.main.proxy.requests().filter((request) => request.method === 'PUT' && request.path === path)).toHaveLength(2);
    await assertConverges(items);
  });

  test("one target's auth failing fails its items only, and prints no credential", async () => {
    clearFaults();
    const items = itemsFor('auth');
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    secrets.push(wrong);
    const credentials = { username: lab.main.registry.credentials!.username, password: wrong };
    const report = await sync(items, { override: { override: { [lab.main.host]: { credentials: provider(credentials) } } } });
    for (const entry of report.items) {
      if (entry.targetName === 'main') expect(entry).toMatchObject({ result: 'failed', error: { code: 'unauthorized' } });
      else expect(entry).toMatchObject({ result: 'copied', error: null });
    }
    expect(await assertAbsentOrComplete(items)).toBe(2);
    await assertConverges(items);
  });

  test('a target repository that must be created first is one repository_missing error per item', async () => {
    clearFaults();
    const items = ['faults/a:1.0', 'faults/b:1.0'].map((source) => item(lab, source, lab.main, { target: `nothere/${source.replace('faults/', '')}` }));
    const nameUnknown = JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'nothere/a' } }] });
    for (const repository of ['nothere/a', 'nothere/b']) {
      lab.main.proxy.inject({ method: 'POST', path: `/v2/${repository}/blobs/uploads/`, fault: { kind: 'status', status: 404, headers: { 'content-type': 'application/json' }, body: nameUnknown } });
    }
    const report = await sync(items);
    for (const [index, entry] of report.items.entries()) {
      const repository = `${lab.main.host}/nothere/${index === 0 ? 'a' : 'b'}`;
      expect(entry.result).toBe('failed');
      expect(entry.error?.code).toBe('repository_missing');
      expect(entry.error?.message).toContain(repository);
      expect(entry.error?.message).toMatch(/create the repository/);
      // The registry's own words (what tells a Harbor admin to create a project), no package name in front.
      expect(entry.error?.message).toContain('repository name not known to registry');
      expect(entry.error?.message).not.toMatch(/^@scanner\//);
    }
    // Not retried at the end, and no blob was attempted more than once per item.
    const posts = lab.main.proxy.requests().filter((request) => request.method === 'POST');
    expect(posts.length).toBeLessThanOrEqual(2 * 4);
  });

  test('a sync SIGKILLed mid-run leaves tags absent or complete; the re-run converges', async () => {
    clearFaults();
    const items = ['faults/a:1.0', 'faults/b:1.0', 'faults/c:1.0'].map((source) => item(lab, source, lab.main, { target: `killed/${source}` }));
    // Slow blob uploads down so that the kill lands mid-run.
    lab.main.proxy.inject({ method: 'PUT', path: /\/blobs\/uploads\//, fault: { kind: 'delay', ms: 150 } });
    const child = spawn(process.execPath, ['--conditions=@scanner/source', join(import.meta.dirname, 'sync-child.fixture.ts')], {
      env: { ...process.env, SYNC_CHILD_PLAN: JSON.stringify(plan(items)), SYNC_CHILD_SETTINGS: JSON.stringify({ [lab.main.host]: lab.main.registry.credentials }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => { resolve(signal); }));
    // Kill once the first blob upload completed at the target.
    const deadline = Date.now() + 20_000;
    while (blobPuts(lab.main.proxy).size === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    for (const secret of secrets) expect(output).not.toContain(secret);
    const completed = await assertAbsentOrComplete(items);
    expect(completed).toBeLessThan(items.length);
    await assertConverges(items);
  });
});
