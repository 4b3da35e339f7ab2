#!/usr/bin/env node
import { main } from './main.ts';

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
