#!/usr/bin/env node
// The published `scanner` executable (dist/bin.cjs; CommonJS, which starts without the ESM loader). It runs the
// CLI bundle (dist/cli.cjs, built by build.mjs from run.ts) and the libraries vendored beside it
// (dist/vendor/*.cjs) through `vm.Script`, with V8 code caches written after a run rather than before it.
// Node's module compile cache is made when a module is compiled, so it holds only what V8 compiled eagerly, and
// every function a command calls is compiled again in each process; scripts call `scanner digest` once per
// image. With the functions of the last run of the same command in the cache, `scanner digest` starts about
// 15 ms sooner (`pnpm bench -- cli`). Anything wrong with a cache (missing, unreadable, another user's,
// rejected by V8) means running without it and writing a new one after a successful run.
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

// A hash of dist/ made by build.mjs: caches of another build are never read, even one of the same size and
// date (a tarball's files all carry one date). 'source' when run unbuilt.
declare const SCANNER_BUILD_ID: string | undefined;
const BUILD_ID = typeof SCANNER_BUILD_ID === 'string' ? SCANNER_BUILD_ID : 'source';
const COMMANDS = new Set(['tags', 'select', 'digest', 'inspect', 'plan', 'sync', 'convert']);
/** Caches larger than this are not read (a planted device or FIFO could be endless). */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/** Key directories (builds × Node versions) kept side by side; the least recently written go first. */
const KEPT_KEYS = 8;

// Node's own compile cache still serves the installed dependencies (undici, ioredis, re2js).
module.enableCompileCache();

const directory = dirname(fileURLToPath(import.meta.url));
const uid = process.getuid?.();
const cacheDirectory = codeCacheDirectory();
// The command word, wherever it is among the flags; usage errors, `--help` and the like share `other`.
const command = process.argv.slice(2).find((arg) => COMMANDS.has(arg)) ?? 'other';
const vendored = new Map<string, unknown>();
const { runProcess } = runCached(join(directory, 'cli.cjs')) as { runProcess: () => Promise<void> };
void runProcess();

/**
 * Runs one CommonJS file of dist/ with its code cache and returns its exports. The bundle's `require` of
 * `./vendor/…` comes back here, so that the libraries it loads on demand are cached the same way.
 */
function runCached(file: string): unknown {
  // ASCII (build.mjs checks), so latin1: the same text without a UTF-8 decode of the whole file.
  const source = readFileSync(file, 'latin1');
  const cacheFile = cacheFileFor(file);
  const cached = cacheFile === undefined ? undefined : readCodeCache(cacheFile);
  const script = new Script(module.wrap(source), { filename: file, ...(cached === undefined ? {} : { cachedData: cached }) });
  if (cacheFile !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    process.once('exit', (code) => {
      // Only a run that did its work: a usage error or an interrupted run compiles a fraction of it.
      if (code === 0) saveCodeCache(cacheFile, script);
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
 * `<key directory>/<command>.<file>.<size>-<mtime>.bin`: one cache per command and file (each command compiles
 * other functions); the file's size and date make an edit after the build (a patched vendored library) miss.
 */
function cacheFileFor(file: string): string | undefined {
  if (cacheDirectory === undefined) return undefined;
  try {
    const { size, mtimeMs } = statSync(file);
    return join(cacheDirectory, `${command}.${basename(file, '.cjs')}.${size}-${Math.trunc(mtimeMs)}.bin`);
  } catch {
    return undefined;
  }
}

/**
 * A directory only this user can change: theirs, not a link, not writable by group or others. On Windows
 * (no uids) the temporary directory is the user's own.
 */
function isPrivateDirectory(path: string): boolean {
  const status = lstatSync(path);
  return status.isDirectory() && (uid === undefined || (status.uid === uid && (status.mode & 0o022) === 0));
}

/** The cache, if its directories are private to this user and it is a regular file of theirs of sane size. */
function readCodeCache(file: string): Buffer | undefined {
  try {
    const keyDirectory = dirname(file);
    if (!isPrivateDirectory(dirname(keyDirectory)) || !isPrivateDirectory(keyDirectory)) return undefined;
    const status = lstatSync(file);
    if (!status.isFile() || status.size > MAX_CACHE_BYTES || (uid !== undefined && status.uid !== uid)) return undefined;
    return readFileSync(file);
  } catch {
    // No cache yet.
    return undefined;
  }
}

/**
 * `<NODE_COMPILE_CACHE or <tmpdir>/node-compile-cache>/scanner/<Node version>-<arch>-<build id>/`. Undefined
 * when caching is off (`NODE_DISABLE_COMPILE_CACHE`, as for Node's own cache).
 */
function codeCacheDirectory(): string | undefined {
  if (process.env['NODE_DISABLE_COMPILE_CACHE'] !== undefined && process.env['NODE_DISABLE_COMPILE_CACHE'] !== '') return undefined;
  const base = process.env['NODE_COMPILE_CACHE'] || join(tmpdir(), 'node-compile-cache');
  return join(base, 'scanner', `${process.version}-${process.arch}-${BUILD_ID}`);
}

/**
 * Writes the cache of everything compiled in this run. The directories may be in a shared tmpdir: each is
 * created private (0700) and checked before use, the file is created exclusively (never through a link
 * planted there) and renamed into place, and nothing is written into a directory another user could change.
 * V8 checks what it reads back (its version, flags, the source's length and the payload's length). Older
 * caches of the same command and file go, and key directories beyond the newest few.
 */
function saveCodeCache(file: string, compiled: Script): void {
  try {
    const keyDirectory = dirname(file);
    const parent = dirname(keyDirectory);
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    if (!isPrivateDirectory(parent)) return;
    mkdirSync(keyDirectory, { recursive: true, mode: 0o700 });
    if (!isPrivateDirectory(keyDirectory)) return;
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, compiled.createCachedData(), { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
    const prefix = basename(file).replace(/\.[0-9]+-[0-9]+\.bin$/, '.');
    for (const entry of readdirSync(keyDirectory)) {
      if (entry.startsWith(prefix) && entry !== basename(file)) rmSync(join(keyDirectory, entry), { force: true });
    }
    const keys = readdirSync(parent)
      .map((entry) => ({ path: join(parent, entry), mtimeMs: lstatSync(join(parent, entry)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const key of keys.slice(KEPT_KEYS)) rmSync(key.path, { recursive: true, force: true });
  } catch {
    // A cache that cannot be written only costs the next run its speed-up.
  }
}
