import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isSyncError } from '../errors.ts';
import type { SyncError } from '../errors.ts';
import { convertSkopeoSync, pinnedTag } from './skopeo.ts';

const digestA = `sha256:${'a1'.repeat(32)}`;

function convert(text: string) {
  return convertSkopeoSync(text, { owner: 'team-storage', file: 'skopeo-docker-io.yaml' });
}

function failure(text: string): SyncError {
  try {
    convert(text);
  } catch (error) {
    if (isSyncError(error)) return error;
    throw error;
  }
  throw new Error('expected convertSkopeoSync to throw');
}

describe('convertSkopeoSync', () => {
  it('maps tags, digests, every-tag lists, regexps and semver constraints to rules', () => {
    const { document } = convert(`docker.io:
  images:
    bitnami/postgresql:
      - "16.4.0"
      - latest
      - ${digestA}
    bitnami/redis: []
    busybox:
  images-by-tag-regex:
    bitnami/postgresql: '^16\\.4\\.0-debian-12-r\\d+$'
  images-by-semver:
    bitnami/postgresql: ">= 16.0"
`);
    expect(document).toEqual({
      owner: 'team-storage',
      images: [
        {
          source: 'docker.io/bitnami/postgresql',
          tags: [
            { names: ['16.4.0', 'latest'] },
            { regexp: String.raw`^16\.4\.0-debian-12-r\d+$` },
            { semver: '>= 16.0', strict: false },
            { digest: digestA, tag: pinnedTag(digestA) },
          ],
          mutable: ['latest'],
        },
        { source: 'docker.io/bitnami/redis', tags: [{ regexp: '.*' }], mutable: ['latest', 'develop', 'debug'] },
        { source: 'docker.io/library/busybox', tags: [{ regexp: '.*' }], mutable: ['latest', 'develop', 'debug'] },
      ],
    });
  });

  it('keeps tags YAML would read as numbers as they are written, as skopeo (Go strings) does', () => {
    const { document, yaml } = convert('docker.io:\n  images:\n    nginx: [1.10, 1.20.1, 2, 0x10]\n');
    expect(document.images[0]?.tags).toEqual([{ names: ['1.10', '1.20.1', '2', '0x10'] }]);
    // …and the YAML quotes them, so the loader reads them back as the same strings.
    expect(parse(yaml)).toMatchObject({ images: [{ tags: [{ names: ['1.10', '1.20.1', '2', '0x10'] }] }] });
  });

  it('normalises Docker Hub names and merges one repository listed under several maps and spellings', () => {
    const { document } = convert(`docker.io:
  images:
    nginx: [latest]
  images-by-semver:
    library/nginx: ">= 1.25"
index.docker.io:
  images-by-tag-regex:
    nginx: '^1\\.2[0-9]-alpine$'
`);
    expect(document.images).toEqual([
      {
        source: 'docker.io/library/nginx',
        tags: [{ names: ['latest'] }, { regexp: String.raw`^1\.2[0-9]-alpine$` }, { semver: '>= 1.25', strict: false }],
        mutable: ['latest'],
      },
    ]);
  });

  it('joins registry keys with a path to the repository, as skopeo does', () => {
    const { document } = convert('registry.example.com:5000/team:\n  images-by-tag-regex:\n    tools/app: ^v1\\.\n');
    expect(document.images[0]?.source).toBe('registry.example.com:5000/team/tools/app');
  });

  it('reads a registry key that is no host name as a Docker Hub namespace, as skopeo does, with a warning', () => {
    const { document, warnings } = convert('bitnami:\n  images:\n    redis: [latest]\n');
    expect(document.images[0]?.source).toBe('docker.io/bitnami/redis');
    expect(warnings[0]?.message).toMatch(/"bitnami" is not a host name/);
  });

  it('marks latest, develop and debug mutable only when a rule can select them', () => {
    const { document } = convert(`quay.io:
  images:
    org/a: [develop, "1.0"]
  images-by-tag-regex:
    org/b: '^(latest|debug)$'
    org/c: '^v\\d+'
`);
    expect(document.images.map((image) => image.mutable)).toEqual([['develop'], ['latest', 'debug'], undefined]);
  });

  it('resolves YAML anchors and aliases as Go does', () => {
    const { document } = convert('quay.io:\n  images:\n    org/a: &tags [v1, v2]\n    org/b: *tags\n');
    expect(document.images.map((image) => image.tags)).toEqual([[{ names: ['v1', 'v2'] }], [{ names: ['v1', 'v2'] }]]);
  });

  it('never copies credentials, and says where they and the TLS settings go instead', () => {
    const { yaml, warnings, document } = convert(`quay.io:
  images:
    org/app: [v1]
  credentials:
    username: robot
    password: s3cr3t-Passw0rd
  tls-verify: false
  cert-dir: /etc/certs/quay
`);
    expect(document.images).toHaveLength(1);
    expect(warnings.map((warning) => [warning.line, warning.path])).toEqual([
      [4, '["quay.io"].credentials'],
      [7, '["quay.io"].tls-verify'],
      [8, '["quay.io"].cert-dir'],
    ]);
    expect(warnings[0]?.message).toMatch(/registries config/);
    expect(warnings[1]?.message).toMatch(/insecure/);
    for (const text of [yaml, JSON.stringify(warnings), JSON.stringify(document)]) {
      expect(text).not.toContain('s3cr3t-Passw0rd');
      expect(text).not.toContain('robot');
    }
    expect(yaml).toMatch(/^# Credentials were not copied/m);
  });

  it('never quotes a value in the wrong place, which may be a credential', () => {
    const error = failure('docker.io:\n  images:\n    nginx: [latest]\n  password: hunter2-secret\nregistry.example.com: hunter3-secret\n');
    expect(error.issues.map((issue) => issue.path)).toEqual(['["docker.io"].password', '["registry.example.com"]']);
    expect(`${error.message} ${JSON.stringify(error.issues)} ${JSON.stringify(error.fields)}`).not.toMatch(/hunter\d-secret/);
  });

  it('warns when a digest is given a tag skopeo would not have given it, and names the tag', () => {
    const { warnings } = convert(`docker.io:\n  images:\n    nginx:\n      - ${digestA}\n`);
    expect(warnings).toEqual([
      expect.objectContaining({ file: 'skopeo-docker-io.yaml', line: 4, column: 9, path: '["docker.io"].images.nginx[0]', message: expect.stringContaining(`"${pinnedTag(digestA)}"`) as unknown }),
    ]);
    expect(pinnedTag(digestA)).toBe('pinned-a1a1a1a1a1a1');
  });

  it('writes a header saying where the file came from, a comment per image, and the warnings to review', () => {
    const { yaml } = convert(`docker.io:\n  images:\n    nginx: [latest]\n  images-by-semver:\n    nginx: ">=1.0.0-rc.1"\n`);
    expect(yaml).toMatch(/^# Converted by `scanner convert skopeo` from skopeo-docker-io\.yaml \(skopeo sync YAML\)/);
    expect(yaml).toContain('# from skopeo-docker-io.yaml:3 images, skopeo-docker-io.yaml:5 images-by-semver');
    expect(yaml).toMatch(/# - skopeo-docker-io\.yaml:5:12 \["docker\.io"\]\.images-by-semver\.nginx: ">=1\.0\.0-rc\.1" names a prerelease/);
  });

  it('reports every problem at once, located, and converts nothing', () => {
    const error = failure(`docker.io:
  images:
    nginx:
      - "1.25:alpine"
      - "-bad"
      - sha256:abc
    Nginx: [latest]
    redis:1.0: [x]
  images-by-tag-regex:
    nginx: '(unclosed'
  images-by-semver:
    nginx: "1.x.y"
    redis: ">= 1.2 <<"
  sync-interval: 1h
quay.io: [a, b]
`);
    expect(error.code).toBe('invalid_convert_input');
    expect(error.issues.map((issue) => `${issue.line}:${issue.column} ${issue.path}`)).toEqual([
      '4:9 ["docker.io"].images.nginx[0]',
      '5:9 ["docker.io"].images.nginx[1]',
      '6:9 ["docker.io"].images.nginx[2]',
      '7:5 ["docker.io"].images.Nginx',
      '8:5 ["docker.io"].images["redis:1.0"]',
      '10:12 ["docker.io"].images-by-tag-regex.nginx',
      '12:12 ["docker.io"].images-by-semver.nginx',
      '13:12 ["docker.io"].images-by-semver.redis',
      '14:3 ["docker.io"].sync-interval',
      '15:10 ["quay.io"]',
    ]);
    expect(error.issues[3]?.message).toMatch(/lower case/);
    expect(error.issues[4]?.message).toMatch(/names an image, not a repository/);
    expect(error.issues[6]?.message).toMatch(/Masterminds\/semver \(skopeo, retagger\) refuses "1\.x\.y"/);
    expect(error.issues[8]?.message).toMatch(/unknown key "sync-interval"/);
    expect(error.fields).toMatchObject({ file: 'skopeo-docker-io.yaml', line: 4, column: 9, field: '["docker.io"].images.nginx[0]' });
    expect(error.message).toMatch(/10 problems/);
    expect(error.message).toContain('skopeo-docker-io.yaml:14:3 ["docker.io"].sync-interval: unknown key "sync-interval"');
  });

  it('refuses YAML errors, duplicate keys, an empty file and a missing owner', () => {
    expect(failure('docker.io:\n  images:\n    nginx: [a]\n    nginx: [b]\n').issues[0]).toMatchObject({ line: 4, message: expect.stringMatching(/duplicate key/) as unknown });
    expect(failure('docker.io: [\n').issues).not.toHaveLength(0);
    expect(failure('').issues[0]?.message).toMatch(/empty/);
    expect(failure('- a\n').issues[0]?.message).toMatch(/expected a mapping of source registries/);
    expect(() => convertSkopeoSync('docker.io:\n  images:\n    nginx: []\n', { owner: ' ' })).toThrow(/not a team name/);
  });

  it('takes a list of semver constraints (the kubasobon/skopeo fork) as one rule each, with a warning', () => {
    const { document, warnings } = convert('docker.io:\n  images-by-semver:\n    alpine: ["3.12 - 3.13", ">= 3.17"]\n');
    expect(document.images).toEqual([{ source: 'docker.io/library/alpine', tags: [{ semver: '3.12 - 3.13', strict: false }, { semver: '>= 3.17', strict: false }] }]);
    expect(warnings.map((warning) => warning.message)).toEqual([expect.stringMatching(/kubasobon\/skopeo fork/)]);
  });

  it('reads regexps as Go does ((?U), \\Q…\\E are RE2) and refuses what RE2 and JavaScript both refuse', () => {
    const { document } = convert('docker.io:\n  images-by-tag-regex:\n    nginx: "(?U)^1\\\\.2"\n    alpine: "^\\\\Q3.1\\\\E"\n');
    expect(document.images.map((image) => image.tags)).toEqual([[{ regexp: '(?U)^1\\.2' }], [{ regexp: '^\\Q3.1\\E' }]]);
    expect(failure('docker.io:\n  images-by-tag-regex:\n    nginx: "a**"\n').issues[0]?.message).toMatch(/invalid regexp "a\*\*"/);
  });

  it('skips a registry without images with a warning, as skopeo does', () => {
    const { document, warnings } = convert('docker.io:\n  tls-verify: true\nquay.io:\n  images:\n    org/app: [v1]\n');
    expect(document.images.map((image) => image.source)).toEqual(['quay.io/org/app']);
    expect(warnings.map((warning) => warning.message)).toEqual([expect.stringMatching(/"docker\.io" lists no images/)]);
  });
});
