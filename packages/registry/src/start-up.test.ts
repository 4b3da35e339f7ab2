import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { startServer } from './http.fixture.ts';
import { loadUndiciAgent } from './undici-agent.ts';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const DIGEST = `sha256:${'a'.repeat(64)}`;

// A fresh process (the way `scanner digest` starts) that imports the package, builds a client from the
// Docker config as the CLI does, resolves one digest on a loopback server and prints every module it loaded.
// argv: registry host, HTTP engine ('' for the default), 'subpath' to import as the CLI does (the
// `./from-config` subpath, no scanner) instead of the index plus a scanner.
const child = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
const [host, httpEngine, entry] = process.argv.slice(1);
const { createRegistryClientFromConfig } = await import(entry === 'subpath' ? '@scanner/registry/from-config' : '@scanner/registry');
await using client = await createRegistryClientFromConfig({ env: { HOME: process.env.HOME }, overrides: { insecure: true }, ...(httpEngine ? { httpEngine } : {}) });
if (entry !== 'subpath') (await import('@scanner/registry')).createScanner({ client });
const digest = await client.resolveDigest(host + '/lab/web:1.0.0');
process.stdout.write(JSON.stringify({ digest, loaded }));
`;

async function loadedBy(httpEngine?: 'node', entry: 'index' | 'subpath' = 'index'): Promise<string[]> {
  await using registry = await startServer((request, response) => {
    response.writeHead(request.method === 'HEAD' ? 200 : 404, { 'docker-content-digest': DIGEST, 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    response.end();
  });
  const home = await mkdtemp(join(tmpdir(), 'registry-start-up-'));
  try {
    const { stdout } = await run(process.execPath, ['--conditions=@scanner/source', '--input-type=module', '-e', child, registry.host, httpEngine ?? '', entry], {
      cwd: packageDir,
      env: { PATH: process.env['PATH'] ?? '', HOME: home },
    });
    const { digest, loaded } = JSON.parse(stdout) as { digest: string; loaded: string[] };
    expect(digest).toBe(DIGEST);
    return loaded;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const HEAVY = /\/node_modules\/(zod|yaml|semver)\/|\/undici\/index\.js$|\/packages\/(version|tag)\/|\/image\/src\/(index|manifest)\.ts$/;

test('resolving a digest loads neither zod, yaml, undici’s index, the policy engine nor the manifest parser', async () => {
  const loaded = await loadedBy();
  // The request went through undici's agent (so the list is of a run that did the work)…
  expect(loaded.some((url) => url.endsWith('/undici/lib/dispatcher/agent.js'))).toBe(true);
  // …and nothing it did not need.
  expect(loaded.filter((url) => HEAVY.test(url))).toEqual([]);
});

test('with the node engine (the CLI’s scan commands), no undici at all, nor node:crypto or node:tls over plain HTTP', async () => {
  const loaded = await loadedBy('node');
  expect(loaded.some((url) => url.endsWith('/node-http-engine.ts'))).toBe(true);
  expect(loaded.filter((url) => HEAVY.test(url) || url.includes('/undici/') || url === 'node:crypto' || url === 'node:tls')).toEqual([]);
});

test('through @scanner/registry/from-config, as the CLI imports it: no scanner, paging, metadata, uploads, copies, referrers or credential helpers', async () => {
  const loaded = await loadedBy('node', 'subpath');
  expect(loaded.some((url) => url.endsWith('/registry/src/manifests.ts'))).toBe(true);
  const later = /\/registry\/src\/(scanner|scan-cache|pagination|metadata|upload|copy|referrers|credential-helpers)\.ts$/;
  expect(loaded.filter((url) => later.test(url) || url === 'node:child_process')).toEqual([]);
});

test('the agent and request undici’s index would give, without its index', async () => {
  const undici = await import('undici');
  const loaded = await loadUndiciAgent();
  expect(loaded.Agent).toBe(undici.Agent);
  await using server = await startServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('hello');
  });
  const agent = new loaded.Agent();
  try {
    const answer = await loaded.request(agent, { origin: `http://${server.host}`, path: '/v2/', method: 'GET' });
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.text()).toBe('hello');
  } finally {
    await agent.close();
  }
});
