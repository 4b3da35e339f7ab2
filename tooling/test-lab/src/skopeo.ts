import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildImage, buildIndex, writeDirLayout, writeOciLayout, type BuiltArtifact, type ImageSpec, type IndexSpec } from './image-fixture.ts';
import { runCommand } from './process.ts';
import type { Credentials, Registry } from './registry.ts';
import type { TokenServer } from './token-server.ts';
import { tempDir } from './temp-dir.ts';
import { TestLabError } from './errors.ts';

/** Flags for `skopeoCopy`. */
export interface SkopeoCopyOptions {
  srcCreds?: Credentials;
  destCreds?: Credentials;
  /** Copy every child of an index (`--all`); without it skopeo picks one platform. @default false */
  all?: boolean;
  /** Fail instead of changing a digest (`--preserve-digests`). @default true */
  preserveDigests?: boolean;
  /** Convert manifests (`--format`); conflicts with `preserveDigests` when it changes them. */
  format?: 'oci' | 'v2s2';
  signal?: AbortSignal;
  /** @default 60000 */
  timeoutMs?: number;
}

/** Flags for `skopeoInspectRaw`. */
export interface SkopeoInspectOptions {
  creds?: Credentials;
  /** Print the config blob instead of the manifest (`--config`). @default false */
  config?: boolean;
  signal?: AbortSignal;
  /** @default 30000 */
  timeoutMs?: number;
}

const POLICY = JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] });

function credsArg(flag: string, creds: Credentials | undefined): string[] {
  return creds ? [`${flag}=${creds.username}:${creds.password}`] : [];
}

/**
 * `skopeo copy SRC DEST` with TLS verification off on both sides (the lab's registries speak plain HTTP on
 * loopback), a permissive signature policy and an empty auth file so nothing from the machine leaks in.
 * `src`/`dest` are skopeo references (`oci:/dir:ref`, `docker://127.0.0.1:PORT/repo:tag`).
 */
export async function skopeoCopy(src: string, dest: string, options: SkopeoCopyOptions = {}): Promise<void> {
  await using dir = await tempDir('scanner-skopeo-');
  const policy = join(dir.path, 'policy.json');
  const authFile = join(dir.path, 'auth.json');
  await Promise.all([writeFile(policy, POLICY), writeFile(authFile, '{"auths":{}}')]);
  const args = [
    '--policy', policy,
    'copy',
    '--authfile', authFile,
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    '--retry-times', '0',
    ...credsArg('--src-creds', options.srcCreds),
    ...credsArg('--dest-creds', options.destCreds),
    ...(options.all ? ['--all'] : []),
    ...(options.preserveDigests ?? true ? ['--preserve-digests'] : []),
    ...(options.format ? ['--format', options.format] : []),
    src,
    dest,
  ];
  await runCommand('skopeo', args, {
    secrets: [options.srcCreds?.password ?? '', options.destCreds?.password ?? ''],
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** `skopeo inspect --raw REF`: the manifest (or config) bytes exactly as the registry serves them. */
export async function skopeoInspectRaw(ref: string, options: SkopeoInspectOptions = {}): Promise<string> {
  await using dir = await tempDir('scanner-skopeo-');
  const authFile = join(dir.path, 'auth.json');
  await writeFile(authFile, '{"auths":{}}');
  const args = ['inspect', '--raw', '--authfile', authFile, '--tls-verify=false', '--retry-times', '0', ...credsArg('--creds', options.creds), ...(options.config ? ['--config'] : []), ref];
  const { stdout } = await runCommand('skopeo', args, {
    secrets: [options.creds?.password ?? ''],
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return stdout;
}

function isBuilt(value: ImageSpec | IndexSpec | BuiltArtifact): value is BuiltArtifact {
  return 'kind' in value;
}

/** Parses `repo:tag` (no registry host, no digest). */
function parseRepoTag(reference: string): { repository: string; tag: string } {
  const match = /^([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*):([\w][\w.-]{0,127})$/.exec(reference);
  if (!match?.[1] || !match[2]) throw new TestLabError('INVALID_OPTION', `test-lab: seedImage wants "repository:tag" without a registry host or digest, got ${JSON.stringify(reference)}`);
  return { repository: match[1], tag: match[2] };
}

/**
 * Pushes an image or index into `registry` as `repository:tag` through skopeo (an independent client),
 * with the registry's credentials and digests preserved. Returns what was pushed so tests know the digests.
 */
export async function seedImage(
  registry: Pick<Registry, 'host' | 'credentials'>,
  reference: string,
  spec: ImageSpec | IndexSpec | BuiltArtifact = {},
  options: { signal?: AbortSignal } = {},
): Promise<BuiltArtifact> {
  const { repository, tag } = parseRepoTag(reference);
  const artifact = isBuilt(spec) ? spec : 'images' in spec ? buildIndex(spec) : buildImage(spec);
  await using layout = await tempDir('scanner-layout-');
  let source: string;
  if (artifact.mediaType.startsWith('application/vnd.oci.')) {
    await writeOciLayout(layout.path, [{ ref: 'seed', artifact }]);
    source = `oci:${layout.path}:seed`;
  } else {
    await writeDirLayout(layout.path, artifact);
    source = `dir:${layout.path}`;
  }
  await skopeoCopy(source, `docker://${registry.host}/${repository}:${tag}`, {
    ...(registry.credentials ? { destCreds: registry.credentials } : {}),
    all: artifact.kind === 'index',
    preserveDigests: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return artifact;
}

/** What `seedTags` needs to reach a registry (a `Registry`, or a proxy's address with the registry's auth). */
export interface SeedTarget {
  url: string;
  host: string;
  credentials: Credentials | undefined;
  tokenServer?: Pick<TokenServer, 'url' | 'service'> | undefined;
}

async function authorizationFor(target: SeedTarget, repository: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const credentials = target.credentials;
  if (credentials === undefined) return undefined;
  const basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  if (target.tokenServer === undefined) return basic;
  const url = new URL(target.tokenServer.url);
  url.searchParams.set('service', target.tokenServer.service);
  url.searchParams.set('scope', `repository:${repository}:pull,push`);
  const response = await fetch(url, { headers: { authorization: basic }, ...(signal ? { signal } : {}) });
  if (!response.ok) throw new TestLabError('COMMAND_FAILED', `test-lab: the token server refused a push token for ${repository} (${response.status})`);
  return `Bearer ${((await response.json()) as { token: string }).token}`;
}

/**
 * Seeds one artifact under several tags of one repository: skopeo pushes it once, then each further tag is
 * a manifest PUT. Seeding the same blobs into one repository concurrently makes distribution 2.8 answer 500
 * now and then, so this is the way to give a repository many tags.
 */
export async function seedTags(
  target: SeedTarget,
  repository: string,
  tags: readonly string[],
  spec: ImageSpec | IndexSpec | BuiltArtifact = {},
  options: { signal?: AbortSignal } = {},
): Promise<BuiltArtifact> {
  const [first, ...rest] = tags;
  if (first === undefined) throw new TestLabError('INVALID_OPTION', 'test-lab: seedTags needs at least one tag');
  for (const tag of rest) parseRepoTag(`${repository}:${tag}`);
  const artifact = await seedImage(target, `${repository}:${first}`, spec, options);
  if (rest.length === 0) return artifact;
  const authorization = await authorizationFor(target, repository, options.signal);
  const body = artifact.kind === 'index' ? artifact.indexBytes : artifact.manifestBytes;
  for (const tag of rest) {
    const response = await fetch(`${target.url}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': artifact.mediaType, ...(authorization ? { authorization } : {}) },
      body,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status !== 201) throw new TestLabError('COMMAND_FAILED', `test-lab: tagging ${repository}:${tag} answered ${response.status}: ${await response.text()}`);
    if (response.headers.get('docker-content-digest') !== artifact.digest) throw new TestLabError('COMMAND_FAILED', `test-lab: tagging ${repository}:${tag} stored digest ${String(response.headers.get('docker-content-digest'))}, expected ${artifact.digest}`);
  }
  return artifact;
}
