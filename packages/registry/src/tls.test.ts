import { describe, expect, test } from 'vitest';
import { hasBinary } from '@scanner/test-lab';
import { selfSignedServer, testClient } from './http.fixture.ts';

// openssl makes the certificate; npm run setup installs it, and under CI a missing one fails rather than skips.
describe.skipIf(!hasBinary('openssl') && process.env['CI'] !== 'true')('TLS per registry', () => {
  test('an unknown CA fails with a hint; `ca` trusts it; `insecure` skips verification', async () => {
    await using server = await selfSignedServer({ 'content-type': 'application/json' }, '{"tags":["tls"]}');
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
