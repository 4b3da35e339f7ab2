#!/usr/bin/env node
// The entry when run from source (`pnpm scanner`, tests). The published executable is launch.ts, which runs
// the same `runProcess` from the bundle with a code cache of its own.
import module from 'node:module';

// Reuse V8's compiled code across runs. Without a directory Node uses $NODE_COMPILE_CACHE, else
// <tmpdir>/node-compile-cache; when no cache can be written, Node runs without one. Enabled before the CLI is
// imported, so that the modules it loads are cached too.
module.enableCompileCache();

const { runProcess } = await import('./run.ts');
await runProcess();
