// Test setup: refuse, inside the test process, every outgoing TCP connection that is not to a loopback
// address. Tests start their own servers on 127.0.0.1; a test that goes wrong (a client following a hostile
// realm, redirect or link) then fails with a clear error instead of sending traffic to another host.
import net from 'node:net';

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|localhost|::1|\[::1\]|::ffff:127(?:\.\d{1,3}){3})$/i;

function targetHost(args: unknown[]): string | undefined {
  const [first, second] = args;
  if (Array.isArray(first)) return targetHost(first as unknown[]);
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: unknown; path?: unknown };
    if (typeof options.path === 'string') return undefined; // a Unix socket
    return typeof options.host === 'string' ? options.host : 'localhost';
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return typeof second === 'string' ? second : 'localhost';
  }
  return undefined; // a Unix socket path
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const host = targetHost(args);
  if (host !== undefined && !LOOPBACK.test(host)) {
    throw new Error(`test network guard: refused a connection to ${host}; tests may only reach loopback addresses`);
  }
  return (connect as (...rest: unknown[]) => net.Socket).apply(this, args);
} as typeof connect;
