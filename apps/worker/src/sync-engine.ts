import type { Cache, RegistriesConfig, RegistryEvent } from '@scanner/registry';
import { createDockerConfigCredentials, createRegistryClient, loadRegistriesConfig, resolveRegistrySettings } from '@scanner/registry';
import { assembleMirrorConfig, planImage, readMirrorConfigFiles, syncPlan } from '@scanner/sync';
import type { ConfigIssue, MirrorImage, MirrorTarget } from '@scanner/sync';
import type { FileLoad, SyncEngine, TeamFile } from './engine.ts';

/** Options of {@link createSyncEngine}. */
export interface CreateSyncEngineOptions {
  /** The registries config file (endpoints, credentials, limits, source mirrors); without it Docker config credentials are used. */
  readonly registriesConfig: string | undefined;
  /** Plain HTTP and no TLS verification for every registry. */
  readonly insecure: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The scan cache (tag lists, digests); the engine closes it. */
  readonly cache: Cache;
  /** Upper bound of every cache entry's lifetime (entries the scanner stores without one get this). */
  readonly cacheTtlMs: number;
  readonly userAgent: string;
  /** Registry requests, for request counts in benchmarks and debug logs. */
  readonly onRegistryEvent?: (event: RegistryEvent) => void;
}

/**
 * Bounds every entry's lifetime: Redis runs with `noeviction` (BullMQ needs it), so a key without a TTL would
 * stay forever. Entries keep a shorter TTL the scanner gives them.
 */
export function withMaxTtl(cache: Cache, maxTtlMs: number): Cache {
  return {
    namespace: cache.namespace,
    get: (key, options) => cache.get(key, options),
    set: (key, value, options = {}) => cache.set(key, value, { ...options, ttlMs: Math.min(options.ttlMs ?? maxTtlMs, maxTtlMs) }),
    delete: (key, options) => cache.delete(key, options),
    close: async () => {
      await cache.close?.();
    },
  };
}

/**
 * The production {@link SyncEngine}: the registry client wired as the CLI wires it (registries config, Docker
 * config credentials, `--insecure`), `@scanner/sync`'s per-file config reader and assembly, `planImage` and
 * `syncPlan`.
 *
 * @throws RegistryError `config` when the registries config is invalid.
 */
export async function createSyncEngine(options: CreateSyncEngineOptions): Promise<SyncEngine> {
  let registries: RegistriesConfig | undefined;
  if (options.registriesConfig !== undefined && options.registriesConfig !== '') {
    registries = await loadRegistriesConfig(options.registriesConfig, { env: options.env });
  }
  const dockerConfig = registries === undefined ? createDockerConfigCredentials({ env: options.env }) : undefined;
  const overrides = options.insecure ? { insecure: true } : undefined;
  const client = createRegistryClient({
    userAgent: options.userAgent,
    ...(options.onRegistryEvent === undefined ? {} : { onEvent: options.onRegistryEvent }),
    settings: (registry) =>
      resolveRegistrySettings(registry, {
        ...(registries === undefined ? {} : { config: registries }),
        ...(dockerConfig === undefined ? {} : { dockerConfig }),
        ...(overrides === undefined ? {} : { overrides }),
      }),
  });
  const cache = withMaxTtl(options.cache, options.cacheTtlMs);
  let configDir: string | undefined;

  return {
    async loadDir(dir, fallbackTargets, signal) {
      const files = await readMirrorConfigFiles(dir, { signal });
      configDir = dir;
      const targetsFile = files.targets.ok ? files.targets.value : fallbackTargets === undefined ? undefined : { file: files.targets.file, targets: fallbackTargets };
      const targets: FileLoad<readonly MirrorTarget[]> = files.targets.ok
        ? { file: files.targets.file, ok: true, value: files.targets.value.targets }
        : { file: files.targets.file, ok: false, issues: files.targets.issues };
      if (targetsFile === undefined) {
        // No targets ever: team files cannot be resolved; report only their own problems.
        return { targets, teams: files.teams.map((team): FileLoad<TeamFile> => (team.ok ? { file: team.file, ok: true, value: { owner: team.value.owner, images: [] } } : team)) };
      }
      const valid = files.teams.flatMap((team) => (team.ok ? [team.value] : []));
      const assembled = assembleMirrorConfig(dir, targetsFile, valid);
      const issuesByFile = new Map<string, ConfigIssue[]>();
      for (const issue of assembled.issues) issuesByFile.set(issue.file, [...(issuesByFile.get(issue.file) ?? []), issue]);
      const imagesByFile = new Map<string, MirrorImage[]>();
      for (const image of assembled.config.images) imagesByFile.set(image.file, [...(imagesByFile.get(image.file) ?? []), image]);
      const teams = files.teams.map((team): FileLoad<TeamFile> => {
        if (!team.ok) return team;
        const issues = issuesByFile.get(team.file);
        // A problem across files (unknown target, colliding target repository) names the file that has it: that
        // file is invalid as a whole, so its last valid version stays in force.
        if (issues !== undefined) return { file: team.file, ok: false, issues };
        return { file: team.file, ok: true, value: { owner: team.value.owner, images: imagesByFile.get(team.file) ?? [] } };
      });
      return { targets, teams };
    },
    registryConcurrency: (registry) => registries?.matchEntry(registry)?.settings.concurrency,
    plan: (image, target, signal) => planImage(image, target, { client, signal, cache }),
    sync: (plan, signal, onEvent) => syncPlan(plan, { client, signal, onEvent, configDir }),
    async [Symbol.asyncDispose]() {
      await client.close();
      await cache.close?.();
    },
  };
}
