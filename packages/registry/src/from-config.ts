import { createRegistryClient } from './client.ts';
import type { RegistryClient, RegistryClientOptions } from './client.ts';
import { createDockerConfigCredentials } from './docker-config.ts';
import type { DockerConfigCredentials } from './docker-config.ts';
import { loadRegistriesConfig, resolveRegistrySettings } from './registries-config.ts';
import type { RegistriesConfig, RegistriesConfigOptions } from './registries-config.ts';
import type { RegistrySettings } from './settings.ts';

/** Options of {@link createRegistryClientFromConfig}: the client's options plus where its settings come from. */
export interface RegistryClientFromConfigOptions
  extends Omit<RegistryClientOptions, 'settings' | 'defaultRegistry'>,
    Pick<RegistriesConfigOptions, 'homeDir' | 'readKubernetesSecret'> {
  /**
   * A registries config (Argo CD Image Updater's `registries.conf` format): a file path, or a config already
   * parsed with `loadRegistriesConfig`/`parseRegistriesConfig`. Its `default: true` entry becomes the client's
   * `defaultRegistry`. Without one, every registry gets defaults and Docker config credentials.
   */
  readonly registriesConfig?: string | RegistriesConfig;
  /**
   * The environment for `env:VAR` credentials, `$DOCKER_CONFIG` and credential helpers. Nothing else is read
   * from it (the CLI's `SCANNER_REGISTRIES_CONFIG` is the CLI's business).
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Docker `config.json` credentials for registries the config gives none; `false` for none.
   * @default createDockerConfigCredentials({ env, homeDir })
   */
  readonly dockerConfig?: DockerConfigCredentials | false;
  /**
   * Applied over every registry's settings, last: `{ insecure: true }` for a `--insecure` flag,
   * `{ operationTimeoutMs }` for a `--timeout` flag that should win over the config.
   */
  readonly overrides?: Partial<Omit<RegistrySettings, 'registry'>>;
  /** Aborts reading the config file and its `ca_file`s. */
  readonly signal?: AbortSignal;
}

/**
 * A registry client wired the way the CLI wires it: per-registry settings from a registries config file (its
 * credentials, TLS, limits, time-outs, mirrors, and its `default: true` entry for names without a registry),
 * Docker `config.json` credentials for the rest, then `overrides`. Reads the file up front, so an invalid file
 * fails here (`config` error naming file and key path) before any request. Close the client when done
 * (`await using client = await createRegistryClientFromConfig(…)`).
 *
 * @example
 * await using client = await createRegistryClientFromConfig({ registriesConfig: '/etc/scanner/registries.conf' });
 * const tags = await client.listTags('lab/web'); // goes to the default: true entry, not Docker Hub
 */
export async function createRegistryClientFromConfig(options: RegistryClientFromConfigOptions = {}): Promise<RegistryClient> {
  const { registriesConfig, env, homeDir, readKubernetesSecret, dockerConfig, overrides, signal, ...clientOptions } = options;
  const given = {
    ...(env === undefined ? {} : { env }),
    ...(homeDir === undefined ? {} : { homeDir }),
  };
  const config =
    typeof registriesConfig === 'string'
      ? await loadRegistriesConfig(registriesConfig, {
          ...given,
          ...(readKubernetesSecret === undefined ? {} : { readKubernetesSecret }),
          ...(dockerConfig === undefined ? {} : { dockerConfig }),
          ...(signal === undefined ? {} : { signal }),
        })
      : registriesConfig;
  // Without a config, unmatched registries still get Docker's credentials; the config brings its own fallback.
  const fallback = config === undefined ? (dockerConfig ?? createDockerConfigCredentials(given)) : undefined;
  const defaultRegistry = config?.defaultEntry?.settings.registry;
  return createRegistryClient({
    ...clientOptions,
    ...(defaultRegistry === undefined ? {} : { defaultRegistry }),
    settings: (registry) =>
      resolveRegistrySettings(registry, {
        ...(config === undefined ? {} : { config }),
        ...(fallback === undefined ? {} : { dockerConfig: fallback }),
        ...(overrides === undefined ? {} : { overrides }),
      }),
  });
}
