// The subpath, not the index: the index re-exports the scanner and the mirroring code, and a bundle that
// imports it loads them for every command (measured with `pnpm bench -- cli`).
import { createRegistryClientFromConfig } from '@scanner/registry/from-config';
import type { Cache, HttpEngineName, RegistryClient, RegistryEvent, Scanner } from '@scanner/registry';
import type { RegistryArgs } from './args.ts';

/** What a command runs with. `close()` releases the connection pools and the cache the CLI opened. */
export interface CommandContext {
  readonly client: RegistryClient;
  /** The caching scanner (`tags`, `select`), made on first call: `digest` and `inspect` use the client alone. */
  scanner(): Promise<Scanner>;
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
  /**
   * The registry client's HTTP engine: `node` for the one-shot scan commands, which send a few requests and
   * exit (Node's built-in client starts about 50 ms sooner); undici for `plan` and `sync`, which send many.
   * @default 'undici'
   */
  readonly httpEngine?: HttpEngineName;
}

/** The registries config named by `--registries-config`, else by `SCANNER_REGISTRIES_CONFIG`, if any. */
function configPath(options: CreateContextOptions): string | undefined {
  const path = options.args.registriesConfig ?? options.env['SCANNER_REGISTRIES_CONFIG'];
  return path === '' ? undefined : path;
}

/**
 * Wires the packages together for one command with `createRegistryClientFromConfig`: registry settings from
 * the registries config (whose `default: true` entry receives names without a registry, such as `lab/web`) or
 * the Docker config, then `--insecure` and `--timeout` over every registry; the cache and the scanner. Reads
 * the registries config up front so that an invalid file fails before any request. Resolve IMAGE arguments
 * with `client.resolveReference`, so that they go where the config sends them.
 */
export async function createCommandContext(options: CreateContextOptions): Promise<CommandContext> {
  const { operationTimeoutMs } = options;
  const overrides =
    options.args.insecure || operationTimeoutMs !== undefined
      ? { ...(options.args.insecure ? { insecure: true } : {}), ...(operationTimeoutMs === undefined ? {} : { operationTimeoutMs }) }
      : undefined;
  const registriesConfig = configPath(options);
  const client = await createRegistryClientFromConfig({
    userAgent: options.userAgent,
    ...(options.httpEngine === undefined ? {} : { httpEngine: options.httpEngine }),
    onEvent: options.onEvent,
    env: options.env,
    ...(registriesConfig === undefined ? {} : { registriesConfig }),
    ...(operationTimeoutMs === undefined ? {} : { operationTimeoutMs }),
    ...(overrides === undefined ? {} : { overrides }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
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

  let scanner: Promise<Scanner> | undefined;
  return {
    client,
    scanner() {
      scanner ??= import('@scanner/registry/scanner').then(({ createScanner }) =>
        createScanner({
          client,
          ...(cache === undefined ? {} : { cache }),
          ...(options.args.cacheStrategy === undefined ? {} : { cacheStrategy: options.args.cacheStrategy }),
          onCacheError: options.onCacheError,
        }),
      );
      return scanner;
    },
    async close() {
      await client.close();
      if (owned) await cache?.close?.();
    },
  };
}
