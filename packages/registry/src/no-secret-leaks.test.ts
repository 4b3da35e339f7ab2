import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@scanner/test-lab';
import { expect, test } from 'vitest';
import { parseCredentialSource } from './credentials.ts';
import { createDockerConfigCredentials, createDockerConfigJsonCredentials } from './docker-config.ts';
import { resolveEndpoint } from './endpoint.ts';
import { parseRegistriesConfig } from './registries-config.ts';
import type { CredentialProvider } from './settings.ts';

const SECRET = 'Pl4nted-S3cret-9f8e7d';

async function executable(path: string, body: string): Promise<void> {
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
}

async function failureOf(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** Everything a log line could show of an error: message, stack and the whole cause chain. */
function visibleText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    parts.push(current.message, current.stack ?? '', JSON.stringify(current));
    current = current.cause;
  }
  parts.push(String(current));
  return parts.join('\n');
}

test('no error message, cause or description this module produces contains a planted secret', async () => {
  await using dir = await tempDir();
  const bin = join(dir.path, 'bin');
  await mkdir(bin);
  await executable(join(bin, 'docker-credential-failing'), `echo "${SECRET}"; echo "${SECRET}" >&2; exit 1`);
  await executable(join(bin, 'docker-credential-garbled'), `echo "not json ${SECRET}"`);
  await executable(join(bin, 'docker-credential-partial'), `echo '{"Secret":"${SECRET}"}'`);
  await executable(join(dir.path, 'fails.sh'), `echo "user:${SECRET}"; echo "${SECRET}" >&2; exit 1`);
  await executable(join(dir.path, 'nocolon.sh'), `echo "${SECRET}"`);
  await executable(join(dir.path, 'slow.sh'), `echo "user:${SECRET}"; sleep 30`);
  const configDir = (name: string): string => join(dir.path, name);
  const writeConfig = async (name: string, text: string): Promise<string> => {
    await mkdir(configDir(name));
    await writeFile(join(configDir(name), 'config.json'), text);
    return configDir(name);
  };
  const env = { PATH: `${bin}:/usr/bin:/bin`, NO_COLON: SECRET, GOOD: `user:${SECRET}` };

  const providers: CredentialProvider[] = [
    parseCredentialSource(`user:${SECRET}`),
    parseCredentialSource({ username: 'user', password: SECRET }),
    parseCredentialSource({ identityToken: SECRET }),
    parseCredentialSource('env:GOOD', { env }),
  ];
  const failures: (() => unknown)[] = [
    () => parseCredentialSource('env:NO_COLON', { env }).get(),
    () => parseCredentialSource(`ext:${join(dir.path, 'fails.sh')}`, { env }).get(),
    () => parseCredentialSource(`ext:${join(dir.path, 'nocolon.sh')}`, { env }).get(),
    () => parseCredentialSource(`ext:${join(dir.path, 'slow.sh')}`, { env, timeoutMs: 200 }).get(),
    () => parseCredentialSource(SECRET),
    () => parseCredentialSource(`static:${SECRET}`),
    () => parseCredentialSource(`${SECRET}:`),
    () => parseCredentialSource(`:${SECRET}`),
    () => parseCredentialSource('secret:ns/name#field', { readKubernetesSecret: () => Promise.resolve(SECRET) }).get(),
    () => resolveEndpoint('reg.lan', { apiUrl: `https://user:${SECRET}@reg.lan` }),
    async () => {
      const dirPath = await writeConfig('badjson', `{"auths": {"ghcr.io": {"auth": "${SECRET}"`);
      return createDockerConfigCredentials({ configDir: dirPath, env })('ghcr.io').get();
    },
    async () => {
      const dirPath = await writeConfig('badauth', JSON.stringify({ auths: { 'ghcr.io': { auth: `${SECRET}!` } } }));
      return createDockerConfigCredentials({ configDir: dirPath, env })('ghcr.io').get();
    },
    async () => {
      const auth = Buffer.from(SECRET).toString('base64');
      const dirPath = await writeConfig('nocolonauth', JSON.stringify({ auths: { 'ghcr.io': { auth } } }));
      return createDockerConfigCredentials({ configDir: dirPath, env })('ghcr.io').get();
    },
    async () => {
      const dirPath = await writeConfig('wrongtype', JSON.stringify({ auths: { 'ghcr.io': { password: [SECRET] } } }));
      return createDockerConfigCredentials({ configDir: dirPath, env })('ghcr.io').get();
    },
    async () => {
      const dirPath = await writeConfig('failing', JSON.stringify({ credsStore: 'failing' }));
      return createDockerConfigCredentials({ configDir: dirPath, env })('ghcr.io').get();
    },
    async () => {
      const dirPath = await writeConfig('garbled', JSON.stringify({ credsStore: 'garbled' }));
      return createDockerConfigCredentials({ configDir: dirPath, env })('ghcr.io').get();
    },
    async () => {
      const dirPath = await writeConfig('partial', JSON.stringify({ credHelpers: { 'ghcr.io': 'partial' } }));
      return createDockerConfigCredentials({ configDir: dirPath, env })('ghcr.io').get();
    },
    async () => {
      const path = join(dir.path, 'pull-secret.json');
      await writeFile(path, `{"auths": ${SECRET}}`);
      return createDockerConfigJsonCredentials(path, 'ghcr.io').get();
    },
    () => parseRegistriesConfig(`registries:\n- name: a\n  credentials: "user:${SECRET}\n  prefix: [\n`, { dockerConfig: false }),
    () => parseRegistriesConfig(`registries:\n- {name: a, prefix: a.io, credentials: "${SECRET}"}\n`, { dockerConfig: false }),
    () => parseRegistriesConfig(`registries:\n- {name: a, prefix: a.io, credentials: {username: u, password: "${SECRET}"}, typo: 1}\n`, { dockerConfig: false }),
    () => parseRegistriesConfig(`registries:\n- {name: a, prefix: a.io, credentials: {username: u, password: ${SECRET}, extra: 1}}\n`, { dockerConfig: false }),
    () => parseRegistriesConfig(`registries:\n- {name: a, prefix: a.io, credentials: 7, api_url: "https://u:${SECRET}@a.io"}\n`, { dockerConfig: false }),
    () => parseRegistriesConfig(`registries:\n- {name: a, prefix: a.io, api_url: "https://u:${SECRET}@a.io"}\n`, { dockerConfig: false }),
  ];

  for (const provider of providers) expect(provider.description).not.toContain(SECRET);
  for (const [index, action] of failures.entries()) {
    const error = await failureOf(action);
    expect(error, `failure #${index}`).toBeInstanceOf(Error);
    expect((error as { code?: unknown }).code, `failure #${index}`).toMatch(/^(config|credentials)$/);
    expect(visibleText(error), `failure #${index}: ${String(error)}`).not.toContain(SECRET);
  }
});
