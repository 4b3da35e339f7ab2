// The plan's selection against an oracle written from the rules' meaning: the union of what each rule
// selects, `limit` per rule counted after `exclude`, and `skip` exactly for the tags the target has.
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planMirror } from './plan.ts';
import { configFrom, countingClient } from './plan.fixture.ts';

let source: MemoryRegistry;
let target: MemoryRegistry;
let src: string;
let dst: string;
let run = 0;

beforeAll(async () => {
  source = createMemoryRegistry();
  target = createMemoryRegistry();
  src = (await source.listen()).host;
  dst = (await target.listen()).host;
});
afterAll(async () => {
  await Promise.all([source.close(), target.close()]);
});

const version = fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3)).map(([a, b, c]) => `${a}.${b}.${c}`);
const scenario = fc
  .uniqueArray(fc.oneof(version, fc.constant('latest')), { minLength: 1, maxLength: 12 })
  .chain((tags) =>
    fc.record({
      tags: fc.constant(tags),
      atTarget: fc.subarray(tags),
      names: fc.subarray(tags, { minLength: 1 }),
      exclude: fc.subarray(tags),
      limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    }),
  );

const byVersionDesc = (a: string, b: string): number => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
  return 0;
};

describe('planMirror selection', () => {
  test('matches the meaning of the rules, and compares immutable tags by name only', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ tags, atTarget, names, exclude, limit }) => {
        run += 1;
        const repository = `prop/app-${run}`;
        source.seedImage(repository, tags, { seed: repository });
        if (atTarget.length > 0) target.seedImage(repository, atTarget, { seed: `${repository}-target` });
        const config = configFrom(`targets: [{ name: main, registry: '${dst}' }]\n`, {
          'p.yaml': `owner: p
images:
  - source: ${src}/${repository}
    exclude: ${JSON.stringify(exclude)}
    tags:
      - semver: '*'${limit === undefined ? '' : `\n        limit: ${limit}`}
      - names: ${JSON.stringify(names)}
`,
        });
        const eligible = tags.filter((tag) => !exclude.includes(tag));
        const versions = eligible.filter((tag) => tag !== 'latest').sort(byVersionDesc);
        const expected = new Set([...(limit === undefined ? versions : versions.slice(0, limit)), ...names.filter((tag) => eligible.includes(tag))]);

        await using counting = countingClient();
        const plan = await planMirror(config, { client: counting.client });
        expect(plan.errors).toEqual([]);
        expect(plan.items.map((item) => item.source.slice(item.source.lastIndexOf(':') + 1)).sort()).toEqual([...expected].sort());
        for (const item of plan.items) {
          const tag = item.target.slice(item.target.lastIndexOf(':') + 1);
          expect(item.action).toBe(atTarget.includes(tag) ? 'skip' : 'copy');
        }
        // An image that selects nothing has no target repository to list (nor to create).
        expect(plan.repositories).toEqual(expected.size === 0 ? [] : [{ targetName: 'main', repository: `${dst}/${repository}`, exists: atTarget.length > 0 }]);
        expect(counting.requests.filter((request) => request.kind === 'manifest')).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
