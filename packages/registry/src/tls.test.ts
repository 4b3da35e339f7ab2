import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { freePort, hasBinary, tempDir } from '@scanner/test-lab';
import { testClient } from './http.fixture.ts';

async function selfSignedServer() {
  const dir = await tempDir('registry-tls-');
  const key = join(dir.path, 'key.pem');
  const cert = join(dir.path, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const pem = readFileSync(cert, 'utf8');
  const server = createServer({ key: readFileSync(key), cert: pem }, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"tags":["tls"]}');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    pem,
    origin: `https://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      await dir[Symbol.asyncDispose]();
    },
  };
}

describe.skipIf(!hasBinary('openssl'))('TLS per registry', () => {
  test('an unknown CA fails with a hint; `ca` trusts it; `insecure` skips verification', async () => {
    await using server = await selfSignedServer();
    await using plain = testClient({ settings: { 'tls.test': { origin: server.origin } } });
    await expect(plain.client.listTags('tls.test/a/b')).rejects.toMatchObject({
      code: 'network',
      message: expect.stringContaining('TLS failure') as unknown,
      fields: { hints: { library: expect.stringContaining('settings.ca') as unknown, config: expect.stringContaining('ca_file') as unknown, cli: expect.stringContaining('--insecure') as unknown } },
    });
    // A TLS failure is not worth retrying.
    expect(plain.sleeps).toEqual([]);
    await using trusted = testClient({ settings: { 'tls.test': { origin: server.origin, ca: server.pem } } });
    expect(await trusted.client.listTags('tls.test/a/b')).toEqual(['tls']);
    await using insecure = testClient({ settings: { 'tls.test': { origin: server.origin, insecure: true } } });
    expect(await insecure.client.listTags('tls.test/a/b')).toEqual(['tls']);
  });
});
