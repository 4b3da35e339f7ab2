// Whatever a team file holds, the loader answers with a config or with located issues: it never throws, and
// every issue of a non-empty file points at a real line and column with a key path.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, test } from 'vitest';
import { parseTeamFile } from './config-files.ts';

const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 3 })),
})).node;

const ruleKeys = ['semver', 'regexp', 'names', 'digest', 'tag', 'strategy', 'constraint', 'limit', 'extract', 'prereleases', 'strict', 'order', 'allowTags', 'ignoreTags', 'platforms', 'password'];
const imageKeys = ['source', 'tags', 'exclude', 'mutable', 'rename', 'targets', 'owner', 'provenance', 'referrers', 'schedule', 'targetTag', 'token'];
const teamKeys = ['owner', 'targets', 'provenance', 'referrers', 'schedule', 'images', 'imagez'];

const rule = fc.dictionary(fc.constantFrom(...ruleKeys), fc.oneof(value, fc.constantFrom('^1', '>=1.0.0', 'latest', '^v(.*)$', 'semver', 'newest-build')), { maxKeys: 4 });
const image = fc.record(
  { source: fc.oneof(fc.constantFrom('nginx', 'ghcr.io/org/app', 'Bad Name', 'alpine:3'), value), tags: fc.oneof(fc.array(rule, { maxLength: 3 }), value) },
  { requiredKeys: [] },
).chain((base) => fc.dictionary(fc.constantFrom(...imageKeys), value, { maxKeys: 3 }).map((extra) => ({ ...extra, ...base })));
const team = fc.record({ owner: fc.oneof(fc.constantFrom('team-a', ''), value), images: fc.oneof(fc.array(image, { maxLength: 3 }), value) }, { requiredKeys: [] }).chain((base) =>
  fc.dictionary(fc.constantFrom(...teamKeys), value, { maxKeys: 2 }).map((extra) => ({ ...extra, ...base })),
);

describe('parseTeamFile on arbitrary content', () => {
  test('returns a team file or located issues, never throws', () => {
    fc.assert(
      fc.property(team, (content) => {
        const text = stringify(content);
        const lines = text.split('\n').length;
        const result = parseTeamFile(text, 'fuzz.yaml');
        if (result.ok) {
          expect(result.value.images.length).toBeGreaterThanOrEqual(0);
          return;
        }
        expect(result.issues.length).toBeGreaterThan(0);
        for (const issue of result.issues) {
          expect(issue.file).toBe('fuzz.yaml');
          expect(issue.message).not.toBe('');
          if (issue.line === undefined) {
            expect(issue.message).toMatch(/empty/);
            continue;
          }
          expect(issue.line).toBeGreaterThanOrEqual(1);
          expect(issue.line).toBeLessThanOrEqual(lines);
          expect(issue.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
