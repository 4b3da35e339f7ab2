import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '@scanner/test-lab';
import { assembleMirrorConfig, parseTargetsFile, parseTeamFile } from '@scanner/sync';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const APP = join(import.meta.dirname, '..');
const DEPLOY = join(APP, 'deploy');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
};

/** Renders a Kustomize directory with the preinstalled kubectl, parses it, and validates every object. */
async function render(dir: string): Promise<Manifest[]> {
  const { stdout } = await runCommand('kubectl', ['kustomize', join(DEPLOY, dir)], { timeoutMs: 30_000 });
  const objects = parseAllDocuments(stdout).map((document) => document.toJSON() as Manifest);
  for (const object of objects) {
    // The API server decodes base64 with line breaks (Go's decoder skips them); kustomize wraps long values.
    if (object.kind === 'Secret') {
      const data = object['data'] as Record<string, string> | undefined;
      for (const key of Object.keys(data ?? {})) if (data !== undefined) data[key] = (data[key] ?? '').replace(/\s+/g, '');
    }
    const model = MODELS[`${object.apiVersion}/${object.kind}`];
    if (object.kind === 'ServiceMonitor') continue; // a CRD: checked by hand below
    expect(model, `${object.apiVersion} ${object.kind} has a schema`).toBeDefined();
    expect(() => {
      new model!(object as never).validate();
    }, `${object.kind}/${object.metadata.name}`).not.toThrow();
  }
  return objects;
}

const one = (objects: Manifest[], kind: string, name?: string) => {
  const found = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(object.metadata.name)));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0] as Manifest;
};

type Container = { name: string; image: string; args: string[]; env: { name: string; value?: string }[]; resources: { requests: Record<string, string>; limits: Record<string, string> }; livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } }; securityContext: Record<string, unknown>; volumeMounts: { name: string; mountPath: string }[] };
type PodSpec = { containers: Container[]; volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[]; securityContext: Record<string, unknown> };
const podOf = (deployment: Manifest) => (deployment['spec'] as { template: { spec: PodSpec } }).template.spec;

describe('the Kubernetes manifests', () => {
  it('render the base: a Deployment with probes, sized resources and a locked-down pod, its ConfigMap, Secret and Service', async () => {
    const objects = await render('base');
    expect(objects.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Secret', 'Service']);
    const deployment = one(objects, 'Deployment', 'scanner-worker');
    const pod = podOf(deployment);
    const [container] = pod.containers;
    expect(container?.image).toBe('ghcr.io/registry-scanner/scanner-worker:0.1.0');
    expect(container?.args).toEqual(['--config', '/etc/scanner-worker/config', '--listen', '0.0.0.0:8080']);
    expect(container?.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container?.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container?.resources.requests['memory']).toMatch(/^\d+Mi$/);
    expect(container?.resources.limits['memory']).toMatch(/^\d+Mi$/);
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container?.volumeMounts.map((mount) => mount.mountPath)).toContain('/tmp');

    // The volumes name the rendered objects (kustomize rewrote the Secret's hashed name).
    const configMap = one(objects, 'ConfigMap', 'scanner-worker-config');
    const secret = one(objects, 'Secret', 'scanner-worker-docker-config');
    expect(configMap.metadata.name).toBe('scanner-worker-config');
    expect(pod.volumes.find((volume) => volume.name === 'config')?.configMap?.name).toBe(configMap.metadata.name);
    expect(pod.volumes.find((volume) => volume.name === 'docker-config')?.secret?.secretName).toBe(secret.metadata.name);
    expect(secret['type']).toBe('kubernetes.io/dockerconfigjson');
    expect(container?.env.find((variable) => variable.name === 'DOCKER_CONFIG')?.value).toBe('/var/run/secrets/scanner-worker/docker');

    // The example config in the ConfigMap is a valid mirror config.
    const data = configMap['data'] as Record<string, string>;
    const targets = parseTargetsFile(data['targets.yaml'] ?? '');
    if (!targets.ok) throw new Error(JSON.stringify(targets.issues));
    const teams = Object.entries(data).filter(([file]) => file !== 'targets.yaml').map(([file, text]) => parseTeamFile(text, file));
    for (const team of teams) expect(team.ok, JSON.stringify(team.ok ? '' : team.issues)).toBe(true);
    expect(assembleMirrorConfig('/etc/scanner-worker/config', targets.value, teams.flatMap((team) => (team.ok ? [team.value] : []))).issues).toEqual([]);

    const service = one(objects, 'Service', 'scanner-worker');
    const selector = (service['spec'] as { selector: Record<string, string> }).selector;
    const podLabels = (deployment['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(podLabels).toMatchObject(selector);
  });

  it('render the scale-out overlay: three replicas rolling on one Redis', async () => {
    const objects = await render('overlays/scale-out');
    const worker = one(objects, 'Deployment', 'scanner-worker');
    expect((worker['spec'] as { replicas: number }).replicas).toBe(3);
    expect((worker['spec'] as { strategy: { type: string } }).strategy.type).toBe('RollingUpdate');
    const url = podOf(worker).containers[0]?.env.find((variable) => variable.name === 'SCANNER_REDIS_URL')?.value ?? '';
    const redisService = one(objects, 'Service', 'scanner-worker-redis');
    expect(new URL(url).hostname).toBe(redisService.metadata.name);
    const redis = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'scanner-worker-redis');
    expect(podOf(redis!).containers[0]?.args).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction']) as string[]);
  });

  it('render the ServiceMonitor component against the Service’s port and labels', async () => {
    const objects = await render('examples/monitored');
    const monitor = one(objects, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    const spec = monitor['spec'] as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
    const service = one(objects, 'Service', 'scanner-worker');
    expect(service.metadata.labels).toMatchObject(spec.selector.matchLabels);
    const ports = (service['spec'] as { ports: { name: string }[] }).ports.map((port) => port.name);
    expect(ports).toContain(spec.endpoints[0]?.port);
    expect(spec.endpoints[0]?.path).toBe('/metrics');
  });
});

describe('the Containerfile', () => {
  it('builds in stages on Node 24 slim and runs as a non-root user with only /tmp writable', async () => {
    const text = await readFile(join(APP, 'Containerfile'), 'utf8');
    const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    const froms = lines.filter((line) => line.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM docker\.io\/library\/node:24-[a-z]+-slim( AS \w+)?$/);
    // The last stage: a numeric non-root user, exec-form entrypoint, compile cache and HOME under /tmp.
    const final = text.slice(text.lastIndexOf('\nFROM '));
    expect(final).toMatch(/^USER (\d+):(\d+)$/m);
    expect(Number(/^USER (\d+)/m.exec(final)?.[1])).toBeGreaterThan(0);
    expect(final).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/bin\.js"\]$/m);
    expect(final).toContain('NODE_COMPILE_CACHE=/tmp/');
    expect(final).toContain('HOME=/tmp');
    expect(final).toMatch(/COPY --from=build /);
    expect(final).not.toMatch(/^RUN /m);
    expect(text).not.toMatch(/^ADD /m);
  });

  it('runs the built entry point the image runs', async () => {
    const manifest = JSON.parse(await readFile(join(APP, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    expect(manifest.bin['scanner-worker']).toBe('./dist/bin.js');
    expect(manifest.files).toContain('dist');
  });
});
