import { RegistryError } from './errors.ts';

/** One challenge of a `WWW-Authenticate` header (RFC 7235 §4.1). */
export interface AuthChallenge {
  /** The auth scheme, lower-cased: `bearer`, `basic`. */
  readonly scheme: string;
  /** Auth parameters with lower-cased names and unescaped values, e.g. `realm`, `service`, `scope`. */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form (`Negotiate abc==`), when the challenge uses it instead of parameters. */
  readonly token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

/**
 * Parses every challenge in one or more `WWW-Authenticate` header values: several challenges per header and
 * across headers, quoted strings with commas and backslash escapes, token68, case-insensitive schemes.
 *
 * @throws {RegistryError} `invalid_response` for a header that does not follow the grammar (an unterminated
 * quoted string, a parameter without a name).
 */
export function parseWwwAuthenticate(headers: string | readonly string[] | undefined): AuthChallenge[] {
  if (headers === undefined) return [];
  const values = typeof headers === 'string' ? [headers] : headers;
  const challenges: AuthChallenge[] = [];
  for (const value of values) parseHeader(value, challenges);
  return challenges;
}

interface MutableChallenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

function parseHeader(header: string, out: AuthChallenge[]): void {
  let i = 0;
  const n = header.length;
  let current: MutableChallenge | undefined;
  const skipSpace = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TCHAR.test(header.charAt(i))) i++;
    return header.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let value = '';
    while (i < n) {
      const char = header.charAt(i);
      if (char === '\\' && i + 1 < n) {
        value += header.charAt(i + 1);
        i += 2;
      } else if (char === '"') {
        i++;
        return value;
      } else {
        value += char;
        i++;
      }
    }
    throw malformed(header, 'unterminated quoted string');
  };
  // token68 is only allowed right after the scheme and must be followed by a comma or the end.
  const tryToken68 = (): string | undefined => {
    const start = i;
    while (i < n && TOKEN68_CHAR.test(header.charAt(i))) i++;
    if (i === start) return undefined;
    while (i < n && header[i] === '=') i++;
    const end = i;
    skipSpace();
    if (i >= n || header[i] === ',') return header.slice(start, end);
    i = start;
    return undefined;
  };

  while (i < n) {
    skipSpace();
    if (header[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const name = readToken();
    if (name === '') throw malformed(header, `unexpected ${JSON.stringify(header.charAt(i))} at offset ${i}`);
    skipSpace();
    if (header[i] === '=' && current !== undefined) {
      i++;
      skipSpace();
      const value = header[i] === '"' ? readQuoted() : readToken();
      current.params[name.toLowerCase()] = value;
      continue;
    }
    current = { scheme: name.toLowerCase(), params: Object.create(null) as Record<string, string> };
    out.push(current);
    const token68 = tryToken68();
    if (token68 !== undefined) current.token68 = token68;
  }
}

function malformed(header: string, why: string): RegistryError {
  const shown = header.length > 300 ? `${header.slice(0, 300)}…` : header;
  return new RegistryError('invalid_response', `malformed WWW-Authenticate header ${JSON.stringify(shown)}: ${why}`);
}
