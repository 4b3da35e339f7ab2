import { createExtractor } from '@scanner/tag';
import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors.ts';
import type { SyncError } from '../errors.ts';
import { convertRetagger, retaggerTargetTag } from './retagger.ts';

const sha = 'b2'.repeat(32);

function convert(text: string) {
  return convertRetagger(text, { owner: 'team-platform', file: 'renamed-images.yaml' });
}

function failure(text: string): SyncError {
  try {
    convert(text);
  } catch (error) {
    if (isSyncError(error)) return error;
    throw error;
  }
  throw new Error('expected convertRetagger to throw');
}

/** The retagger's destination tag (RetagUsingTags): suffix appended, then one leading "v" trimmed. */
function retaggerDestination(tag: string, suffix: string | undefined, strip: boolean): string {
  let destination = suffix === undefined ? tag : `${tag}-${suffix}`;
  if (strip && destination.startsWith('v')) destination = destination.slice(1);
  return destination;
}

describe('convertRetagger', () => {
  it('maps each kind of entry to a rule, rename and targetTag', () => {
    const { document } = convert(`- image: alpine
  tag_or_pattern: '^3\\.1[2-9]\\.\\d+$'
  add_tag_suffix: giantswarm
- image: alpine
  sha: ${sha}
  tag_or_pattern: 3.12.0
  add_tag_suffix: giantswarm
- image: ghcr.io/fluxcd/flux-cli
  semver: '>= 2.0'
  filter: '^v(.*)-alpine$'
  strip_semver_prefix: true
  override_repo_name: fluxcd/flux-cli-alpine
- image: registry.k8s.io/kube-state-metrics/kube-state-metrics
  semver: '~2.10'
`);
    expect(document).toEqual({
      owner: 'team-platform',
      images: [
        {
          source: 'docker.io/library/alpine',
          tags: [{ regexp: String.raw`^3\.1[2-9]\.\d+$` }, { digest: `sha256:${sha}`, tag: '3.12.0-giantswarm' }],
          targetTag: { pattern: '^(.*)$', template: '$1-giantswarm' },
        },
        {
          source: 'ghcr.io/fluxcd/flux-cli',
          tags: [{ semver: '>= 2.0', strict: false, extract: { pattern: '^v(.*)-alpine$', template: '$1' } }],
          rename: 'fluxcd/flux-cli-alpine',
          targetTag: { pattern: '^v(.*)$', template: '$1' },
        },
        { source: 'registry.k8s.io/kube-state-metrics/kube-state-metrics', tags: [{ semver: '~2.10', strict: false }] },
      ],
    });
  });

  it('names target tags exactly as the retagger did', () => {
    const tags = ['v1.2.3', '1.2.3', 'v1.2.3-alpine', 'very-1', 'latest'];
    for (const suffix of [undefined, 'giantswarm']) {
      for (const strip of [false, true]) {
        const template = retaggerTargetTag(suffix, strip);
        for (const tag of tags) {
          const named = template === undefined ? tag : (createExtractor(template).extract(tag) ?? tag);
          expect(`${tag} (${String(suffix)}, ${String(strip)}) → ${named}`).toBe(`${tag} (${String(suffix)}, ${String(strip)}) → ${retaggerDestination(tag, suffix, strip)}`);
        }
      }
    }
  });

  it('accepts sha with or without the "sha256:" prefix and marks mutable tags a pattern selects', () => {
    const { document } = convert(`- image: quay.io/org/app
  sha: sha256:${sha}
  tag_or_pattern: pinned
- image: quay.io/org/app
  tag_or_pattern: '^(latest|develop|v\\d+)$'
`);
    expect(document.images).toEqual([
      { source: 'quay.io/org/app', tags: [{ digest: `sha256:${sha}`, tag: 'pinned' }, { regexp: String.raw`^(latest|develop|v\d+)$` }], mutable: ['latest', 'develop'] },
    ]);
  });

  it('keeps entries of one image apart when they rename it differently', () => {
    const { document } = convert(`- image: nginx
  tag_or_pattern: '^1\\.25'
- image: nginx
  tag_or_pattern: '^1\\.25'
  override_repo_name: nginx-legacy
  add_tag_suffix: legacy
`);
    expect(document.images.map((image) => [image.source, image.rename, image.targetTag?.template])).toEqual([
      ['docker.io/library/nginx', undefined, undefined],
      ['docker.io/library/nginx', 'nginx-legacy', '$1-legacy'],
    ]);
  });

  it('refuses options that conflict, naming the entry, its image, key and line', () => {
    const error = failure(`- image: alpine
  semver: '>= 3.17'
  tag_or_pattern: '^3'
- image: alpine
  sha: ${sha}
- image: busybox
  filter: '(.*)-musl'
- image: quay.io/org/app
  tag_or_pattern: v1
  strip_semver_prefix: true
- image: quay.io/org/other
- tag_or_pattern: x
- image: quay.io/org/third
  semver: '>= 1'
  sha: ${sha}
`);
    expect(error.code).toBe('invalid_convert_input');
    expect(error.issues.map((issue) => `${issue.line} ${issue.path} ${issue.message.split(':')[0] ?? ''}`)).toEqual([
      '3 [0].tag_or_pattern alpine',
      '5 [1].sha alpine',
      '6 [2].image busybox',
      '7 [2].filter busybox',
      '10 [3].strip_semver_prefix quay.io/org/app',
      '11 [4].image quay.io/org/other',
      '12 [5] an entry needs "image"',
      '15 [6].sha quay.io/org/third',
      '15 [6].sha quay.io/org/third',
    ]);
    expect(error.issues[0]?.message).toMatch(/semver and tag_or_pattern cannot be combined/);
    expect(error.issues[1]?.message).toMatch(/sha needs tag_or_pattern/);
    expect(error.issues[2]?.message).toMatch(/needs tag_or_pattern, sha or semver/);
    expect(error.issues[4]?.message).toMatch(/strip_semver_prefix only works with semver/);
    expect(error.issues[7]?.message).toMatch(/sha needs tag_or_pattern/);
    expect(error.issues[8]?.message).toMatch(/semver and sha cannot be combined/);
  });

  it('refuses what a team file cannot express or the retagger never did', () => {
    const error = failure(`- image: alpine
  tag_or_pattern: '^3'
  dockerfile_extras: ["RUN apk add bash"]
- image: alpine
  semver: '>= 3'
  filter: '-alpine$'
- image: alpine:3.18
  tag_or_pattern: x
- image: nginx
  tag_or_pattern: '^1\\.25'
- image: nginx
  tag_or_pattern: '^1\\.26'
  add_tag_suffix: gs
- image: redis
  sha: nothex
  tag_or_pattern: 'not a tag'
- image: redis
  semver: '1.x.y'
- image: redis
  tag_or_pattern: '^7'
  add_tag_suffix: 'a b'
  override_repo_name: Redis
  sync: true
`);
    expect(error.issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      expect.stringMatching(/^\[0\]\.dockerfile_extras: .*out of scope/),
      expect.stringMatching(/^\[1\]\.filter: alpine: "-alpine\$" has no group/),
      expect.stringMatching(/^\[2\]\.image: alpine:3\.18: names a tag or digest/),
      expect.stringMatching(/^\[4\]: docker\.io\/library\/nginx: entries renamed-images\.yaml:9 \[3\] and renamed-images\.yaml:11 \[4\] .*one targetTag per image/),
      expect.stringMatching(/^\[5\]\.sha: redis: "nothex" is not a sha256 digest/),
      expect.stringMatching(/^\[5\]\.tag_or_pattern: redis: "not a tag" is not a valid tag name/),
      expect.stringMatching(/^\[6\]\.semver: redis: Masterminds\/semver .* refuses "1\.x\.y"/),
      expect.stringMatching(/^\[7\]\.add_tag_suffix: redis: "a b" cannot end a tag/),
      expect.stringMatching(/^\[7\]\.override_repo_name: redis: "Redis" is not a repository path/),
      expect.stringMatching(/^\[7\]\.sync: unknown key "sync"/),
    ]);
  });

  it('refuses a file that is not a list of entries', () => {
    expect(failure('image: alpine\n').issues[0]?.message).toMatch(/expected a list of entries/);
    expect(failure('- alpine\n').issues[0]).toMatchObject({ path: '[0]', message: expect.stringMatching(/expected an entry with image/) as unknown });
    expect(failure('- image: alpine\n  tag_or_pattern: x\n  strip_semver_prefix: maybe\n').issues.map((issue) => issue.path)).toContain('[0].strip_semver_prefix');
  });
});
