// The lab of the sync tests: a source registry (open) and two targets (htpasswd, token auth), each behind a
// fault proxy, all real CNCF distribution registries from test-lab; plans built by hand from fixture images.
import { createHash } from 'node:crypto';
import { createRegistryClient } from '@scanner/registry';
import type { CredentialProvider, RegistryClient, RegistryClientOptions, RegistrySettingsInput } from '@scanner/registry';
import { seedImage, skopeoInspectRaw, startFaultProxy, startRegistry } from '@scanner/test-lab';
import type { Credentials, FaultProxy, Registry } from '@scanner/test-lab';
import type { PlanItem } from './types.ts';

export interface LabRegistry {
  readonly name: 'source' | 'main' | 'regional';
  readonly registry: Registry;
  readonly proxy: FaultProxy;
  /** The proxy's `127.0.0.1:PORT`: the registry host in references. */
  readonly host: string;
}

export interface Lab extends AsyncDisposable {
  readonly source: LabRegistry;
  readonly main: LabRegistry;
  readonly regional: LabRegistry;
  /** Every password of the lab, to check that none leaks. */
  readonly secrets: readonly string[];
  /** A client with the lab's credentials; `override` replaces settings per host. */
  client(options?: RegistryClientOptions & { readonly override?: Readonly<Record<string, RegistrySettingsInput>> }): RegistryClient;
  /** The digest of `reference` (`host/repo:tag`) as skopeo sees it (`skopeo inspect --raw`), or undefined when absent. */
  skopeoDigest(reference: string): Promise<string | undefined>;
}

export function provider(credentials: Credentials | undefined): CredentialProvider {
  return { description: 'test', get: () => Promise.resolve(credentials === undefined ? undefined : { kind: 'basic', ...credentials }) };
}

export function sha256(text: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Starts the three registries and their proxies. */
export async function startLab(): Promise<Lab> {
  const started: AsyncDisposable[] = [];
  try {
    const make = async (name: LabRegistry['name'], auth: 'none' | 'basic' | 'token'): Promise<LabRegistry> => {
      const registry = await startRegistry({ auth });
      started.push(registry);
      const proxy = await startFaultProxy({ upstream: registry.url });
      started.push(proxy);
      return { name, registry, proxy, host: proxy.host };
    };
    const [source, main, regional] = await Promise.all([make('source', 'none'), make('main', 'basic'), make('regional', 'token')]);
    const byHost = new Map([source, main, regional].map((lab) => [lab.host, lab]));
    const settings = (override: Readonly<Record<string, RegistrySettingsInput>> = {}): Record<string, RegistrySettingsInput> => ({
      [main.host]: { credentials: provider(main.registry.credentials) },
      [regional.host]: { credentials: provider(regional.registry.credentials) },
      ...override,
    });
    return {
      source,
      main,
      regional,
      secrets: [main.registry.credentials?.password ?? '', regional.registry.credentials?.password ?? ''].filter((secret) => secret !== ''),
      client: (options = {}) => {
        const { override, ...rest } = options;
        return createRegistryClient({ retryBaseMs: 10, retryMaxMs: 50, ...rest, settings: settings(override) });
      },
      async skopeoDigest(reference) {
        const host = reference.slice(0, reference.indexOf('/'));
        const lab = byHost.get(host);
        const direct = lab === undefined ? reference : `${lab.registry.host}${reference.slice(host.length)}`;
        try {
          const raw = await skopeoInspectRaw(`docker://${direct}`, lab?.registry.credentials === undefined ? {} : { creds: lab.registry.credentials });
          return sha256(raw);
        } catch (error) {
          if (/manifest unknown|not found|name unknown/i.test(String(error))) return undefined;
          throw error;
        }
      },
      async [Symbol.asyncDispose]() {
        await Promise.allSettled(started.reverse().map((resource) => resource[Symbol.asyncDispose]()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.reverse().map((resource) => resource[Symbol.asyncDispose]()));
    throw error;
  }
}

/** Seeds `repository:tag` in the source registry (straight to the registry, not through its proxy). */
export function seed(lab: Lab, reference: string, spec: Parameters<typeof seedImage>[2]): ReturnType<typeof seedImage> {
  return seedImage(lab.source.registry, reference, spec);
}

/**
 * A hand-made plan item from `source` (`repo:tag` in the source) to a lab target; `fields.target` is the target
 * `repo:tag` (default: the source's).
 */
export function item(lab: Lab, source: string, target: LabRegistry, fields: Partial<PlanItem> = {}): PlanItem {
  const { target: path = source, ...rest } = fields;
  return {
    owner: 'team-storage',
    targetName: target.name,
    source: `${lab.source.host}/${source}`,
    target: `${target.host}/${path}`,
    action: 'copy',
    sourceDigest: null,
    targetDigest: null,
    imageId: `team-storage.yaml#${source.split(/[:@]/)[0] ?? source}`,
    file: 'team-storage.yaml',
    mutable: false,
    referrers: true,
    provenance: false,
    ...rest,
  };
}

/** Blob upload completions (`PUT …/blobs/uploads/…?digest=`) a proxy saw, by digest. */
export function blobPuts(proxy: FaultProxy): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of proxy.requests()) {
    if (request.method !== 'PUT' || !request.path.includes('/blobs/uploads/')) continue;
    const digest = new URL(request.path, 'http://x').searchParams.get('digest');
    if (digest !== null && request.status === 201) counts.set(digest, (counts.get(digest) ?? 0) + 1);
  }
  return counts;
}
