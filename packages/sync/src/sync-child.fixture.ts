// A sync in a child process, for the SIGKILL test: the plan and the target credentials come in environment
// variables (never argv, which `ps` shows); prints one summary line without them.
import { createRegistryClient } from '@scanner/registry';
import type { RegistrySettingsInput } from '@scanner/registry';
import { syncPlan } from './sync.ts';
import type { Plan } from './types.ts';

const plan = JSON.parse(process.env['SYNC_CHILD_PLAN'] ?? '{}') as Plan;
const credentials = JSON.parse(process.env['SYNC_CHILD_SETTINGS'] ?? '{}') as Record<string, { username: string; password: string }>;
const settings: Record<string, RegistrySettingsInput> = {};
for (const [host, { username, password }] of Object.entries(credentials)) {
  settings[host] = { credentials: { description: 'test', get: () => Promise.resolve({ kind: 'basic', username, password }) } };
}
const client = createRegistryClient({ settings });
try {
  const report = await syncPlan(plan, { client, concurrency: 1 });
  process.stdout.write(`${JSON.stringify(report.items.map((item) => [item.target, item.result]))}\n`);
} finally {
  await client.close();
}
