// The smallest `Cache` that lets one plan share a repository's tag list between its own listing and the
// scanner's metadata-needing selections (newest-build, platforms). A caller that wants more (sharing across
// plans or replicas) passes a real cache such as `@scanner/cache-memory` or `@scanner/cache-redis`.
import type { Cache } from '@scanner/registry';

/** A process-local cache for one plan: entries live as long as the plan (TTLs are honoured). */
export function createPlanCache(now: () => number = Date.now): Cache {
  const entries = new Map<string, { readonly json: string; readonly expiresAt: number }>();
  return {
    namespace: 'scanner-sync-plan',
    get<T>(key: string): Promise<T | undefined> {
      const entry = entries.get(key);
      if (entry === undefined) return Promise.resolve(undefined);
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return Promise.resolve(undefined);
      }
      return Promise.resolve(JSON.parse(entry.json) as T);
    },
    set(key, value, options = {}) {
      const ttlMs = options.ttlMs;
      entries.set(key, { json: JSON.stringify(value), expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now() + ttlMs });
      return Promise.resolve();
    },
    delete(key) {
      entries.delete(key);
      return Promise.resolve();
    },
  };
}
