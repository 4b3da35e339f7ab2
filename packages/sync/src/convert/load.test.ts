// Every file `convert` writes loads with the team-file loader without an issue, and means what it says.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@scanner/test-lab';
import { describe, expect, it } from 'vitest';
import { collectConfigIssues, readMirrorConfigFiles } from '../config.ts';
import type { MirrorConfig } from '../types.ts';
import { convertRetagger } from './retagger.ts';
import { convertSkopeoSync } from './skopeo.ts';
import type { ConvertResult } from './team-file.ts';

const digest = `sha256:${'c3'.repeat(32)}`;

const skopeoFiles: Readonly<Record<string, string>> = {
  'every key': `docker.io:
  images:
    bitnami/postgresql: ["16.4.0", 1.10, latest, ${digest}]
    nginx: []
    busybox:
  images-by-tag-regex:
    bitnami/postgresql: '^16\\.4\\.0-debian-12-r\\d+$'
    nginx: '(?i)^1\\.2[0-9]-ALPINE$'
  images-by-semver:
    bitnami/postgresql: ">= 16.0"
    library/nginx: "~1.25 || >= 1.27.0-rc.1"
  credentials:
    username: robot
    password: not-copied
  tls-verify: false
quay.io:
  images-by-semver:
    prometheus/node-exporter: [">= v1.5", "1.2 - 1.4"]
  cert-dir: /etc/certs
registry.example.com:5000/team:
  images-by-tag-regex:
    tools/app: '[[:digit:]]+\\.x$'
`,
};

const retaggerFiles: Readonly<Record<string, string>> = {
  'every key': `- image: alpine
  tag_or_pattern: '^3\\.1[2-9]'
  add_tag_suffix: giantswarm
- image: alpine
  sha: ${'d4'.repeat(32)}
  tag_or_pattern: 3.12.0
  add_tag_suffix: giantswarm
- image: ghcr.io/fluxcd/flux-cli
  semver: '>= 2.0, < 3'
  filter: '^v(?P<version>.*)-alpine$'
  strip_semver_prefix: true
  add_tag_suffix: gs
  override_repo_name: fluxcd/flux-cli-alpine
- image: registry.k8s.io/kube-state-metrics/kube-state-metrics
  semver: '~2.10'
  strip_semver_prefix: true
- image: quay.io/org/app
  tag_or_pattern: '^(latest|develop|v\\d+)$'
  override_repo_name: app-renamed
`,
};

async function load(result: ConvertResult): Promise<MirrorConfig> {
  await using dir = await tempDir('scanner-convert-load-');
  await writeFile(join(dir.path, 'targets.yaml'), 'targets:\n  - name: main\n    registry: mirror.example.io\n  - name: regional\n    registry: mirror-cn.example.io\n    prefix: giantswarm\n');
  await writeFile(join(dir.path, 'converted.yaml'), result.yaml);
  const { config, issues } = collectConfigIssues(await readMirrorConfigFiles(dir.path));
  expect(issues).toEqual([]);
  if (config === undefined) throw new Error('no config');
  return config;
}

/** What a loaded image says, in the converted document's terms. */
function loaded(config: MirrorConfig) {
  return config.images.map((image) => ({
    owner: image.owner,
    source: String(image.source),
    rules: image.rules.map((rule) => (rule.kind === 'digest' ? { digest: rule.digest, tag: rule.tag } : rule.policy)),
    mutable: image.mutable,
    rename: image.rename,
    targetTag: image.targetTag,
    targets: image.targets,
  }));
}

describe('converted files load with the team-file loader', () => {
  it.each(Object.entries(skopeoFiles))('skopeo sync YAML: %s', async (_name, text) => {
    const result = convertSkopeoSync(text, { owner: 'team-storage', file: 'sync.yaml' });
    const images = loaded(await load(result));
    expect(images).toHaveLength(result.document.images.length);
    expect(images.map((image) => [image.source, image.rules.length, image.mutable])).toEqual(
      result.document.images.map((image) => [image.source, image.tags.length, image.mutable ?? []]),
    );
    expect(images.every((image) => image.owner === 'team-storage' && image.targets.length === 2)).toBe(true);
    // Numbers stay tags, digests stay pinned, semver rules read versions the lenient Masterminds way.
    expect(images[0]?.rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ strategy: 'alphabetical', allowTags: ['glob:16.4.0', 'glob:1.10', 'glob:latest'] }),
        expect.objectContaining({ strategy: 'semver', constraint: '>= 16.0', strict: false }),
        { digest, tag: 'pinned-c3c3c3c3c3c3' },
      ]),
    );
  });

  it.each(Object.entries(retaggerFiles))('retagger rename list: %s', async (_name, text) => {
    const result = convertRetagger(text, { owner: 'team-platform', file: 'renamed-images.yaml' });
    const images = loaded(await load(result));
    expect(images.map((image) => [image.source, image.rename, image.targetTag, image.rules.length])).toEqual(
      result.document.images.map((image) => [image.source, image.rename, image.targetTag, image.tags.length]),
    );
    expect(images[1]?.rules).toEqual([
      expect.objectContaining({ strategy: 'semver', constraint: '>= 2.0, < 3', strict: false, extract: { pattern: '^v(?P<version>.*)-alpine$', template: '$1' } }),
    ]);
  });

  it('retagger rename list: one image under two names (override_repo_name) loads as two entries with distinct ids', async () => {
    const text = "- image: docker.io/acme/app\n  tag_or_pattern: '^v1\\.0\\.0$'\n- image: docker.io/acme/app\n  tag_or_pattern: '^v1\\.1\\.0$'\n  override_repo_name: app-legacy\n";
    const result = convertRetagger(text, { owner: 'team-platform', file: 'renamed-images.yaml' });
    const config = await load(result);
    expect(config.images.map((image) => [String(image.source), image.rename])).toEqual([
      ['docker.io/acme/app', undefined],
      ['docker.io/acme/app', 'app-legacy'],
    ]);
    expect(new Set(config.images.map((image) => image.id)).size).toBe(2);
  });
});
