// Test support (excluded from the build): a scriptable HTTP server on a free loopback port.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, tempDir } from '@scanner/test-lab';
import { createRegistryClient } from './client.ts';
import type { RegistryClient, RegistryClientOptions } from './client.ts';
import type { RegistryEvent } from './events.ts';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => unknown;

export interface TestServer extends AsyncDisposable {
  /** `http://127.0.0.1:port` */
  readonly origin: string;
  /** `127.0.0.1:port`, the registry host in references. */
  readonly host: string;
  readonly requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startServer(handler: Handler = (_request, response) => {
  response.writeHead(404).end();
}): Promise<TestServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded = { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks) };
      requests.push(recorded);
      Promise.resolve(current(recorded, response)).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  let accepted = 0;
  server.on('connection', (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    connections: () => accepted,
    handle(next) {
      current = next;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.byteLength, ...headers });
  response.end(bytes);
}

export interface TestClient extends AsyncDisposable {
  readonly client: RegistryClient;
  readonly events: RegistryEvent[];
  /** Every delay the client asked to sleep for (sleeps return at once). */
  readonly sleeps: number[];
}

/** A client whose sleeps are instant and recorded, with events collected. */
export function testClient(options: RegistryClientOptions = {}): TestClient {
  const events: RegistryEvent[] = [];
  const sleeps: number[] = [];
  const client = createRegistryClient({
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { client, events, sleeps, [Symbol.asyncDispose]: () => client.close() };
}

/**
 * An HTTPS server on a free loopback port with a fresh self-signed certificate for 127.0.0.1 (made with
 * openssl), answering every request 200 with `body`; `pem` is the certificate, to trust it as a CA.
 */
export async function selfSignedServer(headers: Record<string, string>, body: string) {
  const dir = await tempDir('registry-tls-');
  const key = join(dir.path, 'key.pem');
  const cert = join(dir.path, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const pem = readFileSync(cert, 'utf8');
  const server = createHttpsServer({ key: readFileSync(key), cert: pem }, (_request, response) => {
    response.writeHead(200, headers).end(body);
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
