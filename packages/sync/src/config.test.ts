import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { tempDir } from '@scanner/test-lab';
import { describe, expect, test } from 'vitest';
import { formatConfigIssue, loadMirrorConfig, readMirrorConfigFiles } from './config.ts';
import { parseTargetsFile, parseTeamFile } from './config-files.ts';
import { isSyncError } from './errors.ts';
import type { SyncError } from './errors.ts';
import { targetReference, targetRepository } from './target-path.ts';
import type { ConfigIssue, MirrorConfig } from './types.ts';

const TARGETS = `targets:
  - name: main
    registry: mirror.example.io
  - name: regional
    registry: mirror-cn.example.io
    prefix: acme
`;

const DIGEST = `sha256:${'a'.repeat(64)}`;

async function withDir(files: Record<string, string | Uint8Array>, run: (dir: string) => Promise<void>): Promise<void> {
  await using dir = await tempDir('scanner-sync-config-');
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir.path, name)), { recursive: true });
    await writeFile(join(dir.path, name), content);
  }
  await run(dir.path);
}

async function load(files: Record<string, string>): Promise<MirrorConfig> {
  let config: MirrorConfig | undefined;
  await withDir(files, async (dir) => {
    config = await loadMirrorConfig(dir);
  });
  if (config === undefined) throw new Error('no config');
  return config;
}

async function issuesOf(files: Record<string, string | Uint8Array>): Promise<string[]> {
  let error: unknown;
  await withDir(files, async (dir) => {
    error = await loadMirrorConfig(dir).then(
      () => undefined,
      (caught: unknown) => caught,
    );
  });
  expect(isSyncError(error)).toBe(true);
  const syncError = error as SyncError;
  expect(syncError.code).toBe('invalid_config');
  for (const issue of syncError.issues) {
    expect(issue.file).not.toBe('');
  }
  return syncError.issues.map(formatConfigIssue);
}

describe('loadMirrorConfig', () => {
  test('reads the example of the issue: rules compiled to policies, defaults, targets, ids', async () => {
    const config = await load({
      'targets.yaml': TARGETS,
      'team-storage.yaml': `owner: team-storage
targets: [main]
images:
  - source: docker.io/bitnami/postgresql
    tags:
      - semver: '>=16.0.0'
        limit: 3
      - regexp: '^16\\.4\\.0-debian-12-r\\d+$'
      - names: [latest]
      - digest: ${DIGEST}
        tag: 15.8.0-pinned
      - semver: '>=1.30'
        extract: { pattern: '^stable-(.*)$', template: '$1' }
        strict: false
    exclude: ['*-debian-11-*']
    mutable: [latest]
    rename: bitnami-postgresql
    targets: [main, regional]
  - source: nginx
    owner: team-web
    provenance: true
    referrers: false
    schedule: '0 */6 * * *'
    targetTag: { pattern: '^v(.*)$', template: '$1' }
    tags:
      - strategy: latest
        allowTags: ['regexp:^main-']
        limit: 2
`,
    });
    expect(config.targets).toEqual([
      { name: 'main', registry: 'mirror.example.io', prefix: undefined },
      { name: 'regional', registry: 'mirror-cn.example.io', prefix: 'acme' },
    ]);
    const [postgres, nginx] = config.images;
    expect(postgres).toMatchObject({
      id: 'team-storage.yaml#docker.io/bitnami/postgresql',
      file: 'team-storage.yaml',
      owner: 'team-storage',
      targets: ['main', 'regional'],
      exclude: ['*-debian-11-*'],
      mutable: ['latest'],
      rename: 'bitnami-postgresql',
      referrers: true,
      provenance: false,
      schedule: undefined,
    });
    expect(postgres?.rules).toEqual([
      { kind: 'policy', path: 'images[0].tags[0]', policy: { strategy: 'semver', constraint: '>=16.0.0', limit: 3 } },
      { kind: 'policy', path: 'images[0].tags[1]', policy: { strategy: 'alphabetical', allowTags: ['regexp:^16\\.4\\.0-debian-12-r\\d+$'] } },
      { kind: 'policy', path: 'images[0].tags[2]', policy: { strategy: 'alphabetical', allowTags: ['glob:latest'] } },
      { kind: 'digest', path: 'images[0].tags[3]', digest: DIGEST, tag: '15.8.0-pinned' },
      {
        kind: 'policy',
        path: 'images[0].tags[4]',
        policy: { strategy: 'semver', constraint: '>=1.30', extract: { pattern: '^stable-(.*)$', template: '$1' }, strict: false },
      },
    ]);
    expect(nginx).toMatchObject({
      id: 'team-storage.yaml#docker.io/library/nginx',
      owner: 'team-web',
      targets: ['main'],
      provenance: true,
      referrers: false,
      schedule: '0 */6 * * *',
      targetTag: { pattern: '^v(.*)$', template: '$1' },
    });
    expect(nginx?.rules[0]).toMatchObject({ kind: 'policy', policy: { strategy: 'newest-build', allowTags: ['regexp:^main-'], limit: 2 } });
  });

  test('every target when neither file nor image names one; target paths keep library/, add the prefix, honour rename', async () => {
    const config = await load({
      'targets.yaml': TARGETS,
      'web.yml': `owner: web
images:
  - source: nginx
    tags: [{ names: ['1.27'] }]
  - source: quay.io/prometheus/node-exporter
    rename: upstream/node-exporter
    tags: [{ semver: '^1' }]
`,
    });
    const [nginx, exporter] = config.images;
    if (nginx === undefined || exporter === undefined) throw new Error('missing images');
    const [main, regional] = config.targets;
    if (main === undefined || regional === undefined) throw new Error('missing targets');
    expect(nginx.targets).toEqual(['main', 'regional']);
    expect(String(targetRepository(nginx, main))).toBe('mirror.example.io/library/nginx');
    expect(String(targetRepository(nginx, regional))).toBe('mirror-cn.example.io/acme/library/nginx');
    expect(String(targetReference(exporter, main, '1.8.2'))).toBe('mirror.example.io/upstream/node-exporter:1.8.2');
    expect(String(targetReference(exporter, regional, '1.8.2'))).toBe('mirror-cn.example.io/acme/upstream/node-exporter:1.8.2');
  });

  test('file targets apply to its images unless an image overrides them', async () => {
    const config = await load({
      'targets.yaml': TARGETS,
      'a.yaml': `owner: a
targets: [regional]
images:
  - { source: alpine, tags: [{ names: ['3.20'] }] }
  - { source: busybox, targets: [main, regional], tags: [{ names: ['1.36'] }] }
`,
    });
    expect(config.images.map((image) => image.targets)).toEqual([['regional'], ['main', 'regional']]);
  });

  test('every problem of every file at once, each with file:line:column and key path', async () => {
    const issues = await issuesOf({
      'targets.yaml': TARGETS,
      'team-storage.yaml': `owner: team-storage
images:
  - source: docker.io/bitnami/postgresql
    tags:
      - semver: '>=16.0.0'
        limit: 0
      - regexp: '^16\\.4\\.0-(debian'
      - names: [1.10, latest]
      - digest: sha256:abc
        tag: pinned
      - semver: '1.x.y'
      - semver: '>=1'
        regexp: 'x'
    exclude: ['regexp:(']
    targetTag: { pattern: '^v(.*', template: '$1' }
`,
      'team-web.yaml': `owner: team-web
targets: [main, nowhere]
imagez: []
images:
  - source: Nginx
    tags: [{ names: [latest] }]
    password: hunter2
  - source: alpine:3.20
    tags: []
`,
    });
    expect(issues).toEqual([
      expect.stringMatching(/^team-storage\.yaml:6:16 images\[0\]\.tags\[0\]\.limit: expected a positive integer/),
      expect.stringMatching(/^team-storage\.yaml:7:17 images\[0\]\.tags\[1\]\.regexp: invalid regexp "\^16.*debian": .*Unterminated group/),
      expect.stringMatching(/^team-storage\.yaml:8:17 images\[0\]\.tags\[2\]\.names\[0\]: expected a string, but YAML reads 1\.10 as a number; quote it: '1\.10'$/),
      expect.stringMatching(/^team-storage\.yaml:9:17 images\[0\]\.tags\[3\]\.digest: invalid digest "sha256:abc"/),
      expect.stringMatching(/^team-storage\.yaml:11:17 images\[0\]\.tags\[4\]\.semver: invalid semver range "1\.x\.y"/),
      expect.stringMatching(/^team-storage\.yaml:13:17 images\[0\]\.tags\[5\]\.regexp: semver and regexp cannot be combined in one rule/),
      expect.stringMatching(/^team-storage\.yaml:14:15 images\[0\]\.exclude\[0\]: invalid regexp "\(":/),
      expect.stringMatching(/^team-storage\.yaml:15:27 images\[0\]\.targetTag\.pattern: invalid regexp "\^v\(\.\*"/),
      // The file's target list is checked although the file has other problems (all problems at once).
      'team-web.yaml:2:10 targets: unknown target "nowhere"; targets.yaml names main, regional',
      expect.stringMatching(/^team-web\.yaml:3:1 imagez: unknown key "imagez"; did you mean "images"\?$/),
      expect.stringMatching(/^team-web\.yaml:5:13 images\[0\]\.source: invalid reference "Nginx": repository name must be lower case$/),
      expect.stringMatching(/^team-web\.yaml:7:5 images\[0\]\.password: "password" is not allowed here: credentials never go in mirror config files.*registries config/),
      expect.stringMatching(/^team-web\.yaml:8:13 images\[1\]\.source: "alpine:3\.20" names a tag; source is a repository/),
      expect.stringMatching(/^team-web\.yaml:9:11 images\[1\]\.tags: list at least one tag rule$/),
    ]);
    // The unknown target of team-web.yaml is a cross-file check: it waits until the file itself is valid.
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  test('cross-file problems: unknown targets and two sources writing one target repository, naming both places', async () => {
    const issues = await issuesOf({
      'targets.yaml': TARGETS,
      'a.yaml': `owner: a
images:
  - source: docker.io/bitnami/postgresql
    rename: postgresql
    tags: [{ semver: '^16' }]
`,
      'b.yaml': `owner: b
targets: [main, nowhere]
images:
  - source: ghcr.io/other/postgresql
    rename: postgresql
    tags: [{ semver: '^16' }]
  - source: quay.io/x/postgresql
    targets: [main]
    rename: postgresql
    tags: [{ semver: '^16' }]
`,
    });
    expect(issues).toEqual([
      'b.yaml:2:10 targets: unknown target "nowhere"; targets.yaml names main, regional',
      'b.yaml:9:13 images[1].rename: mirror.example.io/postgresql (target "main") would be written from quay.io/x/postgresql and from docker.io/bitnami/postgresql (a.yaml:4:13 images[0].rename); use "rename" to give one of them another target path',
    ]);
  });

  test('the same source mirrored to the same target repository by two files is a collision too', async () => {
    const issues = await issuesOf({
      'targets.yaml': TARGETS,
      'a.yaml': 'owner: a\nimages:\n  - { source: nginx, tags: [{ names: [latest] }] }\n',
      'b.yaml': 'owner: b\nimages:\n  - { source: docker.io/library/nginx, targets: [regional], tags: [{ names: [latest] }] }\n',
    });
    expect(issues).toEqual([
      'b.yaml:3:15 images[0].source: mirror-cn.example.io/acme/library/nginx (target "regional") is already mirrored from docker.io/library/nginx by a.yaml:3:15 images[0].source; one entry per target repository: remove one, or give it another target',
    ]);
  });

  test('YAML syntax errors and duplicate keys are located; a missing targets.yaml is reported with the team files', async () => {
    const issues = await issuesOf({
      'a.yaml': 'owner: a\nowner: b\nimages: []\n',
      'b.yaml': 'owner: b\nimages: [\n',
      'c.yaml': '',
    });
    expect(issues).toEqual([
      expect.stringMatching(/^targets\.yaml: missing: the config directory needs targets\.yaml/),
      'a.yaml:2:1 owner: duplicate key; YAML keeps only one of them, so write each key once',
      expect.stringMatching(/^b\.yaml:3:1 images: /),
      'c.yaml: the file is empty; a team file needs "owner:" and "images:"',
    ]);
  });

  test('targets.yaml: unique names, host-only registries, valid prefixes, credentials refused', () => {
    const second = parseTargetsFile(`targets:
  - name: main
    registry: https://mirror.example.io/v2
  - name: main
    registry: mirror.example.io
    prefix: Acme/
    username: bob
`);
    expect(second.ok ? [] : second.issues.map(formatConfigIssue)).toEqual([
      expect.stringMatching(/^targets\.yaml:3:15 targets\[0\]\.registry: registry host "https:\/\/mirror\.example\.io\/v2" is not a host\[:port\]/),
      'targets.yaml:4:11 targets[1].name: target "main" is already defined at targets[0]; names must be unique',
      expect.stringMatching(/^targets\.yaml:6:13 targets\[1\]\.prefix: invalid repository path "Acme\/"/),
      expect.stringMatching(/^targets\.yaml:7:5 targets\[1\]\.username: "username" is not allowed here: credentials never go/),
    ]);
  });

  test('short forms reject fields that do not fit them, in the words of the rule', () => {
    const result = parseTeamFile(
      `owner: a
images:
  - source: alpine
    tags:
      - names: [latest]
        strict: true
      - regexp: '^v'
        allowTags: [any]
      - digest: ${DIGEST}
      - semver: '^1'
        tag: x
      - strategy: digest
      - strategy: newest
`,
      'a.yaml',
    );
    const issues = result.ok ? [] : result.issues.map(formatConfigIssue);
    expect(issues).toEqual([
      'a.yaml:6:17 images[0].tags[0].strict: only semver rules take "strict"; remove it',
      expect.stringMatching(/^a\.yaml:8:20 images\[0\]\.tags\[1\]\.allowTags: regexp already says which tags are allowed/),
      'a.yaml:9:9 images[0].tags[2]: a pinned digest needs "tag": the tag it gets at the target',
      expect.stringMatching(/^a\.yaml:11:14 images\[0\]\.tags\[3\]\.tag: only a pinned digest takes "tag"/),
      expect.stringMatching(/^a\.yaml:12:9 images\[0\]\.tags\[4\]\.constraint: required by strategy "digest"/),
      expect.stringMatching(/^a\.yaml:13:19 images\[0\]\.tags\[5\]\.strategy: unknown strategy "newest"/),
    ]);
  });

  test('owner, schedule, duplicate sources and target lists are checked where they are written', () => {
    const result = parseTeamFile(
      `targets: [main, main]
schedule: every hour
images:
  - source: alpine
    owner: '  '
    schedule: '*/5 * * * *'
    tags: [{ names: [latest] }]
  - source: docker.io/library/alpine
    targets: []
    tags: [{ names: [edge] }]
`,
      'a.yaml',
    );
    expect(result.ok ? [] : result.issues.map(formatConfigIssue)).toEqual([
      'a.yaml:1:1: missing required key "owner": expected the owning team, e.g. "team-storage"',
      'a.yaml:1:17 targets[1]: "main" is listed twice (first at targets[0])',
      expect.stringMatching(/^a\.yaml:2:11 schedule: "every hour" is not a cron expression/),
      expect.stringMatching(/^a\.yaml:5:12 images\[0\]\.owner: expected the owning team: 1 to 128 characters/),
      'a.yaml:9:14 images[1].targets: an empty list mirrors nowhere; omit targets to use every target',
    ]);
  });

  test('one source in one file: to two target repositories it is fine, to the same one it is a collision', async () => {
    const config = await load({
      'targets.yaml': TARGETS,
      'a.yaml': 'owner: a\nimages:\n  - { source: alpine, tags: [{ names: [a] }] }\n  - { source: docker.io/library/alpine, rename: legacy/alpine, tags: [{ names: [b] }] }\n',
    });
    expect(config.images.map((image) => [String(image.source), image.rename])).toEqual([
      ['docker.io/library/alpine', undefined],
      ['docker.io/library/alpine', 'legacy/alpine'],
    ]);
    expect(new Set(config.images.map((image) => image.id)).size).toBe(2);
    const issues = await issuesOf({
      'targets.yaml': TARGETS,
      'a.yaml': 'owner: a\nimages:\n  - { source: alpine, tags: [{ names: [a] }] }\n  - { source: docker.io/library/alpine, tags: [{ names: [b] }] }\n',
    });
    expect(issues).toEqual([
      'a.yaml:4:15 images[1].source: mirror.example.io/library/alpine (target "main") is already mirrored from docker.io/library/alpine by a.yaml:3:15 images[0].source; merge the rules into one entry (a tag is mirrored when any rule selects it), or use "rename" to write another repository',
      'a.yaml:4:15 images[1].source: mirror-cn.example.io/acme/library/alpine (target "regional") is already mirrored from docker.io/library/alpine by a.yaml:3:15 images[0].source; merge the rules into one entry (a tag is mirrored when any rule selects it), or use "rename" to write another repository',
    ]);
  });

  test('a file that is not UTF-8 is an issue naming the file, line and byte; UTF-16 and UTF-32 are named', async () => {
    const team = (owner: string): string => `owner: ${owner}\nimages:\n  - { source: alpine, tags: [{ names: [latest] }] }\n`;
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(team('a'), 'utf16le')]);
    const utf16be = Buffer.from([0xfe, 0xff, ...Buffer.from(team('a'), 'utf16le').swap16()]);
    const issues = await issuesOf({
      'targets.yaml': TARGETS,
      'a.yaml': Buffer.concat([Buffer.from('# team\nowner: t'), Buffer.from([0xe9]), Buffer.from('am\nimages: []\n')]),
      'b.yaml': utf16le,
      'c.yaml': utf16be,
      // A UTF-8 byte-order mark is fine.
      'd.yaml': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(team('d'))]),
      'e.yaml': Buffer.from([0xff, 0xfe, 0, 0, 0x6f, 0, 0, 0]),
    });
    expect(issues).toEqual([
      'a.yaml:2:9: not valid UTF-8: byte 0xe9 at offset 15 (line 2, byte 9 of the line); save the file as UTF-8 (it looks like Latin-1 or Windows-1252)',
      'b.yaml: the file is UTF-16 (little-endian, it starts with a byte-order mark); save it as UTF-8',
      'c.yaml: the file is UTF-16 (big-endian, it starts with a byte-order mark); save it as UTF-8',
      'e.yaml: the file is UTF-32 (little-endian, it starts with a byte-order mark); save it as UTF-8',
    ]);
  });

  test('a file over 1 MiB is an issue, not a long wait', async () => {
    const big = `owner: a\nimages:\n${'  - { source: alpine, tags: [{ names: [latest] }] }\n'.repeat(25_000)}`;
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const issues = await issuesOf({ 'targets.yaml': TARGETS, 'big.yaml': big });
    expect(issues).toEqual([`big.yaml: ${big.length} bytes, over the 1 MiB a config file may have (a Kubernetes ConfigMap holds 1 MiB in all); split it into several team files`]);
  });

  test('only regular files are read: a FIFO, a device or a socket (even behind a symlink) is an issue naming the file, never a hang or an unbounded read', async () => {
    await withDir({ 'targets.yaml': TARGETS, 'good.yaml': 'owner: good\nimages:\n  - { source: alpine, tags: [{ names: [latest] }] }\n' }, async (dir) => {
      execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
      await symlink('/dev/zero', join(dir, 'zero.yaml'));
      await symlink(join(dir, 'fifo.yaml'), join(dir, 'to-fifo.yaml'));
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(join(dir, 'socket.yaml'), resolve));
      try {
        const files = await readMirrorConfigFiles(dir);
        expect(files.teams.map((team) => (team.ok ? `${team.file}: ok` : team.issues.map(formatConfigIssue).join('; ')))).toEqual([
          'fifo.yaml: cannot read fifo.yaml: a FIFO (named pipe), not a regular file',
          'good.yaml: ok',
          'socket.yaml: cannot read socket.yaml: a socket, not a regular file',
          'to-fifo.yaml: cannot read to-fifo.yaml: a FIFO (named pipe), not a regular file',
          'zero.yaml: cannot read zero.yaml: a character device, not a regular file',
        ]);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }, 10_000);

  test('all at once: cross-file checks also cover files with other problems, and a duplicate key hides nothing', async () => {
    const issues = await issuesOf({
      'targets.yaml': TARGETS,
      // Its first image is invalid (bad regexp) but names an unknown target; its second is valid and collides.
      'a.yaml': `owner: team-a
images:
  - source: docker.io/bitnami/postgresql
    tags: [{ regexp: '(' }]
    targets: [main, nowhere]
  - source: quay.io/x/postgresql
    rename: bitnami/postgresql
    tags: [{ names: [latest] }]
`,
      // A duplicate key, and a credential key the schema refuses; its image is valid and collides.
      'b.yaml': `owner: team-b
owner: team-b2
credentials: x
images:
  - source: docker.io/bitnami/postgresql
    tags: [{ names: [latest] }]
`,
      // Duplicate keys inside an image hide nothing either.
      'c.yaml': `owner: team-c
images:
  - source: ghcr.io/x/y
    password: x
    password: y
    tags: [{ names: [latest] }]
`,
    });
    expect(issues).toEqual([
      expect.stringMatching(/^a\.yaml:4:22 images\[0\]\.tags\[0\]\.regexp: invalid regexp "\("/),
      'a.yaml:5:14 images[0].targets: unknown target "nowhere"; targets.yaml names main, regional',
      'b.yaml:2:1 owner: duplicate key; YAML keeps only one of them, so write each key once',
      expect.stringMatching(/^b\.yaml:3:1 credentials: "credentials" is not allowed here/),
      'b.yaml:5:13 images[0].source: mirror.example.io/bitnami/postgresql (target "main") would be written from docker.io/bitnami/postgresql and from quay.io/x/postgresql (a.yaml:7:13 images[1].rename); use "rename" to give one of them another target path',
      'b.yaml:5:13 images[0].source: mirror-cn.example.io/acme/bitnami/postgresql (target "regional") would be written from docker.io/bitnami/postgresql and from quay.io/x/postgresql (a.yaml:7:13 images[1].rename); use "rename" to give one of them another target path',
      expect.stringMatching(/^c\.yaml:4:5 images\[0\]\.password: "password" is not allowed here/),
      'c.yaml:5:5 images[0].password: duplicate key; YAML keeps only one of them, so write each key once',
    ]);
  });

  test('a file with two YAML documents is one issue at the second, saying to split the file', async () => {
    const issues = await issuesOf({
      'targets.yaml': TARGETS,
      'a.yaml': '---\nowner: a\nimages:\n  - { source: alpine, tags: [{ names: [v1] }] }\n---\nowner: b\nimages: []\n',
    });
    expect(issues).toEqual(['a.yaml:5:1: a config file holds one YAML document, and a second one starts here (after "---"); put it in a file of its own']);
  });

  test('team files: .YAML/.YML in any case and files in sub-directories are read; dot entries (..data) are not', async () => {
    const team = (source: string): string => `owner: team-x\nimages:\n  - { source: ${source}, tags: [{ names: [latest] }] }\n`;
    const config = await load({
      'targets.yaml': TARGETS,
      'B.YAML': team('alpine'),
      'c.Yml': team('busybox'),
      'c.yaml.bak': team('nginx'),
      'teams/storage/d.yaml': team('quay.io/x/d'),
      '..data/e.yaml': team('quay.io/x/e'),
      '.hidden/f.yaml': team('quay.io/x/f'),
    });
    expect(config.images.map((image) => image.id)).toEqual(['B.YAML#docker.io/library/alpine', 'c.Yml#docker.io/library/busybox', 'teams/storage/d.yaml#quay.io/x/d']);
  });

  test('a config directory without any team file is an issue, not "nothing to do"; a misnamed targets file is named', async () => {
    expect(await issuesOf({ 'targets.yaml': TARGETS })).toEqual([
      '.: no team file in the config directory: every *.yaml / *.yml file besides targets.yaml (also in sub-directories) is one; nothing would be mirrored',
    ]);
    expect(await issuesOf({ 'targets.yaml': TARGETS, 'Targets.YAML': TARGETS, 'a.yaml': 'owner: a\nimages:\n  - { source: alpine, tags: [{ names: [latest] }] }\n' })).toEqual([
      'Targets.YAML: name this file targets.yaml: the targets file is read by that exact name',
    ]);
  });

  test('credential-looking keys are refused anywhere, without echoing their values', () => {
    const result = parseTeamFile(
      'owner: a\ncredentials: env:SECRET_CREDS\nimages:\n  - source: alpine\n    auth: c2VjcmV0\n    tags: [{ names: [latest], token: abc123 }]\n    author: me\n',
      'a.yaml',
    );
    const lines = result.ok ? [] : result.issues.map(formatConfigIssue);
    expect(lines).toEqual([
      expect.stringMatching(/^a\.yaml:2:1 credentials: "credentials" is not allowed here: credentials never go in mirror config files/),
      expect.stringMatching(/^a\.yaml:5:5 images\[0\]\.auth: "auth" is not allowed here/),
      expect.stringMatching(/^a\.yaml:6:31 images\[0\]\.tags\[0\]\.token: "token" is not allowed here/),
      'a.yaml:7:5 images[0].author: unknown key "author"',
    ]);
    for (const secret of ['SECRET_CREDS', 'c2VjcmV0', 'abc123']) expect(lines.join('\n')).not.toContain(secret);
  });

  test('a file that is not a mapping, and rules that are not mappings, say what was expected', () => {
    const list = parseTeamFile('- a\n- b\n', 'a.yaml');
    expect(list.ok ? [] : list.issues.map(formatConfigIssue)).toEqual(['a.yaml:1:1: expected a mapping with "owner:" and "images:", got a list']);
    const rules = parseTeamFile("owner: a\nimages:\n  - source: alpine\n    tags: ['1.0', {}]\n", 'a.yaml');
    expect(rules.ok ? [] : rules.issues.map(formatConfigIssue)).toEqual([
      expect.stringMatching(/^a\.yaml:4:12 images\[0\]\.tags\[0\]: expected a rule such as \{ semver: ">=1\.0\.0" \}.*, got a string$/),
      'a.yaml:4:19 images[0].tags[1]: a rule needs one of semver, regexp, names, digest (with tag) or strategy',
    ]);
  });

  test('per-file results: one invalid file does not hide the others', async () => {
    await withDir(
      {
        'targets.yaml': TARGETS,
        'good.yaml': 'owner: good\nimages:\n  - { source: alpine, tags: [{ names: [latest] }] }\n',
        'bad.yaml': 'owner: bad\nimages:\n  - { source: alpine, tags: [{ semver: "1.x.y" }] }\n',
        '..data.yaml': 'not: a team file\n',
        'notes.txt': 'ignored',
      },
      async (dir) => {
        const files = await readMirrorConfigFiles(dir);
        expect(files.targets.ok).toBe(true);
        expect(files.teams.map((team) => [team.file, team.ok])).toEqual([
          ['bad.yaml', false],
          ['good.yaml', true],
        ]);
      },
    );
  });

  test('issues carry no line for a file that cannot be read', async () => {
    let error: unknown;
    try {
      await loadMirrorConfig('/nonexistent/scanner-sync-config');
    } catch (caught) {
      error = caught;
    }
    expect(isSyncError(error)).toBe(true);
    const issue = (error as SyncError).issues[0] as ConfigIssue;
    expect(issue.line).toBeUndefined();
    expect(formatConfigIssue(issue)).toMatch(/^\.: cannot read the config directory .*not found$/);
  });
});
