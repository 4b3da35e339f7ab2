import { describe, expect, test } from 'vitest';
import {
  createImageReference,
  familiarName,
  familiarString,
  formatImageReference,
  isImageError,
  isImageReference,
  nameOnly,
  parseImageReference,
  withDigest,
  withRegistry,
  withTag,
  withoutTagOrDigest,
} from './index.ts';
import type { ImageErrorCode, ImageReference } from './index.ts';
import { codeOf } from './error-code.fixture.ts';

const F64 = 'f'.repeat(64);
const F128 = 'f'.repeat(128);
const SHA = `sha256:${F64}`;

function fields(ref: ImageReference): Record<string, string | undefined> {
  return { registry: ref.registry, repository: ref.repository, tag: ref.tag, digest: ref.digest };
}

interface ParseCase {
  input: string;
  registry?: string;
  repository?: string;
  tag?: string;
  digest?: string;
  code?: ImageErrorCode;
}

// distribution/reference reference_test.go, TestReferenceParse. Upstream runs these through `Parse` (no
// normalisation); the expectations here are what `ParseNormalizedNamed` gives, i.e. with docker.io and
// library/ applied and a first component only taken as a registry when it contains "." or ":", is
// "localhost" or has an upper-case letter. Error mapping: ErrNameEmpty → empty_name,
// ErrReferenceInvalidFormat → invalid_format, ErrNameContainsUppercase → uppercase, ErrNameTooLong →
// name_too_long, digest.ErrDigestInvalidLength → invalid_digest, digest.ErrDigestUnsupported →
// unsupported_algorithm.
const referenceParseCases: ParseCase[] = [
  { input: 'test_com', registry: 'docker.io', repository: 'library/test_com' },
  { input: 'test.com:tag', registry: 'docker.io', repository: 'library/test.com', tag: 'tag' },
  { input: 'test.com:5000', registry: 'docker.io', repository: 'library/test.com', tag: '5000' },
  { input: 'test.com/repo:tag', registry: 'test.com', repository: 'repo', tag: 'tag' },
  { input: 'test:5000/repo', registry: 'test:5000', repository: 'repo' },
  { input: 'test:5000/repo:tag', registry: 'test:5000', repository: 'repo', tag: 'tag' },
  { input: `test:5000/repo@${SHA}`, registry: 'test:5000', repository: 'repo', digest: SHA },
  { input: `test:5000/repo:tag@${SHA}`, registry: 'test:5000', repository: 'repo', tag: 'tag', digest: SHA },
  { input: '', code: 'empty_name' },
  { input: ':justtag', code: 'invalid_format' },
  { input: `@${SHA}`, code: 'invalid_format' },
  { input: `repo@sha256:${'f'.repeat(34)}`, code: 'invalid_digest' },
  { input: `validname@invaliddigest:${F64}`, code: 'unsupported_algorithm' },
  { input: 'Uppercase:tag', code: 'uppercase' },
  { input: 'test:5000/Uppercase/lowercase:tag', code: 'uppercase' },
  { input: 'lowercase:Uppercase', registry: 'docker.io', repository: 'library/lowercase', tag: 'Uppercase' },
  { input: `${'a/'.repeat(128)}a:tag`, code: 'name_too_long' },
  {
    input: `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
    registry: 'docker.io',
    repository: `${'a/'.repeat(127)}a`,
    tag: 'tag-puts-this-over-max',
  },
  { input: 'aa/asdf$$^/aa', code: 'invalid_format' },
  { input: 'sub-dom1.foo.com/bar/baz/quux', registry: 'sub-dom1.foo.com', repository: 'bar/baz/quux' },
  {
    input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
    registry: 'sub-dom1.foo.com',
    repository: 'bar/baz/quux',
    tag: 'some-long-tag',
  },
  {
    input: 'b.gcr.io/test.example.com/my-app:test.example.com',
    registry: 'b.gcr.io',
    repository: 'test.example.com/my-app',
    tag: 'test.example.com',
  },
  { input: 'xn--n3h.com/myimage:xn--n3h.com', registry: 'xn--n3h.com', repository: 'myimage', tag: 'xn--n3h.com' },
  {
    input: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${F128}`,
    registry: 'xn--7o8h.com',
    repository: 'myimage',
    tag: 'xn--7o8h.com',
    digest: `sha512:${F128}`,
  },
  { input: 'foo_bar.com:8080', registry: 'docker.io', repository: 'library/foo_bar.com', tag: '8080' },
  { input: 'foo/foo_bar.com:8080', registry: 'docker.io', repository: 'foo/foo_bar.com', tag: '8080' },
  { input: '192.168.1.1', registry: 'docker.io', repository: 'library/192.168.1.1' },
  { input: '192.168.1.1:tag', registry: 'docker.io', repository: 'library/192.168.1.1', tag: 'tag' },
  { input: '192.168.1.1:5000', registry: 'docker.io', repository: 'library/192.168.1.1', tag: '5000' },
  { input: '192.168.1.1/repo', registry: '192.168.1.1', repository: 'repo' },
  { input: '192.168.1.1:5000/repo', registry: '192.168.1.1:5000', repository: 'repo' },
  { input: '192.168.1.1:5000/repo:5050', registry: '192.168.1.1:5000', repository: 'repo', tag: '5050' },
  { input: '[2001:db8::1]', code: 'invalid_format' },
  { input: '[2001:db8::1]:5000', code: 'invalid_format' },
  { input: '[2001:db8::1]:tag', code: 'invalid_format' },
  { input: '[2001:db8::1]/repo', registry: '[2001:db8::1]', repository: 'repo' },
  { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', registry: '[2001:db8:1:2:3:4:5:6]', repository: 'repo', tag: 'tag' },
  { input: '[2001:db8::1]:5000/repo', registry: '[2001:db8::1]:5000', repository: 'repo' },
  { input: '[2001:db8::1]:5000/repo:tag', registry: '[2001:db8::1]:5000', repository: 'repo', tag: 'tag' },
  { input: `[2001:db8::1]:5000/repo@${SHA}`, registry: '[2001:db8::1]:5000', repository: 'repo', digest: SHA },
  {
    input: `[2001:db8::1]:5000/repo:tag@${SHA}`,
    registry: '[2001:db8::1]:5000',
    repository: 'repo',
    tag: 'tag',
    digest: SHA,
  },
  { input: '[2001:db8::]:5000/repo', registry: '[2001:db8::]:5000', repository: 'repo' },
  { input: '[::1]:5000/repo', registry: '[::1]:5000', repository: 'repo' },
  { input: '[fe80::1%eth0]:5000/repo', code: 'invalid_format' },
  { input: '[fe80::1%@invalidzone]:5000/repo', code: 'invalid_format' },
];

// normalize_test.go, TestValidateReferenceName and TestValidateRemoteName (ParseNormalizedNamed).
const validNames = [
  'docker/docker',
  'library/debian',
  'debian',
  'docker.io/docker/docker',
  'docker.io/library/debian',
  'docker.io/debian',
  'index.docker.io/docker/docker',
  'index.docker.io/library/debian',
  'index.docker.io/debian',
  '127.0.0.1:5000/docker/docker',
  '127.0.0.1:5000/library/debian',
  '127.0.0.1:5000/debian',
  '192.168.0.1',
  '192.168.0.1:80',
  '192.168.0.1:8/debian',
  '192.168.0.2:25000/debian',
  'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
  '[fc00::1]:5000/docker',
  '[fc00::1]:5000/docker/docker',
  '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
  'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  'Docker/docker',
  'DOCKER/docker',
  'docker-rules/docker',
  'docker---rules/docker',
  'doc/docker',
  'd/docker',
  'jess/t',
  'dock__er/docker',
];
const invalidNames = [
  'https://github.com/docker/docker',
  'docker/Docker',
  '-docker',
  '-docker/docker',
  '-docker.io/docker/docker',
  'docker///docker',
  'docker.io/docker/Docker',
  'docker.io/docker///docker',
  '[fc00::1]',
  '[fc00::1]:5000',
  'fc00::1:5000/debian',
  '[fe80::1%eth0]:5000/debian',
  '[2001:db8:3:4::192.0.2.33]:5000/debian',
  '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  'docker-/docker',
  '-docker-/docker',
  '____/____',
  '_docker/_docker',
  'dock..er/docker',
  'dock_.er/docker',
  'dock-.er/docker',
  'docker/',
  'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
];

// normalize_test.go, TestParseRepositoryInfo.
const repositoryInfoCases = [
  { remote: 'fooo/bar', familiar: 'fooo/bar', full: 'docker.io/fooo/bar', ambiguous: 'index.docker.io/fooo/bar', domain: 'docker.io' },
  { remote: 'library/ubuntu', familiar: 'ubuntu', full: 'docker.io/library/ubuntu', ambiguous: 'library/ubuntu', domain: 'docker.io' },
  { remote: 'nonlibrary/ubuntu', familiar: 'nonlibrary/ubuntu', full: 'docker.io/nonlibrary/ubuntu', ambiguous: '', domain: 'docker.io' },
  { remote: 'other/library', familiar: 'other/library', full: 'docker.io/other/library', ambiguous: '', domain: 'docker.io' },
  { remote: 'private/moonbase', familiar: '127.0.0.1:8000/private/moonbase', full: '127.0.0.1:8000/private/moonbase', ambiguous: '', domain: '127.0.0.1:8000' },
  { remote: 'privatebase', familiar: '127.0.0.1:8000/privatebase', full: '127.0.0.1:8000/privatebase', ambiguous: '', domain: '127.0.0.1:8000' },
  { remote: 'private/moonbase', familiar: 'example.com/private/moonbase', full: 'example.com/private/moonbase', ambiguous: '', domain: 'example.com' },
  { remote: 'privatebase', familiar: 'example.com/privatebase', full: 'example.com/privatebase', ambiguous: '', domain: 'example.com' },
  { remote: 'private/moonbase', familiar: 'example.com:8000/private/moonbase', full: 'example.com:8000/private/moonbase', ambiguous: '', domain: 'example.com:8000' },
  { remote: 'privatebasee', familiar: 'example.com:8000/privatebasee', full: 'example.com:8000/privatebasee', ambiguous: '', domain: 'example.com:8000' },
  { remote: 'library/ubuntu-12.04-base', familiar: 'ubuntu-12.04-base', full: 'docker.io/library/ubuntu-12.04-base', ambiguous: 'index.docker.io/library/ubuntu-12.04-base', domain: 'docker.io' },
  { remote: 'library/foo', familiar: 'foo', full: 'docker.io/library/foo', ambiguous: 'docker.io/foo', domain: 'docker.io' },
  { remote: 'library/foo/bar', familiar: 'library/foo/bar', full: 'docker.io/library/foo/bar', ambiguous: '', domain: 'docker.io' },
  { remote: 'store/foo/bar', familiar: 'store/foo/bar', full: 'docker.io/store/foo/bar', ambiguous: '', domain: 'docker.io' },
  { remote: 'bar', familiar: 'Foo/bar', full: 'Foo/bar', ambiguous: '', domain: 'Foo' },
  { remote: 'bar', familiar: 'FOO/bar', full: 'FOO/bar', ambiguous: '', domain: 'FOO' },
];

// normalize_test.go, TestNormalizedSplitHostname.
const splitHostnameCases = [
  { input: 'test.com/foo', domain: 'test.com', path: 'foo' },
  { input: 'test_com/foo', domain: 'docker.io', path: 'test_com/foo' },
  { input: 'docker/migrator', domain: 'docker.io', path: 'docker/migrator' },
  { input: 'test.com:8080/foo', domain: 'test.com:8080', path: 'foo' },
  { input: 'test-com:8080/foo', domain: 'test-com:8080', path: 'foo' },
  { input: 'foo', domain: 'docker.io', path: 'library/foo' },
  { input: 'xn--n3h.com/foo', domain: 'xn--n3h.com', path: 'foo' },
  { input: 'xn--n3h.com:18080/foo', domain: 'xn--n3h.com:18080', path: 'foo' },
  { input: 'docker.io/foo', domain: 'docker.io', path: 'library/foo' },
  { input: 'docker.io/library/foo', domain: 'docker.io', path: 'library/foo' },
  { input: 'docker.io/library/foo/bar', domain: 'docker.io', path: 'library/foo/bar' },
];

// normalize_test.go, TestParseAnyReference: the named references (the bare 64-hex and `sha256:` forms are
// digest-only references there, which parseImageReference does not produce).
const DBCC = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const anyReferenceCases = [
  { input: 'redis', canonical: 'docker.io/library/redis' },
  { input: 'redis:latest', canonical: 'docker.io/library/redis:latest' },
  { input: 'docker.io/library/redis:latest', canonical: 'docker.io/library/redis:latest' },
  { input: `redis@sha256:${DBCC}`, canonical: `docker.io/library/redis@sha256:${DBCC}` },
  { input: `docker.io/library/redis@sha256:${DBCC}`, canonical: `docker.io/library/redis@sha256:${DBCC}` },
  { input: 'dmcgowan/myapp', canonical: 'docker.io/dmcgowan/myapp' },
  { input: 'dmcgowan/myapp:latest', canonical: 'docker.io/dmcgowan/myapp:latest' },
  { input: 'docker.io/mcgowan/myapp:latest', canonical: 'docker.io/mcgowan/myapp:latest' },
  { input: `dmcgowan/myapp@sha256:${DBCC}`, canonical: `docker.io/dmcgowan/myapp@sha256:${DBCC}` },
  { input: `docker.io/dmcgowan/myapp@sha256:${DBCC}`, canonical: `docker.io/dmcgowan/myapp@sha256:${DBCC}` },
  { input: DBCC.slice(0, 63), canonical: `docker.io/library/${DBCC.slice(0, 63)}` },
  { input: 'dbcc1', canonical: 'docker.io/library/dbcc1' },
  // ParseNormalizedNamed reads "sha256:<hex>" as the repository "sha256" with a 64-character tag.
  { input: `sha256:${DBCC}`, canonical: `docker.io/library/sha256:${DBCC}` },
];

// reference_test.go, TestParseNamed: ParseNamed accepts an input only when it is already canonical.
const parseNamedCases = [
  { input: 'test.com/foo', canonical: true },
  { input: 'test:8080/foo', canonical: true },
  { input: 'test_com/foo', canonical: false },
  { input: 'test.com', canonical: false },
  { input: 'foo', canonical: false },
  { input: 'library/foo', canonical: false },
  { input: 'docker.io/library/foo', canonical: true },
  { input: 'docker.io/foo', canonical: false },
];

describe('parseImageReference: distribution/reference TestReferenceParse (normalised)', () => {
  test.each(referenceParseCases)('$input', (tc) => {
    if (tc.code !== undefined) {
      expect(codeOf(() => parseImageReference(tc.input))).toBe(tc.code);
      return;
    }
    const ref = parseImageReference(tc.input);
    expect(fields(ref)).toEqual({ registry: tc.registry, repository: tc.repository, tag: tc.tag, digest: tc.digest });
  });
});

describe('parseImageReference: normalize_test.go', () => {
  test.each(validNames)('valid %s', (name) => {
    expect(() => parseImageReference(name)).not.toThrow();
  });
  test.each(invalidNames)('invalid %s', (name) => {
    expect(codeOf(() => parseImageReference(name))).not.toBe('no error');
  });

  test.each(repositoryInfoCases)('repository info $full', (tc) => {
    const inputs = [tc.familiar, tc.full, ...(tc.ambiguous === '' ? [] : [tc.ambiguous])];
    for (const input of inputs) {
      const ref = parseImageReference(input);
      expect(familiarName(ref)).toBe(tc.familiar);
      expect(String(ref)).toBe(tc.full);
      expect(ref.registry).toBe(tc.domain);
      expect(ref.repository).toBe(tc.remote);
    }
  });

  test.each(splitHostnameCases)('split $input', (tc) => {
    const ref = parseImageReference(tc.input);
    expect([ref.registry, ref.repository]).toEqual([tc.domain, tc.path]);
  });

  test.each(anyReferenceCases)('any reference $input', (tc) => {
    expect(String(parseImageReference(tc.input))).toBe(tc.canonical);
  });

  test('a bare 64-hex string is rejected (it would be an image id)', () => {
    expect(codeOf(() => parseImageReference(DBCC))).toBe('invalid_format');
  });

  test.each(parseNamedCases)('canonical form of $input', (tc) => {
    expect(String(parseImageReference(tc.input)) === tc.input).toBe(tc.canonical);
  });

  test('tag and digest together (TestParseReferenceWithTagAndDigest)', () => {
    const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
    const ref = parseImageReference(short);
    expect(String(ref)).toBe(`docker.io/library/${short}`);
    expect(ref.tag).toBe('latest');
    expect(ref.digest).toBe('sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa');
    expect(familiarString(ref)).toBe(short);
  });

  test('invalid components (TestInvalidReferenceComponents)', () => {
    expect(codeOf(() => parseImageReference('-foo'))).toBe('invalid_format');
    const ref = parseImageReference('busybox');
    expect(codeOf(() => withTag(ref, '-foo'))).toBe('invalid_tag');
    expect(codeOf(() => withDigest(ref, 'foo'))).toBe('invalid_digest');
  });
});

describe('parseImageReference: rules', () => {
  test.each([
    ['localhost/foo', 'localhost', 'foo'],
    ['localhost:5000/foo/bar', 'localhost:5000', 'foo/bar'],
    ['example.com/foo', 'example.com', 'foo'],
    ['registry:5000/foo', 'registry:5000', 'foo'],
    ['Registry/foo', 'Registry', 'foo'],
    ['foo/bar', 'docker.io', 'foo/bar'],
    ['localhostx/foo', 'docker.io', 'localhostx/foo'],
    ['index.docker.io/nginx', 'docker.io', 'library/nginx'],
    ['docker.io/bitnami/redis', 'docker.io', 'bitnami/redis'],
  ])('registry detection: %s', (input, registry, repository) => {
    const ref = parseImageReference(input);
    expect([ref.registry, ref.repository]).toEqual([registry, repository]);
  });

  test.each([
    ['a.b', true],
    ['a_b', true],
    ['a__b', true],
    ['a___b', false],
    ['a-b', true],
    ['a---b', true],
    ['a..b', false],
    ['a.-b', false],
    ['a_-b', false],
    ['a-', false],
    ['.a', false],
    ['a/b/c/d', true],
    ['a//b', false],
  ])('path separators: %s valid=%s', (path, valid) => {
    expect(codeOf(() => parseImageReference(`example.com/${path}`)) === 'no error').toBe(valid);
  });

  test('repository path length is limited to 255 characters, library/ included', () => {
    expect(parseImageReference(`example.com/${'a'.repeat(255)}`).repository).toHaveLength(255);
    expect(codeOf(() => parseImageReference(`example.com/${'a'.repeat(256)}`))).toBe('name_too_long');
    expect(parseImageReference('a'.repeat(247)).repository).toHaveLength(255);
    expect(codeOf(() => parseImageReference('a'.repeat(248)))).toBe('name_too_long');
  });

  test.each([
    ['v1.2.3', true],
    ['_x', true],
    ['A-b.C_d', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['.x', false],
    ['-x', false],
    ['a+b', false],
    ['', false],
  ])('tag %s valid=%s', (tag, valid) => {
    const code = codeOf(() => parseImageReference(`nginx:${tag}`));
    expect(code).toBe(valid ? 'no error' : 'invalid_tag');
  });

  test.each([
    [`nginx@sha256:${'a'.repeat(64)}`, 'no error'],
    [`nginx@sha512:${'a'.repeat(128)}`, 'no error'],
    [`nginx@sha256:${'a'.repeat(63)}`, 'invalid_digest'],
    [`nginx@sha512:${'a'.repeat(64)}`, 'invalid_digest'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'invalid_digest'],
    [`nginx@sha384:${'a'.repeat(96)}`, 'unsupported_algorithm'],
    [`nginx@md5:${'a'.repeat(32)}`, 'unsupported_algorithm'],
    ['nginx@', 'invalid_digest'],
    [`nginx@@sha256:${'a'.repeat(64)}`, 'invalid_digest'],
  ])('digest in %s → %s', (input, code) => {
    expect(codeOf(() => parseImageReference(input))).toBe(code);
  });

  test('IPv6 registries must be bracketed and have no zone id', () => {
    expect(parseImageReference('[::1]/foo').registry).toBe('[::1]');
    expect(codeOf(() => parseImageReference('[::1%lo]:5000/foo'))).toBe('invalid_format');
    expect(codeOf(() => parseImageReference('::1/foo'))).toBe('invalid_format');
  });

  test.each([
    ['', 'empty_name'],
    ['nginx:-x', 'invalid_tag'],
    ['Nginx', 'uppercase'],
    ['example.com/Foo', 'uppercase'],
    ['Foo_bar/x', 'uppercase'],
    ['foo bar', 'invalid_format'],
    ['a'.repeat(300), 'name_too_long'],
  ])('error for %j has code %s, the package prefix and quotes the input', (input, code) => {
    let caught: unknown;
    try {
      parseImageReference(input);
    } catch (error) {
      caught = error;
    }
    expect(isImageError(caught, code as ImageErrorCode)).toBe(true);
    const message = (caught as Error).message;
    expect(message.startsWith('@scanner/image: ')).toBe(true);
    expect(message).toContain(JSON.stringify(input));
  });

  test('digest errors keep the digest error as cause', () => {
    try {
      parseImageReference('nginx@sha256:abc');
      expect.unreachable();
    } catch (error) {
      expect(isImageError(error, 'invalid_digest')).toBe(true);
      expect(isImageError((error as Error).cause, 'invalid_digest')).toBe(true);
    }
  });

  test('a non-string input is an invalid_format error, not a crash', () => {
    expect(codeOf(() => parseImageReference(42 as unknown as string))).toBe('invalid_format');
  });
});

describe('reference objects', () => {
  test('are frozen, stringify canonically and compare by fields', () => {
    const ref = parseImageReference('nginx:1.25');
    expect(Object.isFrozen(ref)).toBe(true);
    expect(() => {
      (ref as { tag?: string }).tag = 'x';
    }).toThrow(TypeError);
    expect(String(ref)).toBe('docker.io/library/nginx:1.25');
    expect(ref.toString()).toBe('docker.io/library/nginx:1.25');
    expect(ref).toEqual(parseImageReference('docker.io/library/nginx:1.25'));
    expect(Object.keys(ref)).toEqual(['registry', 'repository', 'tag']);
    expect(JSON.parse(JSON.stringify(ref))).toEqual({ registry: 'docker.io', repository: 'library/nginx', tag: '1.25' });
  });

  test('familiarName and familiarString', () => {
    expect(familiarName(parseImageReference('nginx'))).toBe('nginx');
    expect(familiarName(parseImageReference('docker.io/bitnami/redis:7'))).toBe('bitnami/redis');
    expect(familiarName(parseImageReference('ghcr.io/org/app'))).toBe('ghcr.io/org/app');
    expect(familiarString(parseImageReference(`nginx:1.25@${SHA}`))).toBe(`nginx:1.25@${SHA}`);
    expect(familiarString(parseImageReference('ghcr.io/org/app:v1'))).toBe('ghcr.io/org/app:v1');
  });

  test('familiarName keeps docker.io/ or library/ where the short form would parse differently', () => {
    const dotted = parseImageReference('docker.io/foo.com/bar');
    expect(familiarName(dotted)).toBe('docker.io/foo.com/bar');
    expect(parseImageReference(familiarName(dotted))).toEqual(dotted);
    const local = parseImageReference('docker.io/localhost/bar');
    expect(familiarName(local)).toBe('docker.io/localhost/bar');
    const hex = parseImageReference(`docker.io/${DBCC}`);
    expect(familiarName(hex)).toBe(`library/${DBCC}`);
    expect(parseImageReference(familiarName(hex))).toEqual(hex);
  });

  test('withTag keeps the digest, withDigest keeps the tag (TestWithTag/TestWithDigest)', () => {
    expect(String(withTag(parseImageReference('test.com/foo'), 'tag'))).toBe('test.com/foo:tag');
    expect(String(withTag(parseImageReference('foo'), 'tag2'))).toBe('docker.io/library/foo:tag2');
    expect(String(withTag(parseImageReference('test.com:8000/foo'), 'TAG5'))).toBe('test.com:8000/foo:TAG5');
    const digested = withDigest(parseImageReference('test.com:8000/foo'), SHA);
    expect(String(withTag(digested, 'TAG5'))).toBe(`test.com:8000/foo:TAG5@${SHA}`);
    const tagged = parseImageReference('test.com:8000/foo:latest');
    expect(String(withDigest(tagged, SHA))).toBe(`test.com:8000/foo:latest@${SHA}`);
    // Upstream's WithDigest only checks the digest regexp and accepts this 39-hex sha256; we validate length.
    expect(codeOf(() => withDigest(tagged, 'sha256:1234567890098765432112345667890098765'))).toBe('invalid_digest');
    expect(Object.isFrozen(withTag(tagged, 'x'))).toBe(true);
    expect(String(tagged)).toBe('test.com:8000/foo:latest');
  });

  test('withoutTagOrDigest and nameOnly drop both', () => {
    const ref = parseImageReference(`nginx:1@${SHA}`);
    expect(String(withoutTagOrDigest(ref))).toBe('docker.io/library/nginx');
    expect(nameOnly(ref)).toEqual(withoutTagOrDigest(ref));
    expect(withoutTagOrDigest(ref)).not.toHaveProperty('tag');
  });

  test('withRegistry keeps the repository path, tag and digest', () => {
    const ref = parseImageReference(`nginx:1@${SHA}`);
    expect(String(withRegistry(ref, 'mirror.local:5000'))).toBe(`mirror.local:5000/library/nginx:1@${SHA}`);
    expect(String(withRegistry(parseImageReference('ghcr.io/app'), 'docker.io'))).toBe('docker.io/library/app');
    expect(String(withRegistry(parseImageReference('ghcr.io/app'), 'index.docker.io'))).toBe('docker.io/library/app');
    expect(String(withRegistry(ref, '[::1]:5000'))).toBe(`[::1]:5000/library/nginx:1@${SHA}`);
    expect(codeOf(() => withRegistry(ref, 'bad host'))).toBe('invalid_registry');
    // "mirror" alone would be read back as a Docker Hub namespace.
    expect(codeOf(() => withRegistry(ref, 'mirror'))).toBe('invalid_registry');
    expect(String(withRegistry(ref, 'localhost'))).toBe(`localhost/library/nginx:1@${SHA}`);
  });

  test('createImageReference and formatImageReference validate and normalise', () => {
    expect(formatImageReference({ registry: 'docker.io', repository: 'nginx', tag: '1' })).toBe('docker.io/library/nginx:1');
    expect(formatImageReference({ registry: 'ghcr.io', repository: 'a/b', digest: SHA })).toBe(`ghcr.io/a/b@${SHA}`);
    expect(String(createImageReference({ registry: 'ghcr.io', repository: 'a', tag: undefined }))).toBe('ghcr.io/a');
    expect(codeOf(() => formatImageReference({ registry: 'ghcr.io', repository: 'A' }))).toBe('uppercase');
    expect(codeOf(() => formatImageReference({ registry: 'ghcr.io', repository: 'a', tag: '' }))).toBe('invalid_tag');
    expect(codeOf(() => formatImageReference({ registry: 'ghcr.io', repository: 'a', digest: 'md5:00' }))).toBe(
      'unsupported_algorithm',
    );
    expect(codeOf(() => formatImageReference({ registry: 'ghcr.io', repository: 'a', digest: 'sha256:00' }))).toBe(
      'invalid_digest',
    );
    expect(codeOf(() => formatImageReference({ registry: 'ghcr.io', repository: 'a'.repeat(256) }))).toBe('name_too_long');
  });

  test('isImageReference', () => {
    const ref = parseImageReference('nginx:1');
    expect(isImageReference(ref)).toBe(true);
    expect(isImageReference(withRegistry(ref, 'ghcr.io'))).toBe(true);
    // A plain object has no canonical toString.
    expect(isImageReference({ registry: 'docker.io', repository: 'library/nginx' })).toBe(false);
    expect(isImageReference({ registry: 'docker.io', repository: 'nginx', toString: () => 'docker.io/nginx' })).toBe(false);
    expect(
      isImageReference({ registry: 'docker.io', repository: 'library/nginx', toString: () => 'docker.io/library/nginx' }),
    ).toBe(true);
    expect(isImageReference('docker.io/library/nginx')).toBe(false);
    expect(isImageReference(null)).toBe(false);
    expect(isImageReference({ registry: 'docker.io', repository: 'library/nginx', tag: 3 })).toBe(false);
  });
});
