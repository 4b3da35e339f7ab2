import { RegistryError } from './errors.ts';

/** The host names that all mean Docker Hub in image references. */
export const DOCKER_HUB_HOSTS: readonly string[] = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/** Where Docker Hub's registry API lives; `docker.io` itself serves no API. */
export const DOCKER_HUB_ORIGIN = 'https://registry-1.docker.io';

export interface ResolveEndpointOptions {
  /**
   * An explicit API URL (Argo CD Image Updater's `api_url`). Only its scheme, host and port are used; a path
   * other than `/` or `/v2` is rejected because the client always talks to `/v2/` at the origin.
   */
  apiUrl?: string;
  /** Allows a plain `http://` `apiUrl` for a non-loopback host. @default false */
  insecure?: boolean;
}

/**
 * Normalises a registry host as it appears in a reference (`GHCR.io`, `index.docker.io`, `[::1]:5000`):
 * lower case, Docker Hub's aliases folded into `docker.io`. Throws a `config` error for anything that is not
 * a bare `host[:port]`.
 */
export function normalizeRegistryHost(registryHost: string): string {
  const host = parseHost(registryHost);
  return DOCKER_HUB_HOSTS.includes(host) ? 'docker.io' : host;
}

/** True for `docker.io`, `index.docker.io` and `registry-1.docker.io` (any case, no port). */
export function isDockerHub(registryHost: string): boolean {
  return DOCKER_HUB_HOSTS.includes(registryHost.toLowerCase());
}

/**
 * True when the host (with or without port) is a loopback address: `localhost`, `127.0.0.0/8`, `::1`.
 * Loopback registries are reached over plain HTTP by default, the way Docker treats them.
 */
export function isLoopbackHost(registryHost: string): boolean {
  const hostname = hostnameOf(registryHost.toLowerCase());
  if (hostname === 'localhost' || hostname === '::1' || hostname === '[::1]') return true;
  const octets = hostname.split('.');
  return (
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255)
  );
}

/**
 * The origin (`scheme://host[:port]`) requests for `registryHost` go to.
 *
 * HTTPS unless the host is a loopback address (then HTTP) or `apiUrl` says otherwise; Docker Hub's names go
 * to `https://registry-1.docker.io`. A plain `http://` `apiUrl` is accepted only for loopback hosts or with
 * `insecure: true`, so that credentials never cross the network in clear text by accident.
 *
 * @example resolveEndpoint('localhost:5000') // 'http://localhost:5000'
 * @example resolveEndpoint('docker.io') // 'https://registry-1.docker.io'
 */
export function resolveEndpoint(registryHost: string, options: ResolveEndpointOptions = {}): string {
  const host = parseHost(registryHost);
  if (options.apiUrl !== undefined) return originFromApiUrl(options.apiUrl, options.insecure ?? false);
  if (DOCKER_HUB_HOSTS.includes(host)) return DOCKER_HUB_ORIGIN;
  const bracketed = host.includes(':') && !host.startsWith('[') && hostnameOf(host) === host ? `[${host}]` : host;
  return new URL(`${isLoopbackHost(host) ? 'http' : 'https'}://${bracketed}`).origin;
}

function originFromApiUrl(apiUrl: string, insecure: boolean): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new RegistryError('config', `api_url "${withoutUserInfo(apiUrl)}" is not a URL; write it as https://host[:port]`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RegistryError('config', `api_url "${withoutUserInfo(apiUrl)}" must use https:// (or http:// with insecure: true)`);
  }
  if (url.username !== '' || url.password !== '') {
    // Quoting the URL here would print the password it carries.
    throw new RegistryError('config', 'api_url must not contain user info; put credentials in `credentials` instead');
  }
  if (!/^\/(v2\/?)?$/.test(url.pathname) || url.search !== '' || url.hash !== '') {
    throw new RegistryError(
      'config',
      `api_url "${apiUrl}" has a path, query or fragment; only scheme, host and port are used, e.g. "${url.origin}"`,
    );
  }
  if (url.protocol === 'http:' && !insecure && !isLoopbackHost(url.host)) {
    throw new RegistryError(
      'config',
      `api_url "${apiUrl}" uses plain http for a non-loopback host; use https:// or set insecure: true`,
    );
  }
  return url.origin;
}

/**
 * `text` (a URL, or a `host[/path]` as written in a config) with any user info replaced by `***`, so that a
 * pasted `https://user:password@host` can be quoted in an error message.
 *
 * @example withoutUserInfo('https://robot:s3cret@ghcr.io/org') // 'https://***@ghcr.io/org'
 */
export function withoutUserInfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#]*@/i, (_match, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/** Lower-cased `host[:port]`; a bare IPv6 address (`::1`) is kept without brackets. */
function parseHost(registryHost: string): string {
  const host = registryHost.trim().toLowerCase();
  if (host === '::1') return host;
  let url: URL | undefined;
  try {
    url = new URL(`https://${host}`);
  } catch {
    url = undefined;
  }
  // The URL parser accepts far more than a host (paths, user info, percent escapes); insist on a round trip.
  const sameHost = url !== undefined && (url.host === host || `${url.host}:443` === host);
  if (host === '' || !sameHost || url?.pathname !== '/' || /[/@?#\\]/.test(host)) {
    throw new RegistryError('config', `registry host "${withoutUserInfo(registryHost)}" is not a host[:port], e.g. "ghcr.io" or "localhost:5000"`);
  }
  return host;
}

/** `host[:port]` → host, keeping IPv6 brackets. */
function hostnameOf(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colons = host.split(':').length - 1;
  // More than one colon without brackets is a bare IPv6 address, which cannot carry a port.
  return colons === 1 ? host.slice(0, host.indexOf(':')) : host;
}
