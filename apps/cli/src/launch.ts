#!/usr/bin/env node
// The published `scanner` executable (dist/bin.cjs; CommonJS, which starts without the ESM loader). It runs the
// CLI bundle (dist/cli.cjs, built by build.mjs from run.ts) and the libraries vendored beside it
// (dist/vendor/*.cjs) through `vm.Script`, with V8 code caches written after a run rather than before it.
// Node's module compile cache is made when a module is compiled, so it holds only what V8 compiled eagerly, and
// every function a command calls is compiled again in each process; scripts call `scanner digest` once per
// image. With the functions of the last run of the same command in the cache, `scanner digest` starts about
// 15 ms sooner (`pnpm bench -- cli`). Anything wrong with a cache (missing, unreadable, another user's,
// rejected by V8) means running without it and writing a new one.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

// Node's own compile cache still serves the installed dependencies (undici, ioredis, re2js).
module.enableCompileCache();

const directory = dirname(fileURLToPath(import.meta.url));
const bundle = join(directory, 'cli.cjs');
const cacheDirectory = codeCacheDirectory();
const command = /^[a-z]{1,16}$/.test(process.argv[2] ?? '') ? (process.argv[2] as string) : 'other';
const vendored = new Map<string, unknown>();
const { runProcess } = runCached(bundle) as { runProcess: () => Promise<void> };
void runProcess();

/**
 * Runs one CommonJS file of dist/ with its code cache and returns its exports. The bundle's `require` of
 * `./vendor/…` comes back here, so that the libraries it loads on demand are cached the same way.
 */
function runCached(file: string): unknown {
  // ASCII (build.mjs checks), so latin1: the same text without a UTF-8 decode of the whole file.
  const source = readFileSync(file, 'latin1');
  const cacheFile = cacheDirectory === undefined ? undefined : join(cacheDirectory, `${command}.${basename(file, '.cjs')}.bin`);
  let cached: Buffer | undefined;
  try {
    // Only a cache this user wrote (saveCodeCache makes it 0600 in a 0700 directory of theirs).
    if (cacheFile !== undefined && statSync(cacheFile).uid === process.getuid?.()) cached = readFileSync(cacheFile);
  } catch {
    // No cache yet.
  }
  const script = new Script(module.wrap(source), { filename: file, ...(cached === undefined ? {} : { cachedData: cached }) });
  if (cacheFile !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    process.once('exit', () => {
      saveCodeCache(cacheFile, script);
    });
  }
  const nodeRequire = module.createRequire(file);
  const require = (id: string): unknown => {
    if (!id.startsWith('./vendor/')) return nodeRequire(id);
    const path = join(directory, id);
    if (!vendored.has(path)) vendored.set(path, runCached(path));
    return vendored.get(path);
  };
  const cjsModule = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void).call(cjsModule.exports, cjsModule.exports, require, cjsModule, file, dirname(file));
  return cjsModule.exports;
}

/**
 * `<NODE_COMPILE_CACHE or <tmpdir>/node-compile-cache>/scanner/<key>/`, holding `<command>.<file>.bin`: one
 * cache per command and file (each command compiles other functions), under a key that changes with the bundle
 * and the Node that runs it. Undefined when caching is off (`NODE_DISABLE_COMPILE_CACHE`, as for Node's own).
 */
function codeCacheDirectory(): string | undefined {
  if (process.env['NODE_DISABLE_COMPILE_CACHE'] !== undefined && process.env['NODE_DISABLE_COMPILE_CACHE'] !== '') return undefined;
  try {
    const { size, mtimeMs } = statSync(bundle);
    const key = `${process.version}-${process.arch}-${size}-${Math.trunc(mtimeMs)}`;
    return join(process.env['NODE_COMPILE_CACHE'] || join(tmpdir(), 'node-compile-cache'), 'scanner', key);
  } catch {
    return undefined;
  }
}

/**
 * Writes the cache of everything compiled in this run, for this user only, and drops older keys. The directory
 * may be in a shared tmpdir, so nothing is written unless the directories are this user's and not writable by
 * others, and the file is created exclusively (never through a link planted there) and renamed into place.
 * V8 checks what it reads back (its version, flags, the source's length and the payload's length).
 */
function saveCodeCache(file: string, compiled: Script): void {
  try {
    const keyDirectory = dirname(file);
    const parent = dirname(keyDirectory);
    mkdirSync(keyDirectory, { recursive: true, mode: 0o700 });
    for (const path of [parent, keyDirectory]) {
      const status = statSync(path);
      if (status.uid !== process.getuid?.() || (status.mode & 0o022) !== 0) return;
    }
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, compiled.createCachedData(), { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
    for (const entry of readdirSync(parent)) {
      if (join(parent, entry) !== keyDirectory) rmSync(join(parent, entry), { recursive: true, force: true });
    }
  } catch {
    // A cache that cannot be written only costs the next run its speed-up.
  }
}
