import {
  createDockerConfigCredentials,
  createRegistryClient,
  createScanner,
  loadRegistriesConfig,
  resolveRegistrySettings,
} from '@scanner/registry';
import type { Cache, RegistriesConfig, RegistryClient, RegistryEvent, Scanner } from '@scanner/registry';
import type { RegistryArgs } from './args.ts';

/** What a command runs with. `close()` releases the connection pools and the cache the CLI opened. */
export interface CommandContext {
  readonly client: RegistryClient;
  readonly scanner: Scanner;
  close(): Promise<void>;
}

export interface CreateContextOptions {
  readonly args: RegistryArgs;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Used for `--cache memory` instead of a new one, so that runs in one process share it. */
  readonly memoryCache: Cache | undefined;
  readonly userAgent: string;
  readonly onEvent: (event: RegistryEvent) => void;
  readonly onCacheError: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  /**
   * `--timeout` in milliseconds: the client's `operationTimeoutMs`, and over every registry's own
   * (`operation_timeout` in the registries config), so that the flag wins. @default the client's (60 s)
   */
  readonly operationTimeoutMs?: number | undefined;
}

/** The registries config named by `--registries-config`, else by `SCANNER_REGISTRIES_CONFIG`, if any. */
async function loadConfig(options: CreateContextOptions): Promise<RegistriesConfig | undefined> {
  const path = options.args.registriesConfig ?? options.env['SCANNER_REGISTRIES_CONFIG'];
  if (path === undefined || path === '') return undefined;
  return loadRegistriesConfig(path, { env: options.env, ...(options.signal === undefined ? {} : { signal: options.signal }) });
}

/**
 * Wires the packages together for one command: registry settings (registries config, Docker config
 * credentials, `--insecure`), the client, the cache and the scanner. Reads the registries config up front so
 * that an invalid file fails before any request.
 */
export async function createCommandContext(options: CreateContextOptions): Promise<CommandContext> {
  const config = await loadConfig(options);
  const dockerConfig = config === undefined ? createDockerConfigCredentials({ env: options.env }) : undefined;
  const { operationTimeoutMs } = options;
  const overrides =
    options.args.insecure || operationTimeoutMs !== undefined
      ? { ...(options.args.insecure ? { insecure: true } : {}), ...(operationTimeoutMs === undefined ? {} : { operationTimeoutMs }) }
      : undefined;
  const client = createRegistryClient({
    userAgent: options.userAgent,
    onEvent: options.onEvent,
    ...(operationTimeoutMs === undefined ? {} : { operationTimeoutMs }),
    settings: (registry) =>
      resolveRegistrySettings(registry, {
        ...(config === undefined ? {} : { config }),
        ...(dockerConfig === undefined ? {} : { dockerConfig }),
        ...(overrides === undefined ? {} : { overrides }),
      }),
  });

  const spec = options.args.cache;
  let cache: Cache | undefined;
  let owned = false;
  if (spec?.kind === 'memory') {
    cache = options.memoryCache;
    if (cache === undefined) {
      const { createMemoryCache } = await import('@scanner/cache-memory');
      cache = createMemoryCache({ namespace: 'scanner' });
      owned = true;
    }
  } else if (spec?.kind === 'redis') {
    // Loaded on demand: ioredis is the heaviest import and most runs use no cache.
    const { createRedisCache } = await import('@scanner/cache-redis');
    cache = createRedisCache({ url: spec.url, namespace: 'scanner' });
    owned = true;
  }

  const scanner = createScanner({
    client,
    ...(cache === undefined ? {} : { cache }),
    ...(options.args.cacheStrategy === undefined ? {} : { cacheStrategy: options.args.cacheStrategy }),
    onCacheError: options.onCacheError,
  });

  return {
    client,
    scanner,
    async close() {
      await client.close();
      if (owned) await cache?.close?.();
    },
  };
}
