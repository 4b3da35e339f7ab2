import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { freePort } from '@scanner/test-lab';
import { describe, expect, test } from 'vitest';
import { createRegistryClient } from './client.ts';
import { failure } from './failure.fixture.ts';
import { parseRegistriesConfig } from './registries-config.ts';

/** A registry that accepts connections and never answers a byte: the case that took 4 tries × 30 s. */
async function silentRegistry() {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  return {
    host: `127.0.0.1:${port}`,
    connections: () => connections,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

type Failure = { code: string; message: string; fields: { hints?: Record<string, string> } };

describe('the operation time-out bounds a whole call, retries included', () => {
  // The per-request time-out stays at its 30 s default: without the operation time-out these calls would take
  // minutes, far beyond this test's own 10 s limit.
  test('a registry that never answers fails with timeout, hints naming the option, the config key and the flag', { timeout: 10_000 }, async () => {
    await using silent = await silentRegistry();
    const client = createRegistryClient({ operationTimeoutMs: 300 });
    for (const call of [() => client.listTags(`${silent.host}/lab/web`), () => client.resolveDigest(`${silent.host}/lab/web:1`), () => client.getImageMetadata(`${silent.host}/lab/web:1`)]) {
      const error = (await failure(call)) as Failure;
      expect(error.code).toBe('timeout');
      expect(error.message).toContain('did not finish within 300 ms');
      expect(error.fields.hints?.library).toContain('operationTimeoutMs');
      expect(error.fields.hints?.config).toContain('operation_timeout');
      expect(error.fields.hints?.cli).toContain('--timeout');
    }
    await client.close();
  });

  test('the registries config key operation_timeout sets it per registry, over the client option', { timeout: 10_000 }, async () => {
    await using silent = await silentRegistry();
    const config = await parseRegistriesConfig(`registries:\n  - name: slow\n    prefix: ${silent.host}\n    operation_timeout: 250ms\n`, { dockerConfig: false });
    expect(config.match(silent.host).operationTimeoutMs).toBe(250);
    const client = createRegistryClient({ operationTimeoutMs: 600_000, settings: (registry) => config.match(registry) });
    const error = (await failure(client.listTags(`${silent.host}/lab/web`))) as Failure;
    expect(error.code).toBe('timeout');
    expect(error.message).toContain('within 250 ms');
    await client.close();
  });

  test('operation_timeout must be a positive duration', async () => {
    const error = await failure(parseRegistriesConfig('registries:\n  - name: x\n    prefix: ghcr.io\n    operation_timeout: "0"\n', { dockerConfig: false }));
    expect(error.message).toContain('registries[0].operation_timeout: must be longer than 0');
  });

  test("the caller's own signal still aborts with aborted, not timeout", { timeout: 10_000 }, async () => {
    await using silent = await silentRegistry();
    const client = createRegistryClient({ operationTimeoutMs: 60_000 });
    const error = await failure(client.listTags(`${silent.host}/lab/web`, { signal: AbortSignal.timeout(200) }));
    expect(error.code).toBe('aborted');
    await client.close();
  });

  test('a per-request time-out carries hints per audience instead of library words in the message', { timeout: 10_000 }, async () => {
    await using silent = await silentRegistry();
    const client = createRegistryClient({ settings: { [silent.host]: { timeoutMs: 100 } }, retries: 0 });
    const error = (await failure(client.listTags(`${silent.host}/lab/web`))) as Failure;
    expect(error.code).toBe('timeout');
    expect(error.message).not.toContain('timeoutMs');
    expect(error.fields.hints?.library).toContain('settings.timeoutMs');
    expect(error.fields.hints?.config).toContain('timeout of the registries entry');
    expect(error.fields.hints?.cli).toContain('--timeout');
    await client.close();
  });
});

describe('RegistryError is a ScannerError', () => {
  test('code, status, registry, repository and isRegistryError are kept; package, detail and fields are added', async () => {
    const { RegistryError, isRegistryError } = await import('./errors.ts');
    const { isScannerError } = await import('@scanner/image');
    const error = new RegistryError('timeout', 'GET x got no answer', { status: 504, registry: 'ghcr.io', repository: 'org/app', tag: '1.0', hints: { cli: 'raise --timeout' } });
    expect(isScannerError(error)).toBe(true);
    expect(isRegistryError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'RegistryError', code: 'timeout', status: 504, registry: 'ghcr.io', repository: 'org/app', package: '@scanner/registry', detail: 'GET x got no answer' });
    expect(error.message).toBe('@scanner/registry: GET x got no answer');
    expect(error.fields).toMatchObject({ registry: 'ghcr.io', repository: 'org/app', tag: '1.0' });
    expect(error.hint('cli')).toBe('raise --timeout');
    expect(error.hint('config')).toBeUndefined();
  });
});
