import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { createMemoryRegistry } from '@scanner/memory-registry';
import type { MemoryRegistry } from '@scanner/memory-registry';
import { tempDir } from '@scanner/test-lab';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { runCli } from './cli.fixture.ts';
import { ImageError } from '@scanner/image';
import { ScannerError } from '@scanner/image/scanner-error';
import { flagForPolicyField, reportError } from './errors.ts';
import type { SelectJson } from './output.ts';

let registry: MemoryRegistry;
let host: string;

/** A Helm chart pushed as an OCI artifact (config media type application/vnd.cncf.helm.config.v1+json). */
function pushHelmChart(repository: string, tag: string): string {
  const config = JSON.stringify({ apiVersion: 'v2', name: 'web', version: tag });
  const chart = 'not really a tarball, but a registry does not look';
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: registry.putBlob(repository, config), size: Buffer.byteLength(config) },
    layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: registry.putBlob(repository, chart), size: Buffer.byteLength(chart) }],
  });
  return registry.putManifest(repository, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
}

beforeAll(async () => {
  registry = createMemoryRegistry();
  // Flux's example: build tags whose semver part is taken out by a named group.
  registry.seedImage('flux/app', ['1.9.7.4460-a39b25852', '1.9.8.4500-b39b25852', '1.10.0.100-c39b25852', 'latest']);
  // The example: two images and a chart tag in one repository.
  registry.seedImage('mixed/web', '1.0.0', { created: new Date('2024-01-15T00:00:00Z'), seed: 'web-1.0.0' });
  registry.seedImage('mixed/web', '1.1.0', { created: new Date('2024-02-15T00:00:00Z'), seed: 'web-1.1.0' });
  pushHelmChart('mixed/web', '1.2.0');
  ({ host } = await registry.listen());
});

afterAll(async () => {
  await registry.close();
});

describe('the peers\' syntax on the command line', () => {
  test('Flux: --extract-template $semver with a (?P<semver>…) pattern selects by the extracted version', async () => {
    const run = await runCli([
      'select',
      `${host}/flux/app`,
      '--extract-pattern',
      '^(?P<semver>[0-9\\.]+)\\.[0-9]+-[0-9a-z]{9}$',
      '--extract-template',
      '$semver',
      '-o',
      'json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as SelectJson;
    expect(json.candidates.map((candidate) => candidate.tag)).toEqual(['1.10.0.100-c39b25852', '1.9.8.4500-b39b25852', '1.9.7.4460-a39b25852']);
  });

  test('an extract pattern beginning with "-" is accepted in the space form', async () => {
    const run = await runCli(['select', `${host}/flux/app`, '--strategy', 'numerical', '--extract-pattern', '-[0-9a-z]{9}$', '--extract-template', '4', '--limit', '1', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as SelectJson).candidates).toHaveLength(1);
  });
});

// break-scan F7 and L6: library wording (package prefixes, exported constants, zod's text) and the library's
// hint next to the CLI's reached the user.
describe('content errors in the CLI\'s words', () => {
  const libraryTerms = ['@scanner/', 'MANIFEST_MEDIA_TYPES', 'Invalid input', 'settings.', 'Ms ('];

  test('a schema1 tag, a manifest with a bad config descriptor, a config with a bad field, a missing tag', async () => {
    // A loopback server serving exactly these bytes: the memory registry refuses to store them.
    const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
    const config = JSON.stringify({ architecture: 42, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const OCI = 'application/vnd.oci.image.manifest.v1+json';
    const manifests: Record<string, [string, string]> = {
      '1.5.0': [JSON.stringify({ schemaVersion: 1, name: 'words/app', tag: '1.5.0', architecture: 'amd64', fsLayers: [], history: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'],
      'bad-descriptor': [JSON.stringify({ schemaVersion: 2, mediaType: OCI, config: { digest: sha('x'), size: 1 }, layers: [] }), OCI],
      'bad-config': [JSON.stringify({ schemaVersion: 2, mediaType: OCI, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: Buffer.byteLength(config) }, layers: [] }), OCI],
    };
    const server = createHttpServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      const tag = /^\/v2\/words\/app\/manifests\/(.+)$/.exec(path)?.[1];
      const found = tag === undefined ? undefined : manifests[tag];
      if (found !== undefined) {
        response.writeHead(200, { 'content-type': found[1] }).end(request.method === 'HEAD' ? undefined : found[0]);
      } else if (path === `/v2/words/app/blobs/${sha(config)}`) {
        response.writeHead(200).end(config);
      } else if (path === '/v2/') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const quirk = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    onTestFinished(() => new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    }));
    const expected: Record<string, RegExp> = {
      '1.5.0': /Docker schema1 manifests are not supported .*; rebuild and push the image with a current client/,
      'bad-descriptor': /config\.mediaType: missing \(expected a string\)/,
      'bad-config': /architecture: expected a string, got a number/,
      missing: /; check the tag or digest \(scanner tags IMAGE lists the tags\)$/,
    };
    for (const [tag, pattern] of Object.entries(expected)) {
      const run = await runCli(['inspect', `${quirk}/words/app:${tag}`]);
      expect(run.code, tag).toBe(1);
      const line = run.stderr.trimEnd();
      expect(line.split('\n'), tag).toHaveLength(1);
      expect(line, tag).toMatch(pattern);
      for (const term of libraryTerms) expect(line, `${tag}: ${term}`).not.toContain(term);
      expect(line, tag).not.toContain('check the repository, tag or digest');
    }
  });
});

describe('registry content is never exit 2', () => {
  test('inspect of a Helm chart tag: exit 1, says it is not an image, with the CLI\'s hint', async () => {
    const run = await runCli(['inspect', `${host}/mixed/web:1.2.0`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^scanner: .*mixed\/web:1\.2\.0@sha256:[0-9a-f]{64} is not a container image/);
    expect(run.stderr).toContain('scanner select` skips tags that are not images');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('select --strategy newest-build skips the chart tag with one warning and picks 1.1.0', async () => {
    const run = await runCli(['select', `${host}/mixed/web`, '--strategy', 'newest-build', '-o', 'json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as SelectJson).selected?.tag).toBe('1.1.0');
    const warnings = run.stderr.split('\n').filter((line) => line.startsWith('scanner: warning: '));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('1.2.0');
  });

  test('an ImageError reaching the handler came from registry data: exit 1, never 2', () => {
    for (const code of ['invalid_config', 'invalid_manifest', 'invalid_platform', 'invalid_digest', 'invalid_tag'] as const) {
      expect(reportError(new ImageError(code, 'from the registry')).exitCode).toBe(1);
    }
  });

  test('a bad IMAGE argument is the user\'s: exit 2 as a CliError naming the argument', async () => {
    const run = await runCli(['digest', `${host}/Mixed/Web:1.0.0`]);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `scanner: invalid reference "${host}/Mixed/Web:1.0.0": repository name must be lower case\n` });
  });
});

describe('--timeout bounds the whole command', () => {
  test('a registry that accepts connections and never answers fails within the bound, naming --timeout', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      // Accept and say nothing.
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const started = Date.now();
      const [flag, env] = await Promise.all([
        runCli(['digest', `127.0.0.1:${port}/team/app:1.0.0`, '--timeout', '1s']),
        runCli(['tags', `127.0.0.1:${port}/team/app`], { env: { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent/docker', SCANNER_TIMEOUT: '1500ms' } }),
      ]);
      // Without the bound, 4 tries of 30 s each: the issue measured 124 s.
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(flag.code).toBe(1);
      expect(flag.stderr).toBe(`scanner: the command did not finish within --timeout 1s (waiting for 127.0.0.1:${port}); check that the registry is up and reachable, or raise --timeout\n`);
      expect(env.code).toBe(1);
      expect(env.stderr).toContain('did not finish within --timeout 1500ms');
      for (const output of [flag.stderr, env.stderr]) expect(output).not.toContain('timeoutMs');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
  });

  test('a registry\'s own time-out (registries config) is said in the CLI\'s terms, never the library\'s', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await using dir = await tempDir('scanner-cli-timeout-');
    const config = join(dir.path, 'registries.yaml');
    await writeFile(config, `registries:\n  - name: silent\n    prefix: 127.0.0.1:${port}\n    timeout: 200ms\n    operation_timeout: 1s\n`);
    try {
      const run = await runCli(['digest', `127.0.0.1:${port}/team/app:1.0.0`, '--registries-config', config]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      // break-scan F3: the limit came from the file, so the hint names its key and file.
      expect(run.stderr).toMatch(new RegExp(`^scanner: .*127\\.0\\.0\\.1:${port}.*; raise registries\\[0\\]\\.operation_timeout in ${config.replaceAll('.', '\\.')} \\(or override it with --timeout, e\\.g\\. --timeout 2m\\) if 127\\.0\\.0\\.1:${port} is slow, or check that it answers\\n$`));
      expect(run.stderr).not.toMatch(/timeoutMs|operationTimeoutMs|settings\./);

      // The per-request time-out of the file, which --timeout does not change: its key, not --timeout, and
      // not undici's "Headers Timeout Error".
      await writeFile(config, `registries:\n  - name: silent\n    prefix: 127.0.0.1:${port}\n    timeout: 200ms\n`);
      const perRequest = await runCli(['tags', `127.0.0.1:${port}/team/app`, '--registries-config', config, '--timeout', '30s']);
      expect(perRequest.code).toBe(1);
      expect(perRequest.stderr).toContain('got no answer within 200 ms (no response headers)');
      expect(perRequest.stderr).toContain(`raise registries[0].timeout in ${config} (the per-request time-out)`);
      expect(perRequest.stderr).not.toMatch(/Headers Timeout Error|--timeout|timeoutMs/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
  });

  test('a bad SCANNER_TIMEOUT is exit 2 and names the variable', async () => {
    const run = await runCli(['digest', `${host}/mixed/web:1.0.0`], { env: { SCANNER_TIMEOUT: 'soon' } });
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'scanner: SCANNER_TIMEOUT takes a duration such as 30s, 2m or 1m30s, got "soon"\n' });
  });
});

describe('rendering from fields', () => {
  test('a policy field becomes the flag that set it', () => {
    expect(flagForPolicyField('policy.allowTags[1]', { allowTags: ['a', 'b'] })).toBe('--allow-tags #2');
    expect(flagForPolicyField('policy.allowTags[0]', { allowTags: ['a'] })).toBe('--allow-tags');
    expect(flagForPolicyField('policy.extract.template', {})).toBe('--extract-template');
    expect(flagForPolicyField('policy.strict', {})).toBe('--loose');
    expect(flagForPolicyField('policy', {})).toBeUndefined();
    expect(flagForPolicyField('images[0].policy.limit', {})).toBeUndefined();
  });

  test('a registry error: its reason and the CLI audience\'s hint, never the library\'s', () => {
    // A ScannerError of @scanner/registry as any installed copy builds it; the library's advice sits in its detail.
    const registryError = new ScannerError('@scanner/registry', 'rate_limited', 'GET http://r/v2/: the registry asked to wait 120 s; raise retryAfterMaxMs', {
      registry: 'r',
      reason: 'GET http://r/v2/: the registry asked to wait 120 s',
      hints: { library: 'raise retryAfterMaxMs', cli: 'wait and run again' },
    });
    expect(reportError(registryError)).toEqual({ exitCode: 1, message: 'GET http://r/v2/: the registry asked to wait 120 s; wait and run again' });
  });

  test('a registries config error names file, line and key path, exit 2', () => {
    const configError = new ScannerError('@scanner/registry', 'config', 'regs.yaml:3:5: registries[0].timeout: expected a duration; e.g. timeoutMs: 30000', {
      file: 'regs.yaml',
      line: 3,
      column: 5,
      field: 'registries[0].timeout',
      reason: 'expected a duration',
      hints: { cli: 'e.g. timeout: 30s', library: 'e.g. timeoutMs: 30000' },
    });
    expect(reportError(configError)).toEqual({ exitCode: 2, message: 'regs.yaml:3:5: registries[0].timeout: expected a duration; e.g. timeout: 30s' });
  });
});
