/** One `Link` header entry (RFC 8288): the target as written and its parameters (lower-cased names). */
export interface LinkValue {
  readonly target: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `Link` header values; tolerant of spacing, quoted parameters and several headers. */
export function parseLinkHeader(headers: string | readonly string[] | undefined): LinkValue[] {
  if (headers === undefined) return [];
  const links: LinkValue[] = [];
  for (const header of typeof headers === 'string' ? [headers] : headers) {
    const pattern = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
    for (const match of header.matchAll(pattern)) {
      const params = Object.create(null) as Record<string, string>;
      for (const part of (match[2] ?? '').split(';')) {
        const eq = part.indexOf('=');
        if (eq === -1) continue;
        const name = part.slice(0, eq).trim().toLowerCase();
        const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
        if (name !== '') params[name] = value;
      }
      links.push({ target: match[1] ?? '', params });
    }
  }
  return links;
}

/** The `rel="next"` target, as written (relative or absolute); relation types are matched case-insensitively. */
export function nextLink(headers: string | readonly string[] | undefined): string | undefined {
  return parseLinkHeader(headers).find((link) => (link.params['rel'] ?? '').toLowerCase().split(/\s+/).includes('next'))?.target;
}
