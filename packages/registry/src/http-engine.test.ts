import { spawn } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { freePort, hasBinary } from '@scanner/test-lab';
import { ENGINE_TIMEOUT_PHASES, loadHttpEngine } from './http-engine.ts';
import type { EngineResponse, HttpEngineName, HttpPool, PoolOptions } from './http-engine.ts';
import { selfSignedServer, startServer, testClient } from './http.fixture.ts';

// One contract, two engines: the transport must not be able to tell undici from node:http.

const POOL: PoolOptions = { headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000 };

async function pool(name: HttpEngineName, options: PoolOptions = POOL): Promise<HttpPool & AsyncDisposable> {
  const created = (await loadHttpEngine(name)).createPool(options);
  return Object.assign(created, { [Symbol.asyncDispose]: () => created.close() });
}

async function text(response: EngineResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}


describe.each(['undici', 'node'] as const)('the %s engine', (name) => {
  test('status, lower-case headers (a repeated one as an array), the body as a stream', async () => {
    await using server = await startServer((_request, response) => {
      response.setHeader('Link', ['<a>; rel="next"', '<b>; rel="other"']);
      response.writeHead(206, { 'Content-Type': 'text/plain', 'Docker-Content-Digest': 'sha256:x' }).end('hello');
    });
    await using engine = await pool(name);
    const response = await engine.request({ origin: server.origin, path: '/v2/a/b?n=1', method: 'GET', headers: { accept: 'text/plain' } });
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-type']).toBe('text/plain');
    expect(response.headers['docker-content-digest']).toBe('sha256:x');
    expect(response.headers['link']).toEqual(['<a>; rel="next"', '<b>; rel="other"']);
    expect(await text(response)).toBe('hello');
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/v2/a/b?n=1', headers: { accept: 'text/plain' } });
  });

  test('HEAD has no body; a redirect is handed back, not followed', async () => {
    await using server = await startServer((request, response) => {
      if (request.url === '/moved') response.writeHead(307, { location: '/elsewhere' }).end();
      else response.writeHead(200, { 'content-length': '1234', 'docker-content-digest': 'sha256:y' }).end();
    });
    await using engine = await pool(name);
    const head = await engine.request({ origin: server.origin, path: '/m', method: 'HEAD', headers: {} });
    expect(head.headers['docker-content-digest']).toBe('sha256:y');
    expect(await text(head)).toBe('');
    const moved = await engine.request({ origin: server.origin, path: '/moved', method: 'GET', headers: {} });
    expect(moved.statusCode).toBe(307);
    expect(moved.headers['location']).toBe('/elsewhere');
    await moved.body.dump();
    expect(server.requests.map((request) => request.url)).toEqual(['/m', '/moved']);
  });

  test('a body from bytes or from a stream arrives whole', async () => {
    await using server = await startServer((request, response) => {
      response.writeHead(201).end(String(request.body.byteLength));
    });
    await using engine = await pool(name);
    const bytes = new Uint8Array(70_000).fill(7);
    const fromBytes = await engine.request({ origin: server.origin, path: '/up', method: 'PUT', headers: { 'content-length': String(bytes.byteLength) }, body: bytes });
    expect(await text(fromBytes)).toBe('70000');
    const stream = Readable.from([Buffer.alloc(40_000, 1), Buffer.alloc(25_000, 2)]);
    const fromStream = await engine.request({ origin: server.origin, path: '/up', method: 'PATCH', headers: { 'content-length': '65000' }, body: stream });
    expect(await text(fromStream)).toBe('65000');
    expect(Buffer.concat(server.requests.slice(1).map((request) => request.body))).toEqual(Buffer.concat([Buffer.alloc(40_000, 1), Buffer.alloc(25_000, 2)]));
  });

  test('sequential requests reuse kept-alive connections', async () => {
    await using server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-length': '2' }).end('ok');
    });
    await using engine = await pool(name);
    for (const path of ['/1', '/2', '/3']) expect(await text(await engine.request({ origin: server.origin, path, method: 'GET', headers: {} }))).toBe('ok');
    // node:http reuses its one socket; undici's pool may open a second while the first is being released.
    expect(server.connections()).toBeLessThan(3);
    if (name === 'node') expect(server.connections()).toBe(1);
  });

  test('no headers within headersTimeoutMs, or a stalled body past bodyTimeoutMs: an error whose code names the phase', async () => {
    await using server = await startServer((request, response) => {
      if (request.url === '/stall-headers') return; // never answers
      response.writeHead(200, { 'content-length': '100' });
      response.write('partial'); // and never the rest
    });
    await using engine = await pool(name, { headersTimeoutMs: 200, bodyTimeoutMs: 200 });
    const headersError = await engine.request({ origin: server.origin, path: '/stall-headers', method: 'GET', headers: {} }).catch((error: unknown) => error);
    expect(ENGINE_TIMEOUT_PHASES[(headersError as { code: string }).code]).toBe('no response headers');
    const stalled = await engine.request({ origin: server.origin, path: '/stall-body', method: 'GET', headers: {} });
    const bodyError = await text(stalled).catch((error: unknown) => error);
    expect(ENGINE_TIMEOUT_PHASES[(bodyError as { code: string }).code]).toBe('the body stalled');
  });

  test('headers dripped a byte at a time still time out: headersTimeoutMs bounds the whole wait, not each silence', async () => {
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => {
        const text = 'HTTP/1.1 200 OK\r\nX-Slow: ' + 'a'.repeat(100);
        let index = 0;
        const timer = setInterval(() => {
          if (index >= text.length || socket.destroyed) {
            clearInterval(timer);
            return;
          }
          socket.write(text.charAt(index++));
        }, 50);
        socket.on('close', () => {
          clearInterval(timer);
        });
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await using engine = await pool(name, { headersTimeoutMs: 400, bodyTimeoutMs: 400 });
      const started = performance.now();
      const error = await engine.request({ origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET', headers: {} }).catch((caught: unknown) => caught);
      expect(ENGINE_TIMEOUT_PHASES[(error as { code: string }).code]).toBe('no response headers');
      // 100 bytes at 50 ms would take 5 s; the bound is the 400 ms (generous margin for a loaded machine).
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    }
  });

  // A listener whose accept queue is full (as a firewall that drops packets): the connection never completes.
  // Python's socket.listen(0) without accept() makes one; Node always accepts.
  test.runIf(hasBinary('python3') || process.env['CI'] === 'true')('a connection that never completes times out within headersTimeoutMs, as "no connection"', async () => {
    const script = 'import socket,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nfill=[]\nfor i in range(3):\n  c=socket.socket();c.setblocking(False)\n  try: c.connect(s.getsockname())\n  except BlockingIOError: pass\n  fill.append(c)\ntime.sleep(0.3)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)';
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => { resolve(chunk.toString().trim()); }));
      await using engine = await pool(name, { headersTimeoutMs: 500, bodyTimeoutMs: 500 });
      const started = performance.now();
      const error = await engine.request({ origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET', headers: {} }).catch((caught: unknown) => caught);
      expect(ENGINE_TIMEOUT_PHASES[(error as { code: string }).code]).toBe('no connection');
      expect(performance.now() - started).toBeLessThan(4_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('an abort signal ends the request', async () => {
    await using server = await startServer(() => undefined);
    await using engine = await pool(name);
    const controller = new AbortController();
    const pending = engine.request({ origin: server.origin, path: '/slow', method: 'GET', headers: {}, signal: controller.signal });
    setTimeout(() => { controller.abort(); }, 50);
    await expect(pending).rejects.toMatchObject({ name: expect.stringMatching(/Abort/) as unknown });
  });

  test('close() lets a request already answered finish, then refuses new ones', async () => {
    await using server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-length': '6' });
      response.write('abc');
      setTimeout(() => response.end('def'), 100);
    });
    const engine = (await loadHttpEngine(name)).createPool(POOL);
    const response = await engine.request({ origin: server.origin, path: '/', method: 'GET', headers: {} });
    const closed = engine.close();
    expect(await text(response)).toBe('abcdef');
    await closed;
    await expect(engine.request({ origin: server.origin, path: '/', method: 'GET', headers: {} })).rejects.toBeInstanceOf(Error);
  });

  test('a request refused before it is sent (a header value with a line break) fails, and close() still ends', async () => {
    await using server = await startServer();
    const engine = (await loadHttpEngine(name)).createPool(POOL);
    await expect(engine.request({ origin: server.origin, path: '/', method: 'GET', headers: { 'x-bad': 'a\r\nInjected: 1' } })).rejects.toBeInstanceOf(Error);
    await engine.close();
    expect(server.requests).toEqual([]);
  });

  test.runIf(hasBinary('openssl') || process.env['CI'] === 'true')('TLS: an unknown CA is refused, a given CA is trusted, rejectUnauthorized: false skips the check', async () => {
    await using server = await selfSignedServer({ 'content-type': 'text/plain' }, 'over tls');
    await using strict = await pool(name);
    const refused = await strict.request({ origin: server.origin, path: '/', method: 'GET', headers: {} }).catch((error: unknown) => error);
    expect((refused as { code?: string }).code).toMatch(/CERT|SELF_SIGNED|UNABLE_TO/);
    await using trusting = await pool(name, { ...POOL, ca: [server.pem] });
    expect(await text(await trusting.request({ origin: server.origin, path: '/', method: 'GET', headers: {} }))).toBe('over tls');
    await using insecure = await pool(name, { ...POOL, rejectUnauthorized: false });
    expect(await text(await insecure.request({ origin: server.origin, path: '/', method: 'GET', headers: {} }))).toBe('over tls');
  });

  test('through the client, a time-out is a `timeout` RegistryError naming the phase', async () => {
    await using server = await startServer((request, response) => {
      if (request.url.includes('/tags/list')) return;
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '500' });
      response.write('{');
    });
    await using t = testClient({ httpEngine: name, retries: 0, settings: { [server.host]: { timeoutMs: 150 } } });
    await expect(t.client.listTags(`${server.host}/a/b`)).rejects.toMatchObject({ code: 'timeout', message: expect.stringContaining('no response headers') as unknown });
    await expect(t.client.getManifest(`${server.host}/a/b:1`)).rejects.toMatchObject({ code: 'timeout', message: expect.stringContaining('the body stalled') as unknown });
  });

  test('through the client, a body cut short by the server is a network failure that does not read like the caller aborted (break-engine 5)', async () => {
    await using server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '500' });
      response.write('{"schemaVersion":');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    await using t = testClient({ httpEngine: name, retries: 0 });
    const error = await t.client.getManifest(`${server.host}/a/b:1`).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'network' });
    expect((error as Error).message).not.toMatch(/\(aborted\)|was aborted/);
  });
});
