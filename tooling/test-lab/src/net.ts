import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestLabError } from './errors.ts';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === 'string') throw new TestLabError('START_FAILED', 'test-lab: could not read a free port');
  return address.port;
}

/** How long `waitForPort` waits, and when it gives up early. */
export interface WaitForPortOptions {
  /** @default 15000 */
  timeoutMs?: number;
  /** Stops waiting early once this returns false (the process died). */
  isAlive?: () => boolean;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, { timeoutMs = 15_000, isAlive = () => true }: WaitForPortOptions = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => { socket.destroy(); resolve(false); });
    });
    if (open) return;
    if (!isAlive()) throw new TestLabError('START_FAILED', `test-lab: the process meant to listen on port ${port} exited`);
    if (Date.now() > deadline) throw new TestLabError('TIMEOUT', `test-lab: nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}
