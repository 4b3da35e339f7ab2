import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';

/** Options of {@link watchConfigDir}. */
export interface WatchConfigDirOptions {
  readonly dir: string;
  /** Quiet time after the last change before `onChange` runs. @default 300 */
  readonly debounceMs?: number;
  readonly onChange: () => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Watches the config directory itself, not its files: an editor's rename-over and a Kubernetes ConfigMap update
 * (the kubelet writes a new `..<timestamp>` directory and swaps the `..data` symlink in one rename) both show
 * up as events on the directory, while a watch on a file would stay on the old inode. Bursts of events become one
 * `onChange` after `debounceMs` of quiet.
 */
export function watchConfigDir(options: WatchConfigDirOptions): Disposable {
  const debounceMs = options.debounceMs ?? 300;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined = watch(options.dir, { persistent: false }, () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      options.onChange();
    }, debounceMs);
  });
  watcher.on('error', options.onError);
  return {
    [Symbol.dispose]() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      watcher?.close();
      watcher = undefined;
    },
  };
}
