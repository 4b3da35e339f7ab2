import { connect } from 'node:net';
import { expect, test } from 'vitest';

// The setup file every test project loads (tooling/vitest-network-guard.ts) refuses connections that leave
// the machine's loopback; this checks that it is in force, without any traffic leaving.
test('tests cannot open a connection to a non-loopback address', () => {
  expect(() => connect({ host: '192.0.2.1', port: 9 })).toThrow(/test network guard: refused a connection to 192\.0\.2\.1/);
  expect(() => connect(9, '198.51.100.7')).toThrow(/refused a connection to 198\.51\.100\.7/);
});

test('loopback connections are let through', async () => {
  const socket = connect({ host: '127.0.0.1', port: 9 });
  await new Promise<void>((resolve) => {
    socket.once('error', () => { resolve(); });
    socket.once('connect', () => { resolve(); });
  });
  socket.destroy();
});
