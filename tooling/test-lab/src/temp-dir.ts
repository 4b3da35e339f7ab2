import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp directory that removes itself on dispose. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

// Directories not disposed when this process exits (a crashed test, a forgotten dispose) are removed then;
// 'exit' handlers must be synchronous.
const live = new Set<string>();
let exitHookInstalled = false;

/** A fresh directory under the OS temp dir, removed on dispose (or, failing that, when the process exits). */
export async function tempDir(prefix = 'scanner-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const dir of live) rmSync(dir, { recursive: true, force: true });
    });
  }
  live.add(path);
  return {
    path,
    [Symbol.asyncDispose]: async () => {
      await rm(path, { recursive: true, force: true });
      live.delete(path);
    },
  };
}
