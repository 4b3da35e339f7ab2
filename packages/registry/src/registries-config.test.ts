import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@scanner/test-lab';
import { describe, expect, test } from 'vitest';
import { createDockerConfigCredentials } from './docker-config.ts';
import { loadRegistriesConfig, parseRegistriesConfig, resolveRegistrySettings } from './registries-config.ts';
import type { RegistriesConfigOptions } from './registries-config.ts';
import { expectFailure } from './failure.fixture.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTest\n-----END CERTIFICATE-----\n';

/** No Docker config and no real CA files: each test says what it reads. */
const isolated: RegistriesConfigOptions = {
  dockerConfig: false,
  env: {},
  readCaFile: (path) => Promise.resolve(path.endsWith('.pem') ? PEM : ''),
};

async function configError(text: string, options: RegistriesConfigOptions = isolated): Promise<Error & { code?: string }> {
  try {
    await parseRegistriesConfig(text, options);
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the config to be rejected');
}

// The examples in Argo CD Image Updater's docs/configuration/registries.md, unchanged.
const ARGO_EXAMPLES: Record<string, string> = {
  'two registries': `registries:
- name: Docker Hub
  prefix: docker.io
  api_url: https://registry-1.docker.io
  credentials: secret:foo/bar#creds
  defaultns: library
  default: true
- name: RedHat Quay
  api_url: https://quay.io
  prefix: quay.io
  ca_file: /app/config/certs/quay-ca.pem
  credentials: env:REGISTRY_SECRET
`,
  'ConfigMap variant': `registries:
- name: Docker Hub
  prefix: docker.io
  api_url: https://registry-1.docker.io
  credentials: secret:foo/bar#creds
  defaultns: library
  default: true
- name: RedHat Quay
  api_url: https://quay.io
  prefix: quay.io
  insecure: yes
  credentials: env:REGISTRY_SECRET

`,
  'default registry': `registries:
- name: RedHat Quay
  api_url: https://quay.io
  prefix: quay.io
  default: true
`,
  'default namespace': `registries:
- name: Docker Hub
  api_url: https://registry-1.docker.io
  prefix: docker.io
  defaultns: library
`,
  'rate limit': `registries:
- name: RedHat Quay
  api_url: https://quay.io
  prefix: quay.io
  limit: 10
`,
  'Azure workload identity': `registries:
  - name: acr-name
    prefix: acr-name.azurecr.io
    api_url: https://acr-name.azurecr.io
    default: true
    credentials: ext:/app/auth/auth.sh
    credsexpire: 1h
`,
};

describe("Argo CD Image Updater's documented examples", () => {
  test.each(Object.entries(ARGO_EXAMPLES))('%s parses as-is', async (_name, text) => {
    const config = await parseRegistriesConfig(text, isolated);
    expect(config.entries.length).toBeGreaterThan(0);
  });

  test('the two-registry example yields the documented settings', async () => {
    const config = await parseRegistriesConfig(ARGO_EXAMPLES['two registries']!, isolated);
    const hub = config.match('nginx');
    expect(hub).toMatchObject({ registry: 'docker.io', origin: 'https://registry-1.docker.io', defaultNamespace: 'library' });
    expect(hub.credentials?.description).toBe('secret:foo/bar#creds');
    const quay = config.match('quay.io/argoproj/argocd:v2.0.0');
    expect(quay).toMatchObject({ registry: 'quay.io', origin: 'https://quay.io', ca: PEM });
    expect(quay.credentials?.description).toBe('env:REGISTRY_SECRET');
    expect(config.defaultEntry?.name).toBe('Docker Hub');
  });

  test('insecure: yes is YAML 1.1 for true', async () => {
    const config = await parseRegistriesConfig(ARGO_EXAMPLES['ConfigMap variant']!, isolated);
    expect(config.match('quay.io/org/app').insecure).toBe(true);
  });

  test('limit becomes requestsPerSecond; credsexpire drives re-reads', async () => {
    expect((await parseRegistriesConfig(ARGO_EXAMPLES['rate limit']!, isolated)).match('quay.io/a/b').requestsPerSecond).toBe(10);
    let nowMs = 0;
    const env: Record<string, string> = { CREDS: 'u:one' };
    const config = await parseRegistriesConfig('registries:\n- {name: r, prefix: r.example.com, credentials: "env:CREDS", credsexpire: 1h30m}\n', {
      ...isolated,
      env,
      now: () => nowMs,
    });
    const provider = config.match('r.example.com/x').credentials!;
    expect(await provider.get()).toMatchObject({ password: 'one' });
    env['CREDS'] = 'u:two';
    nowMs = 5_399_999;
    expect(await provider.get()).toMatchObject({ password: 'one' });
    nowMs = 5_400_000;
    expect(await provider.get()).toMatchObject({ password: 'two' });
  });

  test('a default entry takes references that name no registry', async () => {
    const config = await parseRegistriesConfig(ARGO_EXAMPLES['default registry']!, isolated);
    expect(config.matchEntry('argoproj/argocd')?.name).toBe('RedHat Quay');
    expect(config.match('argoproj/argocd:v1').origin).toBe('https://quay.io');
    // An explicit other registry never borrows the default entry (nor its credentials).
    expect(config.matchEntry('ghcr.io/argoproj/argocd')).toBeUndefined();
    expect(config.match('ghcr.io/argoproj/argocd')).toEqual({ registry: 'ghcr.io', origin: 'https://ghcr.io' });
    expect(config.match('docker.io/argoproj/argocd')).toEqual({
      registry: 'docker.io',
      origin: 'https://registry-1.docker.io',
      defaultNamespace: 'library',
    });
  });
});

describe('prefix matching', () => {
  const text = `registries:
- { name: host, prefix: ghcr.io, credentials: "env:HOST" }
- { name: org, prefix: ghcr.io/org, credentials: "env:ORG" }
- { name: team, prefix: ghcr.io/org/team/, credentials: "env:TEAM" }
- { name: hub-library, prefix: docker.io/library }
- { name: local, prefix: "localhost:5000" }
`;

  test.each([
    ['ghcr.io/org/app', 'org'],
    ['ghcr.io/org/app:1.2@sha256:abc', 'org'],
    ['ghcr.io/org', 'org'],
    ['ghcr.io/organization/app', 'host'],
    ['ghcr.io/org/team/app', 'team'],
    ['ghcr.io/org/teams/app', 'org'],
    ['GHCR.io/other/app', 'host'],
    ['ghcr.io', 'host'],
    ['nginx', 'hub-library'],
    ['nginx:1.25', 'hub-library'],
    ['index.docker.io/library/nginx', 'hub-library'],
    ['docker.io/bitnami/redis', undefined],
    ['localhost:5000/app:dev', 'local'],
    ['localhost:5000', 'local'],
    ['localhost:5001/app', undefined],
    ['quay.io/org/app', undefined],
  ])('%s → %s', async (reference, name) => {
    const config = await parseRegistriesConfig(text, isolated);
    expect(config.matchEntry(reference)?.name).toBe(name);
  });

  test('ImageReference-shaped lookups match the same way', async () => {
    const config = await parseRegistriesConfig(text, isolated);
    expect(config.matchEntry({ registry: 'ghcr.io', repository: 'org/team/app' })?.name).toBe('team');
    expect(config.matchEntry({ registry: 'docker.io', repository: 'library/nginx' })?.name).toBe('hub-library');
    expect(config.match({ registry: 'localhost:5000', repository: 'x' }).origin).toBe('http://localhost:5000');
  });
});

describe('our keys and the fallback', () => {
  test('page_size, concurrency, timeout, token_realm_allow_list, ca_data', async () => {
    const config = await parseRegistriesConfig(
      `registries:
- name: mine
  prefix: reg.example.com
  page_size: 200
  concurrency: 4
  timeout: 1m
  token_realm_allow_list: [auth.example.net]
  ca_data: |
${PEM.split('\n').map((line) => `    ${line}`).join('\n')}
- name: other
  prefix: other.example.com
  timeout_ms: 2500
`,
      isolated,
    );
    expect(config.match('reg.example.com/a')).toEqual({
      registry: 'reg.example.com',
      origin: 'https://reg.example.com',
      ca: PEM,
      pageSize: 200,
      concurrency: 4,
      timeoutMs: 60_000,
      tokenRealmAllowList: ['auth.example.net'],
      // For messages that name the place to change (break-scan F3); no file was named here.
      sources: { timeoutMs: 'registries[0].timeout' },
    });
    expect(config.match('other.example.com/a').timeoutMs).toBe(2500);
    expect(config.match('other.example.com/a').sources).toEqual({ timeoutMs: 'registries[1].timeout_ms' });
  });

  test('entries without credentials, and unmatched registries, use Docker config credentials', async () => {
    await using dir = await tempDir();
    await writeFile(join(dir.path, 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { username: 'docker', password: 'pw' } } }));
    const dockerConfig = createDockerConfigCredentials({ configDir: dir.path });
    const config = await parseRegistriesConfig('registries:\n- {name: gh, prefix: ghcr.io/org}\n', { ...isolated, dockerConfig });
    expect(await config.match('ghcr.io/org/app').credentials?.get()).toEqual({ kind: 'basic', username: 'docker', password: 'pw' });
    expect(await config.match('ghcr.io/else/app').credentials?.get()).toEqual({ kind: 'basic', username: 'docker', password: 'pw' });
    expect(config.match('ghcr.io/else/app')).toBe(config.match('ghcr.io/more/app'));
    expect(await config.match('quay.io/x/y').credentials?.get()).toBeUndefined();
  });

  test("a prefix-less default entry takes its host from api_url; Argo's ping and tagsortmode are accepted", async () => {
    const config = await parseRegistriesConfig(
      'registries:\n- {name: internal, api_url: "https://registry.corp.example:5443", default: true, ping: no, tagsortmode: Latest-First}\n',
      isolated,
    );
    expect(config.defaultEntry).toMatchObject({ prefix: 'registry.corp.example:5443', tagSortMode: 'latest-first' });
    expect(config.match('team/app')).toEqual({ registry: 'registry.corp.example:5443', origin: 'https://registry.corp.example:5443' });
    expect(config.matchEntry('registry.corp.example:5443/team/app')?.name).toBe('internal');
    expect(config.matchEntry('ghcr.io/team/app')).toBeUndefined();
  });

  test('an empty file or an empty list is a valid config', async () => {
    expect((await parseRegistriesConfig('', isolated)).entries).toEqual([]);
    expect((await parseRegistriesConfig('registries: []\n', isolated)).match('localhost:5000/a').origin).toBe('http://localhost:5000');
  });

  test('api_url over http needs insecure unless the host is loopback', async () => {
    const ok = await parseRegistriesConfig(
      'registries:\n- {name: a, prefix: reg.lan, api_url: "http://reg.lan:5000", insecure: true}\n- {name: b, prefix: "localhost:5000", api_url: "http://localhost:5000"}\n',
      isolated,
    );
    expect(ok.match('reg.lan/x').origin).toBe('http://reg.lan:5000');
    const error = await configError('registries:\n- {name: a, prefix: reg.lan, api_url: "http://reg.lan:5000"}\n');
    expect(error.message).toContain('registries[0].api_url: api_url "http://reg.lan:5000" uses plain http');
  });
});

describe('loadRegistriesConfig', () => {
  test('reads the file and ca_file relative to it', async () => {
    await using dir = await tempDir();
    await mkdir(join(dir.path, 'certs'));
    await writeFile(join(dir.path, 'certs', 'ca.crt'), PEM);
    const path = join(dir.path, 'registries.conf');
    await writeFile(path, 'registries:\n- name: r\n  prefix: r.example.com\n  ca_file: certs/ca.crt\n');
    const config = await loadRegistriesConfig(path, { dockerConfig: false });
    expect(config.source).toBe(path);
    expect(config.match('r.example.com/a').ca).toBe(PEM);
  });

  test('a missing file or ca_file is a config error naming it', async () => {
    await using dir = await tempDir();
    const path = join(dir.path, 'registries.conf');
    await expectFailure(loadRegistriesConfig(path), 'config', `"${path}" (ENOENT)`);
    await writeFile(path, 'registries:\n- {name: r, prefix: r.example.com, ca_file: missing.pem}\n');
    await expectFailure(loadRegistriesConfig(path, { dockerConfig: false }), 'config', `registries[0].ca_file: cannot read "${join(dir.path, 'missing.pem')}" (ENOENT)`);
  });
});

describe('errors name the file and the path', () => {
  test.each([
    ['registries:\n- {name: a, prefix: a.io}\n- {name: b, prefix: b.io}\n- {name: c}\n', 'registries[2].prefix: required'],
    ['registries:\n- {prefix: a.io}\n', 'registries[0].name: required'],
    ['registries:\n- {name: a, prefix: a.io, api_ur1: "https://a.io"}\n', 'registries[0].api_ur1: unknown key; did you mean api_url?'],
    ['registries:\n- {name: a, prefix: a.io, colour: blue}\n', 'registries[0].colour: unknown key'],
    ['registry:\n- {name: a, prefix: a.io}\n', 'registry: unknown key'],
    ['registries:\n- {name: a, prefix: a.io, credsexpire: 5 minutes}\n', 'registries[0].credsexpire: "5 minutes" is not a duration'],
    ['registries:\n- {name: a, prefix: a.io, limit: lots}\n', 'registries[0].limit: expected a number'],
    ['registries:\n- {name: a, prefix: a.io, page_size: 1.5}\n', 'registries[0].page_size: expected an integer'],
    ['registries:\n- {name: a, prefix: a.io, insecure: maybe}\n', 'registries[0].insecure: expected a boolean'],
    ['registries:\n- {name: a, prefix: a.io, tagsortmode: random}\n', 'registries[0].tagsortmode'],
    ['registries:\n- {name: a, prefix: a.io}\n- {name: b, prefix: A.io/}\n', 'registries[1].prefix: "A.io/" is already the prefix of registries[0]'],
    ['registries:\n- {name: a, prefix: a.io, default: true}\n- {name: b, prefix: b.io, default: true}\n', 'registries[1].default: only one entry may be the default; registries[0] already is'],
    ['registries:\n- {name: a, prefix: "https://a.io"}\n', 'registries[0].prefix: "https://a.io" has a scheme'],
    ['registries:\n- {name: a, prefix: "a.io/Org"}\n', 'registries[0].prefix'],
    ['registries:\n- {name: a, prefix: a.io, credentials: "env:"}\n', 'registries[0].credentials: credentials "env:": write env:VARIABLE_NAME'],
    ['registries:\n- {name: a, prefix: a.io, timeout: 1s, timeout_ms: 1000}\n', 'registries[0].timeout: give timeout or timeout_ms, not both'],
    ['registries:\n- {name: a, prefix: a.io, ca_data: "not pem"}\n', 'registries[0].ca_data: not a PEM certificate'],
    ['registries: {name: a}\n', 'registries: expected an array'],
    ['- just a list\n', '(root): expected an object'],
  ])('%j', async (text, message) => {
    const error = await configError(text, { ...isolated, source: '/etc/scanner/registries.conf' });
    expect(error.code).toBe('config');
    expect(error.message).toContain('invalid registries config "/etc/scanner/registries.conf": ');
    expect(error.message).toContain(message);
  });

  test('every problem is reported at once', async () => {
    const shape = await configError('registries:\n- {prefix: a.io}\n- {name: b, prefix: b.io, limit: -1}\n');
    expect(shape.message).toContain('registries[0].name: required');
    expect(shape.message).toContain('registries[1].limit');
    const meaning = await configError('registries:\n- {name: a}\n- {name: b, prefix: b.io, api_url: "http://b.io"}\n');
    expect(meaning.message).toContain('registries[0].prefix: required');
    expect(meaning.message).toContain('registries[1].api_url');
  });

  test('YAML syntax errors give line and column without quoting the line', async () => {
    const error = await configError('registries:\n- name: a\n  credentials: "bob:Pl4ntedYamlSecret\n  prefix: [\n');
    expect(error.code).toBe('config');
    expect(error.message).toMatch(/YAML error at line \d+, column \d+/);
    expect(error.message).not.toContain('Pl4ntedYamlSecret');
  });

  test('duplicate YAML keys are rejected', async () => {
    const error = await configError('registries:\n- name: a\n  name: b\n  prefix: a.io\n');
    expect(error.message).toContain('YAML error at line 3');
  });
});

describe('resolveRegistrySettings', () => {
  test('defaults, then the config entry, then overrides', async () => {
    const config = await parseRegistriesConfig('registries:\n- {name: a, prefix: a.example.com, page_size: 50, limit: 5}\n', isolated);
    expect(resolveRegistrySettings('a.example.com', { config, overrides: { pageSize: 10 } })).toEqual({
      registry: 'a.example.com',
      origin: 'https://a.example.com',
      pageSize: 10,
      requestsPerSecond: 5,
    });
    expect(resolveRegistrySettings('127.0.0.1:5000', { dockerConfig: false })).toEqual({ registry: '127.0.0.1:5000', origin: 'http://127.0.0.1:5000' });
    expect(resolveRegistrySettings('index.docker.io', { dockerConfig: false })).toEqual({
      registry: 'docker.io',
      origin: 'https://registry-1.docker.io',
      defaultNamespace: 'library',
    });
  });

  test('without options, Docker config credentials are attached', () => {
    expect(resolveRegistrySettings('ghcr.io').credentials?.description).toMatch(/^docker-config:.*config\.json for ghcr\.io$/);
  });
});

describe('the example in README.credentials.md', () => {
  const text = `registries:
  - name: Docker Hub
    prefix: docker.io
    api_url: https://registry-1.docker.io
    credentials: env:DOCKER_HUB_CREDS
    credsexpire: 12h
    defaultns: library
    limit: 10                # requests per second
  - name: Our team on GHCR
    prefix: ghcr.io/our-org  # longest prefix wins, on path boundaries
    credentials: ext:/opt/ghcr-token.sh
    page_size: 200           # ours: \`n\` on tags/list
    concurrency: 4           # ours
    timeout: 45s             # ours; or timeout_ms: 45000
    token_realm_allow_list: [auth.example.net]  # ours
  - name: Internal
    prefix: registry.corp.example:5443
    ca_file: certs/corp-ca.pem  # relative to the config file; or ca_data: inline PEM
    default: true            # used for references that name no registry (\`team/app\`)
`;

  test('parses and matches as described', async () => {
    const config = await parseRegistriesConfig(text, { ...isolated, source: '/etc/scanner/registries.conf' });
    expect(config.match('ghcr.io/our-org/app:1.2')).toMatchObject({ pageSize: 200, concurrency: 4, timeoutMs: 45_000 });
    expect(config.matchEntry('ghcr.io/our-organization/app')).toBeUndefined();
    expect(config.match('team/app')).toMatchObject({ registry: 'registry.corp.example:5443', ca: PEM });
    expect(config.match('nginx')).toMatchObject({ registry: 'registry.corp.example:5443' });
    expect(config.match('docker.io/nginx')).toMatchObject({ requestsPerSecond: 10, defaultNamespace: 'library' });
  });
});
