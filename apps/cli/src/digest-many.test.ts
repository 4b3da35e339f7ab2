import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '@scanner/test-lab';
import { expect, test } from 'vitest';
import { runCli } from './cli.fixture.ts';

const DIGEST = `sha256:${'c'.repeat(64)}`;

/** A registry that answers every manifest HEAD after `delayMs`, counting the requests it holds at once. */
async function slowRegistry(delayMs: number) {
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let most = 0;
  const server = createServer((request, response) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    setTimeout(() => {
      inFlight -= 1;
      const known = request.method === 'HEAD' && /\/manifests\/\d+$/.test(request.url ?? '');
      response.writeHead(known ? 200 : 404, known ? { 'docker-content-digest': DIGEST, 'content-type': 'application/vnd.oci.image.manifest.v1+json' } : {}).end();
    }, delayMs);
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    host: `127.0.0.1:${port}`,
    most: () => most,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

test('many images on a slow registry: each has its whole operation time-out, none is spent waiting for a slot (break-engine 1)', async () => {
  // 48 images at 150 ms each, 4 at a time: 12 rounds, 1.8 s in all, against a 1 s operation time-out per image.
  await using registry = await slowRegistry(150);
  await using dir = await tempDir('scanner-cli-digest-many-');
  const config = join(dir.path, 'registries.yaml');
  await writeFile(config, `registries:\n  - name: slow\n    prefix: ${registry.host}\n    concurrency: 4\n    operation_timeout: 1s\n`);
  const images = Array.from({ length: 48 }, (_, index) => `${registry.host}/team/app:${index}`);
  const run = await runCli(['digest', ...images, '--registries-config', config]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toBe(images.map((image) => `${image} ${DIGEST}\n`).join(''));
  expect(registry.most()).toBeLessThanOrEqual(4);
});

test('names are compared as resolved: repo and repo:latest are one image, and a failure names the image as resolved too (break-engine 6)', async () => {
  await using registry = await slowRegistry(0);
  const requests: string[] = [];
  const run = await runCli(['digest', `${registry.host}/team/app:1`, `${registry.host}/team/app`, `${registry.host}/team/app:latest`], {
    onEvent: (event) => event.type === 'request' && requests.push(event.url),
  });
  expect(run.code).toBe(1);
  expect(run.stdout).toBe(`${registry.host}/team/app:1 ${DIGEST}\n`);
  // One failure line per argument, both naming the resolved reference; one image, so HEAD and GET once each.
  expect(run.stderr.split('\n').filter(Boolean).map((line) => line.split(': ')[1])).toEqual([`${registry.host}/team/app:latest`, `${registry.host}/team/app:latest`]);
  expect(requests.filter((url) => url.endsWith('/manifests/latest'))).toHaveLength(2);
});
