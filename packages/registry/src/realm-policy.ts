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
  if (allowListed(realmHost, options.allowList)) return true;
  if (realmLoopback && isLoopbackHost(options.registry)) return true;
  const domain = registrableDomain(realmHost);
  const originHost = options.origin === undefined ? undefined : new URL(options.origin).host;
  return registrableDomain(options.registry) === domain || (originHost !== undefined && registrableDomain(originHost) === domain);
}

type AddressClass = 'loopback' | 'private' | 'link-local' | 'public';

function ipv4Octets(hostname: string): number[] | undefined {
  if (!/^\d+(\.\d+){3}$/.test(hostname)) return undefined;
  const octets = hostname.split('.').map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

/** Where an address literal points; names (other than `localhost`) count as public, DNS is not consulted. */
function addressClass(host: string): AddressClass {
  const hostname = bareHostname(host).replace(/^\[|\]$/g, '').replace(/\.$/, '');
  // `*.localhost` resolves to loopback on most systems (RFC 6761).
  if (isLoopbackHost(host) || hostname === 'localhost' || hostname.endsWith('.localhost')) return 'loopback';
  // The URL parser writes an IPv4-mapped IPv6 address in hex (`[::ffff:7f00:1]` for 127.0.0.1).
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(hostname);
  const v4 =
    mapped === null
      ? ipv4Octets(hostname.replace(/^::ffff:/, ''))
      : [mapped[1], mapped[2]].flatMap((word) => {
          const value = Number.parseInt(word ?? '0', 16);
          return [value >> 8, value & 0xff];
        });
  if (v4?.[0] === 127) return 'loopback';
  if (v4 !== undefined) {
    const [a = 0, b = 0] = v4;
    if (a === 169 && b === 254) return 'link-local';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a === 0) return 'private';
    return 'public';
  }
  if (!hostname.includes(':')) return 'public';
  if (/^fe[89ab]/.test(hostname)) return 'link-local';
  if (/^f[cd]/.test(hostname) || hostname === '::') return 'private';
  return 'public';
}

function allowListed(realmHost: string, allowList: readonly string[] | undefined): boolean {
  return (allowList ?? []).some((entry) => {
    const allowed = entry.toLowerCase();
    return allowed.startsWith('*.') ? realmHost.endsWith(allowed.slice(1)) : bareHostname(allowed) === realmHost;
  });
}

/**
 * Whether a token realm may be contacted at all, with or without credentials: it must be http(s), and an
 * address literal that is loopback or private only when the registry (name or origin) is itself loopback or
 * private, since a public registry naming one is pointing us at the caller's own network. A link-local realm
 * (the cloud metadata service, `169.254.169.254`) is never a token server unless allow-listed.
 */
export function mayContactRealm(
  realm: URL,
  options: { registry: string; origin?: string | undefined; allowList?: readonly string[] | undefined },
): boolean {
  if (realm.protocol !== 'https:' && realm.protocol !== 'http:') return false;
  if (allowListed(bareHostname(realm.host), options.allowList)) return true;
  const realmClass = addressClass(realm.host);
  if (realmClass === 'public') return true;
  if (realmClass === 'link-local') return false;
  const registryClasses = [addressClass(options.registry), ...(options.origin === undefined ? [] : [addressClass(new URL(options.origin).host)])];
  return registryClasses.some((value) => value === 'loopback' || value === 'private');
}
