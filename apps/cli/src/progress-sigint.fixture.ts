// A child process for mirror-progress.test.ts: the animated sync display on a terminal, stopped by SIGINT as
// `scanner sync` is (bin.ts aborts its controller on the first SIGINT), then the report and exit code 1.
import { writeFileSync } from 'node:fs';
import type { Plan, PlanItem } from '@scanner/sync';
import { createSyncProgress } from './progress.ts';

const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
});

const item: PlanItem = {
  owner: 'team-a',
  targetName: 'main',
  source: 'docker.io/library/nginx:1.27.0',
  target: 'mirror.example.io/library/nginx:1.27.0',
  action: 'copy',
  sourceDigest: null,
  targetDigest: null,
  imageId: 'a.yaml#docker.io/library/nginx',
  file: 'a.yaml',
  mutable: false,
  referrers: true,
  provenance: false,
};
const plan: Plan = { items: [item], errors: [], repositories: [], pulls: {} };
const progress = await createSyncProgress(plan, 'animated', process.stderr);
writeFileSync(process.argv[2] ?? 'ready', String(process.pid));
await new Promise((resolve) => {
  controller.signal.addEventListener('abort', resolve, { once: true });
});
progress.onEvent({ type: 'item_done', item: { ...item, result: 'failed', error: { code: 'aborted', message: 'the sync was aborted' } }, durationMs: 1 });
await progress.finish();
process.stdout.write('REPORT: 1 failed\n');
process.exitCode = 1;
