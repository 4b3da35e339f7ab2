import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryCache } from '@scanner/cache-memory';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { freePort, tempDir } from '@scanner/test-lab';
import type { TempDir } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './cli.fixture.ts';
import { DEMO_EXPECTED, DEMO_REPOSITORIES, seedDemoImages } from './demo-images.fixture.ts';
import type { InspectJson, SelectJson, TagsJson } from './output.ts';

const { app, multiarch, builds, nightly, numbered } = DEMO_REPOSITORIES;

let registry: MemoryRegistry;
let host: string;
let dir: TempDir;

function digestOf(repository: string, tag: string): string {
  const manifest = registry.getManifest(repository, tag);
  if (manifest === undefined) throw new Error(`test setup: ${repository}:${tag} is not seeded`);
  return manifest.digest;
}

function childDigests(repository: string, tag: string): Record<string, string> {
  const manifest = registry.getManifest(repository, tag);
  if (manifest === undefined) throw new Error(`test setup: ${repository}:${tag} is not seeded`);
  const index = JSON.parse(Buffer.from(manifest.bytes).toString('utf8')) as {
    manifests: { digest: string; platform: { os: string; architecture: string; variant?: string } }[];
  };
  return Object.fromEntries(
    index.manifests.map((entry) => [
      [entry.platform.os, entry.platform.architecture, entry.platform.variant].filter(Boolean).join('/'),
      entry.digest,
    ]),
  );
}

const ref = (repository: string): string => `${host}/${repository}`;

async function select(...args: string[]): Promise<{ code: number; json: SelectJson; stderr: string }> {
  const run = await runCli(['select', ...args, '-o', 'json']);
  return { code: run.code, json: JSON.parse(run.stdout) as SelectJson, stderr: run.stderr };
}

beforeAll(async () => {
  registry = createMemoryRegistry();
  seedDemoImages(registry);
  // Non-X.Y.Z versions for --loose: strict semver sees only 1.3.2; loose also sees the greater 1.4.
  registry.seedImage('demo/loose', '1.3.2');
  registry.seedImage('demo/loose', '1.4');
  ({ host } = await registry.listen());
  dir = await tempDir('scanner-cli-test-');
});

afterAll(async () => {
  await registry.close();
  await dir[Symbol.asyncDispose]();
});

describe('scanner tags', () => {
  test('prints one tag per line, in byte order', async () => {
    const run = await runCli(['tags', ref(app)]);
    expect(run).toEqual({ code: 0, stdout: registry.tags(app).map((tag) => `${tag}\n`).join(''), stderr: '' });
  });

  test('-o json prints { image, tags }', async () => {
    const run = await runCli(['tags', ref(numbered), '-o', 'json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as TagsJson;
    expect(json).toEqual({ image: ref(numbered), tags: registry.tags(numbered) });
    expect(Object.keys(json)).toEqual(['image', 'tags']);
  });

  test('refuses a reference with a tag (exit 2) and names the problem', async () => {
    const run = await runCli(['tags', `${ref(app)}:v1.2.3`]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^scanner: scanner tags takes a repository without tag or digest, got ".*:v1\.2\.3"\n$/);
  });
});

describe('scanner select', () => {
  test('semver with a range: JSON has the documented shape and the real digest', async () => {
    const { code, json, stderr } = await select(ref(app), '--strategy', 'semver', '--constraint', '^1.2');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(Object.keys(json)).toEqual(['image', 'selected', 'candidates']);
    expect(json.image).toBe(ref(app));
    expect(json.selected).toEqual({ tag: DEMO_EXPECTED.semverCaret12, digest: digestOf(app, 'v1.2.3'), createdAt: null, platforms: null });
    expect(json.candidates.map((candidate) => candidate.tag)).toEqual(['v1.2.3', 'v1.2.0']);
    expect(json.candidates[1]).toEqual({ tag: 'v1.2.0', digest: null, createdAt: null, platforms: null });
  });

  test('semver is the default strategy; --prereleases lets rc versions in', async () => {
    expect((await select(ref(app))).json.selected?.tag).toBe('v1.2.3');
    expect((await select(ref(app), '--constraint', '^1.2', '--prereleases')).json.selected?.tag).toBe(DEMO_EXPECTED.semverPrerelease);
  });

  test('--loose also ranks X.Y versions', async () => {
    expect((await select(ref('demo/loose'))).json.selected?.tag).toBe('1.3.2');
    expect((await select(ref('demo/loose'), '--loose')).json.selected?.tag).toBe('1.4');
  });

  test('semver with --platform walks past tags without that platform', async () => {
    const { code, json } = await select(ref(multiarch), '--strategy', 'semver', '--platform', 'linux/arm64');
    expect(code).toBe(0);
    expect(json.selected).toMatchObject({ tag: DEMO_EXPECTED.semverArm64, digest: digestOf(multiarch, '1.9.0') });
    expect(json.selected?.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    const s390x = await select(ref(multiarch), '--platform', 'linux/s390x');
    expect(s390x.json.selected?.tag).toBe('2.1.0');
  });

  test('newest-build ranks by creation time; --allow-tags and --ignore-tags filter first', async () => {
    const all = await select(ref(builds), '--strategy', 'newest-build');
    expect(all.json.selected).toMatchObject({ tag: DEMO_EXPECTED.newestBuild, createdAt: '2024-05-08T09:00:00.000Z' });
    const main = await select(ref(builds), '--strategy', 'latest', '--allow-tags', 'glob:main-*');
    expect(main.json.selected?.tag).toBe(DEMO_EXPECTED.newestMainBuild);
    expect(main.json.candidates.map((candidate) => candidate.tag)).toEqual(['main-0c4e8f2', 'main-a17b0d4', 'main-3f9c2e1']);
    const ignored = await select(ref(builds), '--strategy', 'newest-build', '--ignore-tags', 'regexp:^pr-', '--ignore-tags', 'main-0c4e8f2');
    expect(ignored.json.selected?.tag).toBe('main-a17b0d4');
  });

  test('alphabetical honours --order', async () => {
    const asc = await select(ref(nightly), '--strategy', 'alphabetical', '--allow-tags', 'glob:nightly-*');
    expect(asc.json.selected?.tag).toBe(DEMO_EXPECTED.nightly);
    const desc = await select(ref(nightly), '--strategy', 'name', '--allow-tags', 'glob:nightly-*', '--order', 'desc');
    expect(desc.json.selected?.tag).toBe('nightly-2024-04-28');
  });

  test('numerical ranks numbers by value; --extract-pattern/--extract-template rank on part of a tag', async () => {
    const numeric = await select(ref(numbered), '--strategy', 'numerical');
    expect(numeric.json.selected).toMatchObject({ tag: DEMO_EXPECTED.numerical, digest: digestOf(numbered, '1024') });
    expect(numeric.json.candidates.map((candidate) => candidate.tag)).toEqual(['1024', '128', '99', '42', '7']);
    const extracted = await select(
      ref(nightly),
      '--strategy',
      'numerical',
      '--extract-pattern',
      '^nightly-(\\d{4})-(\\d{2})-(\\d{2})$',
      '--extract-template',
      '$1$2$3',
    );
    expect(extracted.json.selected?.tag).toBe('nightly-2024-05-06');
  });

  test('digest tracks one tag', async () => {
    const { code, json } = await select(ref(app), '--strategy', 'digest', '--constraint', 'latest');
    expect(code).toBe(0);
    expect(json.selected).toEqual({ tag: 'latest', digest: digestOf(app, 'v1.2.3'), createdAt: null, platforms: null });
  });

  test('--limit caps the candidates', async () => {
    const { json } = await select(ref(numbered), '--strategy', 'numerical', '--limit', '2');
    expect(json.candidates.map((candidate) => candidate.tag)).toEqual(['1024', '128']);
  });

  test('the table shows the selection and the candidates', async () => {
    const run = await runCli(['select', ref(app), '--constraint', '^1.2']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`tag        v1.2.3\n`);
    expect(run.stdout).toContain(`digest     ${digestOf(app, 'v1.2.3')}\n`);
    expect(run.stdout).toMatch(/candidates \(best first\):\n +TAG +DIGEST +CREATED +PLATFORMS\n\* +v1\.2\.3 +sha256:[0-9a-f]{12} +-/);
  });

  test('no tag matched: exit 3, selected null in JSON, one line on stderr', async () => {
    const { code, json, stderr } = await select(ref(app), '--constraint', '>=5');
    expect(code).toBe(3);
    expect(json).toEqual({ image: ref(app), selected: null, candidates: [] });
    expect(stderr).toBe(`scanner: no tag of ${ref(app)} matched the policy\n`);
    const table = await runCli(['select', ref(app), '--constraint', '>=5']);
    expect(table).toEqual({ code: 3, stdout: '', stderr: `scanner: no tag of ${ref(app)} matched the policy\n` });
  });

  test('a warm --cache memory run makes fewer requests, for both cache strategies', async () => {
    const args = ['select', ref(builds), '--strategy', 'newest-build', '--allow-tags', 'glob:main-*', '-o', 'json', '--cache', 'memory'];
    const counts: Record<string, number[]> = {};
    for (const strategy of ['tag', 'digest']) {
      const memoryCache = createMemoryCache();
      counts[strategy] = [];
      for (let pass = 0; pass < 2; pass += 1) {
        registry.resetRequests();
        const run = await runCli([...args, '--cache-strategy', strategy], { memoryCache });
        expect(run.code).toBe(0);
        expect((JSON.parse(run.stdout) as SelectJson).selected?.tag).toBe(DEMO_EXPECTED.newestMainBuild);
        counts[strategy].push(registry.requests().length);
      }
    }
    // Cold: the tag list, one HEAD per main-* tag, then each image's manifest and config.
    expect(counts).toEqual({ tag: [10, 0], digest: [10, 3] });
  });
});

describe('scanner digest', () => {
  test('prints the digest alone', async () => {
    const run = await runCli(['digest', `${ref(app)}:v1.2.0`]);
    expect(run).toEqual({ code: 0, stdout: `${digestOf(app, 'v1.2.0')}\n`, stderr: '' });
  });

  test('a bare repository means :latest; -o json prints { image, digest }', async () => {
    const run = await runCli(['digest', ref(app), '-o', 'json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ image: `${ref(app)}:latest`, digest: digestOf(app, 'latest') });
  });

  test('an unknown tag is a registry error (exit 1) with a hint', async () => {
    const run = await runCli(['digest', `${ref(app)}:9.9.9`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(run.stderr).toMatch(/^scanner: .*9\.9\.9.*; check the (?:repository, )?tag or digest/);
  });
});

describe('scanner inspect', () => {
  test('an index: media type, digest, created, each platform with its digest, annotations', async () => {
    const run = await runCli(['inspect', `${ref(multiarch)}:1.9.0`, '-o', 'json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as InspectJson;
    const children = childDigests(multiarch, '1.9.0');
    expect(json).toMatchObject({
      image: `${ref(multiarch)}:1.9.0`,
      kind: 'index',
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: digestOf(multiarch, '1.9.0'),
      created: '2024-03-01T00:00:00.000Z',
      annotations: { 'org.opencontainers.image.title': 'multiarch' },
    });
    // `provenance` (mirrored copies only, see mirror.test.ts) is null for an image no sync wrote.
    expect(Object.keys(json)).toEqual(['image', 'kind', 'mediaType', 'digest', 'created', 'labels', 'annotations', 'platforms', 'provenance']);
    expect((json as InspectJson & { provenance: unknown }).provenance).toBeNull();
    expect(json.platforms.map((entry) => [entry.platform, entry.digest])).toEqual([
      ['linux/amd64', children['linux/amd64']],
      ['linux/arm64/v8', children['linux/arm64/v8']],
    ]);
    expect(json.platforms[0]).toMatchObject({ mediaType: 'application/vnd.oci.image.manifest.v1+json', created: '2024-03-01T00:00:00.000Z' });
  });

  test('--platform keeps only the matching images of an index', async () => {
    const run = await runCli(['inspect', `${ref(multiarch)}:1.9.0`, '--platform', 'linux/arm64', '-o', 'json']);
    expect((JSON.parse(run.stdout) as InspectJson).platforms.map((entry) => entry.platform)).toEqual(['linux/arm64/v8']);
  });

  test('a single image in the table: labels included', async () => {
    const run = await runCli(['inspect', `${ref(app)}:v1.2.3`]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('kind        manifest\n');
    expect(run.stdout).toContain('media type  application/vnd.oci.image.manifest.v1+json\n');
    expect(run.stdout).toContain(`digest      ${digestOf(app, 'v1.2.3')}\n`);
    expect(run.stdout).toMatch(/labels:\n +org\.opencontainers\.image\.source +https:\/\/example\.test\/demo\/app\n/);
    expect(run.stdout).toMatch(/platforms:\n.*PLATFORM.*\n +linux\/amd64 +sha256:/);
  });
});

describe('usage and input errors exit 2 before any request', () => {
  const cases: [string, string[], RegExp][] = [
    ['bad reference', ['select', 'Not/A Valid::ref'], /^scanner: invalid reference "Not\/A Valid::ref"/],
    ['upper-case repository', ['tags', '127.0.0.1:1/Demo/App'], /repository name must be lower case/],
    ['unknown flag', ['select', 'x.io/a', '--strateggy', 'semver'], /^scanner: unknown flag "--strateggy"; run scanner --help/],
    ['flag without value', ['select', 'x.io/a', '--strategy'], /^scanner: --strategy needs a value/],
    ['policy flag on another command', ['tags', 'x.io/a', '--strategy', 'semver'], /--strategy does not apply to scanner tags/],
    ['unknown strategy', ['select', 'x.io/a', '--strategy', 'biggest'], /^scanner: invalid policy: --strategy: unknown strategy "biggest"/],
    ['bad range', ['select', 'x.io/a', '--constraint', '1.x.y'], /^scanner: invalid policy: --constraint: .*"1\.x\.y"/],
    ['order with semver', ['select', 'x.io/a', '--order', 'desc'], /^scanner: invalid policy: .*--order/],
    ['bad matcher', ['select', 'x.io/a', '--allow-tags', 'any', '--allow-tags', 'regexp:('], /^scanner: invalid policy: --allow-tags #2/],
    ['bad platform', ['select', 'x.io/a', '--platform', 'linux'], /^scanner: invalid policy: --platform: invalid platform "linux": expected "os\/arch"/],
    ['bad second platform', ['select', 'x.io/a', '--platform', 'linux/amd64', '--platform', 'linux'], /^scanner: invalid policy: --platform #2: invalid platform "linux"/],
    ['bad inspect platform', ['inspect', 'x.io/a:1', '--platform', 'linux'], /^scanner: --platform: invalid platform "linux"/],
    // The example: a typo for `regexp:` was a glob that matched nothing; now an error with a fix.
    [
      'matcher with an unknown prefix',
      ['select', 'x.io/a', '--allow-tags', 'regex:^1\\.2'],
      /^scanner: invalid policy: --allow-tags: unknown matcher prefix "regex:" in "regex:\^1\\\.2": read as a glob it can never match a tag \(tags never contain ":"\); did you mean "regexp:\^1\\\.2"\?$/m,
    ],
    ['glob with an image path', ['select', 'x.io/a', '--ignore-tags', 'v*', '--ignore-tags', 'x.io/a:*-rc'], /^scanner: invalid policy: --ignore-tags #2: glob "x\.io\/a:\*-rc" can never match a tag: .*; did you mean "\*-rc"\?/],
    ['extract template in JavaScript syntax', ['select', 'x.io/a', '--extract-pattern', '^(?<n>\\d+)$', '--extract-template', '$<n>'], /^scanner: invalid policy: --extract-template: .*JavaScript's syntax.*; write "\$\{n\}"$/m],
    ['digest without a tag to track', ['select', 'x.io/a', '--strategy', 'digest'], /^scanner: invalid policy: --constraint: required by strategy "digest"; name the tag to track, e.g. --constraint latest$/m],
    ['negative limit', ['select', 'x.io/a', '--limit', '-3'], /^scanner: --limit must be a positive integer, got "-3"$/m],
    ['flag whose value would be another flag', ['select', 'x.io/a', '--extract-pattern', '--insecure', '--extract-template', '$1'], /^scanner: --extract-pattern needs a value, e.g. --extract-pattern VALUE \(a value that begins with "-" may also be written --extract-pattern=-VALUE\)$/m],
    ['bad timeout', ['digest', 'x.io/a', '--timeout', '30'], /^scanner: --timeout takes a duration such as 30s, 2m or 1m30s, got "30"$/m],
    ['extract half', ['select', 'x.io/a', '--extract-pattern', '(\\d+)'], /--extract-pattern and --extract-template go together/],
    ['bad limit', ['select', 'x.io/a', '--limit', 'ten'], /^scanner: --limit must be a positive integer, got "ten"/],
    ['zero limit', ['select', 'x.io/a', '--limit', '0'], /^scanner: --limit must be a positive integer, got "0"/],
    ['bad cache', ['select', 'x.io/a', '--cache', 'mongo://u:hunter2@db'], /^scanner: --cache takes "memory" or a Redis URL .*\(scheme "mongo:"\)/],
    ['bad cache strategy', ['select', 'x.io/a', '--cache-strategy', 'lru'], /--cache-strategy "lru" is not one of tag, digest/],
    ['bad output', ['tags', 'x.io/a', '-o', 'yaml'], /-o\/--output "yaml" is not one of table, json/],
    ['missing command', [], /^scanner: missing command: one of tags, select, digest, inspect, plan, sync, convert;/],
    ['unknown command', ['list', 'x.io/a'], /^scanner: unknown command "list" \(commands: tags, select, digest, inspect, plan, sync, convert\)$/m],
    ['a typo of a mirror command', ['plann', '--config', 'x'], /^scanner: unknown command "plann"; did you mean plan\? \(commands: .*plan, sync, convert\)$/m],
    ['help for a command that does not exist', ['help', 'synk'], /^scanner: unknown command "synk"; did you mean sync\?/],
    ['missing image', ['digest'], /^scanner: scanner digest needs an image/],
    ['two images for tags', ['tags', 'x.io/a', 'x.io/b'], /scanner tags takes one image, got extra arguments "x\.io\/b"/],
    ['a malformed image among several for digest', ['digest', 'x.io/a:1', 'x.io/B:2'], /^scanner: invalid reference "x\.io\/B:2"/],
  ];

  test.each(cases)('%s', async (_name, argv, message) => {
    const run = await runCli(argv);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toContain('hunter2');
  });

  test('an invalid registries config file names the file and the field', async () => {
    const file = join(dir.path, 'bad-registries.yaml');
    await writeFile(file, 'registries:\n  - prefix: ghcr.io\n    api_ur1: https://ghcr.io\n');
    const run = await runCli(['tags', ref(app), '--registries-config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`registries config "${file}"`);
    expect(run.stderr).toContain('registries[0].name: required');
    expect(run.stderr).toContain('registries[0].api_ur1: unknown key; did you mean api_url?');
  });

  test('a missing registries config file (from SCANNER_REGISTRIES_CONFIG) is exit 2', async () => {
    const file = join(dir.path, 'missing.yaml');
    const run = await runCli(['tags', ref(app)], { env: { SCANNER_REGISTRIES_CONFIG: file } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^scanner: cannot read registries config ".*missing\.yaml" \(ENOENT\); check the path\n$/);
  });

  test('--help and --version exit 0 on stdout', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage:\n  scanner tags IMAGE');
    expect(help.stdout).toContain('Exit codes: 0 found, 1 registry or runtime error, 2 usage or invalid input, 3 no tag matched.');
    const selectHelp = await runCli(['select', '--help']);
    expect(selectHelp.stdout).toMatch(/^Usage: scanner select IMAGE/);
    const version = await runCli(['--version']);
    expect(version).toEqual({ code: 0, stdout: '0.0.0\n', stderr: '' });
  });
});

describe('runtime errors exit 1', () => {
  test('registry unreachable: one line, no stack without --debug', async () => {
    const port = await freePort();
    const run = await runCli(['tags', `127.0.0.1:${port}/demo/app`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^scanner: .*127\\.0\\.0\\.1:${port}.*; check that 127\\.0\\.0\\.1:${port} is (?:up and )?reachable[^\\n]*\\n$`));
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  test('--debug adds the request log and the stack with its causes', async () => {
    const port = await freePort();
    const run = await runCli(['tags', `127.0.0.1:${port}/demo/app`, '--debug']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`scanner: debug: GET http://127\\.0\\.0\\.1:${port}/v2/.* → failed`));
    expect(run.stderr).toMatch(/RegistryError: @scanner\/registry: .*\n\s+at /);
  });

  test('--debug on success logs each request to stderr and leaves stdout alone', async () => {
    const run = await runCli(['digest', `${ref(app)}:v1.2.0`, '--debug']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${digestOf(app, 'v1.2.0')}\n`);
    expect(run.stderr).toMatch(new RegExp(`^scanner: debug: HEAD http://${host.replaceAll('.', '\\.')}/v2/demo/app/manifests/v1\\.2\\.0 → 200 in \\d+ ms\\n$`));
  });

  test('an aborted signal (Ctrl-C in the binary) stops the command with exit 1', async () => {
    const run = await runCli(['select', ref(builds), '--strategy', 'newest-build'], { signal: AbortSignal.abort() });
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'scanner: interrupted\n' });
  });

  test('an unreachable Redis cache is skipped with a warning that hides the URL password', async () => {
    const port = await freePort();
    const run = await runCli(['select', ref(numbered), '--strategy', 'numerical', '--cache', `redis://:hunter2@127.0.0.1:${port}/0`]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('tag        1024\n');
    expect(run.stderr).toMatch(/^scanner: warning: the cache failed and is skipped for this run: /);
    expect(run.stderr).not.toContain('hunter2');
  });
});

describe('credentials', () => {
  const username = 'ci-bot';
  const password = 's3cr3t-PASSW0RD';
  const wrong = 'wr0ng-hunter2-pa55';
  let secured: MemoryRegistry;
  let securedHost: string;
  let config: string;

  beforeAll(async () => {
    secured = createMemoryRegistry({ auth: { username, password } });
    secured.seedImage('team/app', ['1.0.0', '1.1.0']);
    ({ host: securedHost } = await secured.listen());
    config = join(dir.path, 'registries.yaml');
    await writeFile(config, `registries:\n  - name: secured\n    prefix: ${securedHost}\n    credentials: env:SCANNER_TEST_CREDS\n`);
  });

  afterAll(async () => {
    await secured.close();
  });

  test('credentials from the registries config are used', async () => {
    const run = await runCli(['select', `${securedHost}/team/app`, '--registries-config', config, '-o', 'json'], {
      env: { SCANNER_TEST_CREDS: `${username}:${password}` },
    });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as SelectJson).selected?.tag).toBe('1.1.0');
  });

  test('rejected credentials: exit 1, and no secret in any output, even with --debug', async () => {
    const run = await runCli(['select', `${securedHost}/team/app`, '--debug'], {
      env: { SCANNER_TEST_CREDS: `${username}:${wrong}`, SCANNER_REGISTRIES_CONFIG: config },
    });
    expect(run.code).toBe(1);
    const errorLine = run.stderr.split('\n').find((line) => !line.startsWith('scanner: debug:') && line.startsWith('scanner: '));
    expect(errorLine).toMatch(new RegExp(`^scanner: .*${securedHost.replaceAll('.', '\\.')}.*credentials.*--registries-config`));
    const output = run.stdout + run.stderr;
    for (const secret of [wrong, password, Buffer.from(`${username}:${wrong}`).toString('base64')]) expect(output).not.toContain(secret);
  });
});
