// The proof the issue asks for: a converted skopeo file plans exactly the tags the real `skopeo sync
// --dry-run` selects for the same file, on a real distribution registry seeded with semver-ish,
// regex-matching and pinned tags. skopeo before 1.15 (Debian's 1.9) ignores `images-by-semver` without a word;
// for those entries the plan is held to Masterminds semantics instead (see masterminds.test.ts), and the test
// checks that the old skopeo really selected nothing for them. A converted rename list is planned the same way
// and compared with what the retagger's code selects and names.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistryClient } from '@scanner/registry';
import { hasBinary, runCommand, seedImage, seedTags, startRegistry, tempDir } from '@scanner/test-lab';
import type { Registry } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMirrorConfig } from '../config.ts';
import { planMirror } from '../plan.ts';
import { convertRetagger } from './retagger.ts';
import { convertSkopeoSync } from './skopeo.ts';

const binaries = ['docker-registry', 'skopeo'];
const missing = binaries.filter((binary) => !hasBinary(binary));
// Under CI a missing binary fails the run instead of skipping it.
if (process.env['CI'] === 'true' && missing.length > 0) throw new Error(`the convert interop tests need ${missing.join(', ')}`);

const APP_TAGS = ['1.0.0', '1.2', 'v1.3.0', '1.10.1', '2.0.0', '2.0.0-rc.1', 'latest', '1.2.3-debian-12-r4', '1.2.3-debian-12-r5', '1.2.3-debian-11-r2', 'stable-1.30.2', 'main-abc123'];
const EVERY_TAGS = ['a', 'b', 'latest', 'v2'];
const SEMVER_TAGS = ['1.0', '1.5.0', 'v1.9', '2.0.0', '2.1.0-beta.1', 'nightly'];

/** `repository:tag` or `repository@digest` lines of what a selection copies from `host`. */
type Selected = string[];

function skopeoSelection(stderr: string, host: string): Selected {
  const selected: string[] = [];
  for (const match of stderr.matchAll(/Would have copied image[^\n]*?from="docker:\/\/([^"]+)"/g)) {
    const reference = match[1] ?? '';
    expect(reference.startsWith(`${host}/`)).toBe(true);
    selected.push(reference.slice(host.length + 1));
  }
  // A tag two maps select is listed (and copied) twice by skopeo; it is one tag at the target.
  return [...new Set(selected)].sort();
}

async function skopeoVersion(): Promise<[number, number]> {
  const { stdout } = await runCommand('skopeo', ['--version']);
  const match = /(\d+)\.(\d+)/.exec(stdout);
  return [Number(match?.[1] ?? 0), Number(match?.[2] ?? 0)];
}

describe.skipIf(missing.length > 0)('converted files planned on a real registry', () => {
  let registry: Registry;
  let pinnedDigest: string;

  beforeAll(async () => {
    registry = await startRegistry();
    await seedTags(registry, 'app', APP_TAGS, { seed: 'app' });
    // A digest no tag of the list points at: skopeo copies it by digest, the team file pins it.
    pinnedDigest = (await seedImage(registry, 'app:other', { seed: 'other' })).digest;
    await seedTags(registry, 'tools/every', EVERY_TAGS, { seed: 'every' });
    await seedTags(registry, 'semver-only', SEMVER_TAGS, { seed: 'semver' });
  }, 120_000);

  afterAll(async () => {
    await registry.stop();
  });

  it('a converted skopeo file plans exactly what skopeo sync --dry-run selects', { timeout: 120_000 }, async () => {
    const host = registry.host;
    const file = `${host}:
  tls-verify: false
  images:
    app: ["1.0.0", latest, "${pinnedDigest}"]
    tools/every: []
  images-by-tag-regex:
    app: '^1\\.2\\.3-debian-12-r\\d+$'
    tools/every: '^v\\d'
  images-by-semver:
    semver-only: ">= 1.2"
    app: ">= 1.2, < 2"
`;
    await using dir = await tempDir('scanner-convert-');
    const syncFile = join(dir.path, 'sync.yaml');
    const policy = join(dir.path, 'policy.json');
    const authFile = join(dir.path, 'auth.json');
    await Promise.all([writeFile(syncFile, file), writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] })), writeFile(authFile, '{"auths":{}}')]);

    // The real skopeo: --dry-run lists what it would copy on stderr and copies nothing.
    const { stderr } = await runCommand(
      'skopeo',
      ['--policy', policy, 'sync', '--dry-run', '--all', '--src', 'yaml', '--dest', 'docker', '--authfile', authFile, '--dest-tls-verify=false', '--retry-times', '0', syncFile, `${host}/x`],
      { timeoutMs: 60_000 },
    );
    const bySkopeo = skopeoSelection(stderr, host);

    // The converted file, loaded by the team-file loader and planned against an empty target.
    const converted = convertSkopeoSync(file, { owner: 'team-interop', file: 'sync.yaml' });
    const configDir = join(dir.path, 'mirror');
    await mkdir(configDir);
    await writeFile(join(configDir, 'targets.yaml'), `targets:\n  - name: main\n    registry: ${host}\n    prefix: mirror\n`);
    await writeFile(join(configDir, 'team-interop.yaml'), converted.yaml);
    const config = await loadMirrorConfig(configDir);
    const plan = await planMirror(config, { client: createRegistryClient({ retryBaseMs: 10, retryMaxMs: 50 }) });
    expect(plan.errors).toEqual([]);
    expect(new Set(plan.items.map((item) => item.action))).toEqual(new Set(['copy']));

    const planned = plan.items.map((item) => item.source.slice(host.length + 1)).sort();
    // What the semver entries select under Masterminds: 1.2 counts as 1.2.0, a v prefix is allowed, no prereleases.
    const bySemver = ['app:1.10.1', 'app:1.2', 'app:v1.3.0', 'semver-only:1.5.0', 'semver-only:2.0.0', 'semver-only:v1.9'];
    const [major, minor] = await skopeoVersion();
    if (major > 1 || minor >= 15) {
      // A skopeo with images-by-semver: the plan is exactly its selection.
      expect(planned).toEqual(bySkopeo);
    } else {
      // Debian's skopeo ignores images-by-semver without a word: none of those tags is listed…
      for (const reference of bySemver) expect(bySkopeo).not.toContain(reference);
      // …and the plan is exactly skopeo's selection plus what Masterminds selects for the semver entries.
      expect(planned).toEqual([...bySkopeo, ...bySemver].sort());
    }
    // The selection is not trivial: tags, digests, regexps and every-tag lists all contributed.
    expect(bySkopeo).toEqual(
      [
        'app:1.0.0',
        'app:latest',
        `app@${pinnedDigest}`,
        'app:1.2.3-debian-12-r4',
        'app:1.2.3-debian-12-r5',
        ...EVERY_TAGS.map((tag) => `tools/every:${tag}`),
      ].sort(),
    );
  });

  it('plans a converted rename list with the retagger\'s selection and target names', { timeout: 120_000 }, async () => {
    const host = registry.host;
    const hex = pinnedDigest.slice('sha256:'.length);
    const converted = convertRetagger(
      `- image: ${host}/app
  tag_or_pattern: '^1\\.2\\.3-debian-12-r\\d+$'
  add_tag_suffix: gs
- image: ${host}/app
  sha: ${hex}
  tag_or_pattern: 3.0.0
  add_tag_suffix: gs
- image: ${host}/semver-only
  semver: '>= 1.2'
  strip_semver_prefix: true
- image: ${host}/tools/every
  semver: '>= 1'
  filter: '^v(\\d+)$'
  override_repo_name: every-renamed
`,
      { owner: 'team-interop', file: 'renamed-images.yaml' },
    );
    await using dir = await tempDir('scanner-convert-');
    await writeFile(join(dir.path, 'targets.yaml'), `targets:\n  - name: main\n    registry: ${host}\n    prefix: giantswarm\n`);
    await writeFile(join(dir.path, 'renamed-images.yaml'), converted.yaml);
    const plan = await planMirror(await loadMirrorConfig(dir.path), { client: createRegistryClient({ retryBaseMs: 10, retryMaxMs: 50 }) });
    expect(plan.errors).toEqual([]);
    // Worked out from the retagger's FilterTags and RetagUsingTags/RetagUsingSHA on the seeded tags.
    expect(plan.items.map((item) => `${item.source.slice(host.length + 1)} -> ${item.target.slice(host.length + 1)}`).sort()).toEqual(
      [
        'app:1.2.3-debian-12-r4 -> giantswarm/app:1.2.3-debian-12-r4-gs',
        'app:1.2.3-debian-12-r5 -> giantswarm/app:1.2.3-debian-12-r5-gs',
        `app@${pinnedDigest} -> giantswarm/app:3.0.0-gs`,
        'semver-only:1.5.0 -> giantswarm/semver-only:1.5.0',
        'semver-only:2.0.0 -> giantswarm/semver-only:2.0.0',
        'semver-only:v1.9 -> giantswarm/semver-only:1.9',
        'tools/every:v2 -> giantswarm/every-renamed:v2',
      ].sort(),
    );
  });
});
