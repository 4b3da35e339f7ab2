#!/usr/bin/env node
import module from 'node:module';

// Reuse V8's compiled code across runs (scripts call `scanner` once per image). Without a directory Node
// uses $NODE_COMPILE_CACHE, else <tmpdir>/node-compile-cache, which works when the install itself is
// read-only; when no cache can be written, Node says so in the return value and runs without one.
// Enabled before main is imported, so that the modules main loads are cached too.
module.enableCompileCache();

const { main } = await import('./main.ts');

const controller = new AbortController();
// The first Ctrl-C stops the command cleanly (connections closed, exit code 1); a second one kills it.
process.once('SIGINT', () => {
  controller.abort();
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
// Everything is written (stdout and stderr are synchronous for files and pipes on Linux and macOS). A socket
// of a request abandoned by Ctrl-C or --timeout must not keep the process alive: end it if it lingers.
setTimeout(() => process.exit(), 1000).unref();
// After Ctrl-C, at once: a scan's request that concurrent scans could have shared is not aborted with the
// caller, and its connection would hold the exit for that second (break-engine 7).
if (controller.signal.aborted) {
  let streams = 2;
  const flushed = (): void => {
    streams -= 1;
    if (streams === 0) process.exit();
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}
