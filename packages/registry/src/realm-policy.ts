import { isLoopbackHost } from './endpoint.ts';

const CCTLD_SECOND_LEVELS = new Set(['com', 'net', 'org', 'gov', 'edu', 'co', 'ac']);

function bareHostname(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  return lower.split(':')[0] ?? lower;
}

/**
 * An approximation of the registrable domain ("eTLD+1") without the public suffix list: the last two
 * labels, or three when the top-level domain is a two-letter country code and the second-level label is
 * short or generic (`example.co.uk`, `example.com.au`). IP addresses are returned as they are.
 *
 * @example registrableDomain('registry-1.docker.io') // 'docker.io'
 */
export function registrableDomain(host: string): string {
  const hostname = bareHostname(host);
  if (hostname.startsWith('[') || /^\d+(\.\d+){3}$/.test(hostname)) return hostname;
  const labels = hostname.split('.').filter((label) => label !== '');
  if (labels.length <= 2) return labels.join('.');
  const tld = labels[labels.length - 1] ?? '';
  const second = labels[labels.length - 2] ?? '';
  const take = tld.length === 2 && (second.length <= 2 || CCTLD_SECOND_LEVELS.has(second)) ? 3 : 2;
  return labels.slice(-take).join('.');
}

/**
 * Whether credentials for a registry may be sent to a token realm: the realm is on the registrable domain of
 * the registry name or of its origin, or listed in `allowList` (exact host, or `*.suffix`), or both the
 * realm and the registry name are loopback. The realm must also use HTTPS unless it is loopback or the
 * registry is `insecure`.
 */
export function mayReceiveCredentials(
  realm: URL,
  options: { registry: string; origin?: string | undefined; allowList?: readonly string[] | undefined; insecure?: boolean | undefined },
): boolean {
  const realmHost = bareHostname(realm.host);
  const realmLoopback = isLoopbackHost(realm.host);
  if (realm.protocol !== 'https:' && !realmLoopback && options.insecure !== true) return false;
  for (const entry of options.allowList ?? []) {
    const allowed = entry.toLowerCase();
    if (allowed.startsWith('*.') ? realmHost.endsWith(allowed.slice(1)) : bareHostname(allowed) === realmHost) return true;
  }
  if (realmLoopback && isLoopbackHost(options.registry)) return true;
  const domain = registrableDomain(realmHost);
  const originHost = options.origin === undefined ? undefined : new URL(options.origin).host;
  return registrableDomain(options.registry) === domain || (originHost !== undefined && registrableDomain(originHost) === domain);
}
