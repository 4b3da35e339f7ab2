import { describe, expect, test } from 'vitest';
import { isDockerHub, isLoopbackHost, normalizeRegistryHost, resolveEndpoint } from './endpoint.ts';
import { expectFailure } from './failure.fixture.ts';

describe('resolveEndpoint', () => {
  test.each([
    ['ghcr.io', 'https://ghcr.io'],
    ['GHCR.io', 'https://ghcr.io'],
    ['registry.example.com:5443', 'https://registry.example.com:5443'],
    ['ghcr.io:443', 'https://ghcr.io'],
    ['docker.io', 'https://registry-1.docker.io'],
    ['index.docker.io', 'https://registry-1.docker.io'],
    ['registry-1.docker.io', 'https://registry-1.docker.io'],
    ['localhost', 'http://localhost'],
    ['localhost:5000', 'http://localhost:5000'],
    ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['127.12.0.3', 'http://127.12.0.3'],
    ['[::1]:5000', 'http://[::1]:5000'],
    ['[::1]', 'http://[::1]'],
    ['::1', 'http://[::1]'],
    ['128.0.0.1:5000', 'https://128.0.0.1:5000'],
    ['localhost.example.com', 'https://localhost.example.com'],
  ])('%s → %s', (host, origin) => {
    expect(resolveEndpoint(host)).toBe(origin);
  });

  test('an api_url gives scheme, host and port; /v2 and a trailing slash are tolerated', () => {
    expect(resolveEndpoint('docker.io', { apiUrl: 'https://mirror.example.com:8443/' })).toBe('https://mirror.example.com:8443');
    expect(resolveEndpoint('quay.io', { apiUrl: 'https://quay.io/v2' })).toBe('https://quay.io');
  });

  test('plain http is allowed only for loopback hosts or with insecure', async () => {
    expect(resolveEndpoint('localhost:5000', { apiUrl: 'http://127.0.0.1:5000' })).toBe('http://127.0.0.1:5000');
    expect(resolveEndpoint('reg.lan', { apiUrl: 'http://reg.lan:5000', insecure: true })).toBe('http://reg.lan:5000');
    await expectFailure(() => resolveEndpoint('reg.lan', { apiUrl: 'http://reg.lan:5000' }), 'config', 'set insecure: true');
  });

  test('insecure alone keeps https (it skips verification, it does not downgrade)', () => {
    expect(resolveEndpoint('reg.lan', { insecure: true })).toBe('https://reg.lan');
  });

  test.each([
    ['ftp://reg.lan', 'must use https://'],
    ['not a url', 'is not a URL'],
    ['https://reg.lan/some/path', 'has a path'],
    ['https://reg.lan?x=1', 'has a path'],
  ])('rejects api_url %s', async (apiUrl, message) => {
    await expectFailure(() => resolveEndpoint('reg.lan', { apiUrl }), 'config', message);
  });

  test('never quotes an api_url that carries user info', () => {
    let caught: unknown;
    try {
      resolveEndpoint('reg.lan', { apiUrl: 'https://bob:hunter2@reg.lan' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'config' });
    expect((caught as Error).message).not.toContain('hunter2');
  });

  test.each(['', 'ghcr.io/org', 'https://ghcr.io', 'user@ghcr.io', 'gh cr.io', 'ghcr.io:abc'])('rejects host %j', async (host) => {
    await expectFailure(() => resolveEndpoint(host), 'config');
  });
});

describe('host helpers', () => {
  test('normalizeRegistryHost folds Docker Hub names and case', () => {
    expect(normalizeRegistryHost('Index.Docker.io')).toBe('docker.io');
    expect(normalizeRegistryHost('registry-1.docker.io')).toBe('docker.io');
    expect(normalizeRegistryHost('LOCALHOST:5000')).toBe('localhost:5000');
  });

  test('isLoopbackHost', () => {
    for (const host of ['localhost', 'localhost:1', '127.0.0.1', '127.255.255.254:80', '::1', '[::1]', '[::1]:5000']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['localhost.com', '127.0.0.256', '127.0.0', '10.0.0.1', '[::2]:5000', 'ghcr.io']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  test('isDockerHub', () => {
    expect(isDockerHub('DOCKER.IO')).toBe(true);
    expect(isDockerHub('docker.io:443')).toBe(false);
    expect(isDockerHub('ghcr.io')).toBe(false);
  });
});
