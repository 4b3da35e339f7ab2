import type { z } from 'zod';

/**
 * A zod schema built on first use: zod is imported then, not when the module that declares the schema is
 * evaluated, so a process that never validates a response, config or cache entry never loads it (the CLI
 * runs once per image, and zod is a large share of its start-up).
 */
export function lazySchema<T>(build: (zod: typeof z) => T): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => (built ??= import('zod').then(({ z: zod }) => build(zod)));
}
