import { createHash, createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { runCommand } from './process.ts';
import { tempDir, type TempDir } from './temp-dir.ts';
import { TestLabError } from './errors.ts';

/** Signing key of the token server: ES256 on P-256, or RS256 on RSA 2048. */
export type TokenKeyType = 'ec' | 'rsa';
/** How the JWT header names the signing key: a libtrust key id, or the certificate itself. */
export type TokenKeyReference = 'kid' | 'x5c';

/** One access entry of a token (`repository:name:pull,push` parsed). */
export interface TokenAccess {
  type: string;
  name: string;
  actions: readonly string[];
}

/** A request the token server received, recorded for assertions (token caching, scopes asked for). */
export interface TokenRequestRecord {
  method: string;
  /** How the client authenticated. */
  grantType: 'anonymous' | 'basic' | 'password' | 'refresh_token';
  /** The authenticated user; undefined when anonymous or refused. */
  account: string | undefined;
  /** Scopes as requested (`repository:name:pull,push`). */
  scopes: readonly string[];
  /** What the issued token allows (empty when refused). */
  granted: readonly TokenAccess[];
  /** HTTP status answered. */
  status: number;
  /** Whether the request carried an Authorization header. */
  authorization: boolean;
}

/** Who may get which token, and how tokens are signed. */
export interface StartTokenServerOptions {
  /** The `service` the registry is configured with; becomes the JWT audience. */
  service: string;
  /** @default 'test-lab-token-issuer' */
  issuer?: string;
  /** Users that authenticate with Basic auth or the password grant; each may pull, push and delete everywhere. */
  users: readonly { username: string; password: string }[];
  /** Repositories anonymous users may pull (exact names or patterns), or `'all'`. @default [] */
  publicRepositories?: readonly (string | RegExp)[] | 'all';
  /** @default 300 */
  lifetimeSeconds?: number;
  /** @default 'ec' */
  keyType?: TokenKeyType;
  /** @default 'kid' */
  keyReference?: TokenKeyReference;
  /** Where the key and certificate go; a temp dir (removed on stop) when omitted. */
  dir?: string;
}

/** An in-process Docker token server (distribution's `auth.token` counterpart) on a free loopback port. */
export interface TokenServer extends AsyncDisposable {
  /** The realm: `http://127.0.0.1:PORT/token`. */
  readonly url: string;
  readonly origin: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM certificate of the signing key, for the registry's `rootcertbundle`. */
  readonly certificatePath: string;
  /** Every request received so far, in order. */
  requests(): readonly TokenRequestRecord[];
  resetRequests(): void;
  /** Changes the lifetime (`expires_in` and `exp - iat`) of tokens issued from now on. */
  setTokenLifetimeSeconds(seconds: number): void;
  /**
   * Shifts the `iat`/`nbf`/`exp` claims of tokens issued from now on by `seconds` (negative: into the past)
   * while `expires_in` stays the lifetime. distribution accepts tokens up to 60 s past `exp`, so a short
   * lifetime alone never makes the registry refuse one; an offset of -3600 does, at once.
   */
  setClockOffsetSeconds(seconds: number): void;
  /** Stops listening (and removes its temp dir if it made one). Idempotent. */
  stop(): Promise<void>;
}

interface SigningKey {
  key: KeyObject;
  alg: 'ES256' | 'RS256';
  header: Record<string, unknown>;
}

/** libtrust's key id: the first 240 bits of SHA-256 over the DER public key, base32, in groups of four. */
export function libtrustKeyId(publicKeyDer: Uint8Array): string {
  const digest = createHash('sha256').update(publicKeyDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let encoded = '';
  for (const byte of digest) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      encoded += alphabet.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  return encoded.match(/.{4}/g)?.join(':') ?? encoded;
}

async function makeSigningKey(dir: string, keyType: TokenKeyType, reference: TokenKeyReference): Promise<{ signing: SigningKey; certificatePath: string }> {
  const keyPath = join(dir, 'token-key.pem');
  const certificatePath = join(dir, 'token-cert.pem');
  const newKey = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  await runCommand('openssl', ['req', '-x509', ...newKey, '-nodes', '-keyout', keyPath, '-out', certificatePath, '-days', '2', '-subj', '/CN=test-lab token signer']);
  const [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certificatePath, 'utf8')]);
  const key = createPrivateKey(keyPem);
  const certificate = new X509Certificate(certPem);
  const alg = keyType === 'ec' ? 'ES256' : 'RS256';
  const header = reference === 'x5c'
    ? { typ: 'JWT', alg, x5c: [certificate.raw.toString('base64')] }
    : { typ: 'JWT', alg, kid: libtrustKeyId(certificate.publicKey.export({ type: 'spki', format: 'der' })) };
  return { signing: { key, alg, header }, certificatePath };
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function signJwt(signing: SigningKey, claims: Record<string, unknown>): string {
  const input = `${base64url(JSON.stringify(signing.header))}.${base64url(JSON.stringify(claims))}`;
  const signature = signing.alg === 'ES256'
    ? sign('sha256', Buffer.from(input), { key: signing.key, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', Buffer.from(input), signing.key);
  return `${input}.${signature.toString('base64url')}`;
}

/** Parses `type:name:actions`; the name may itself hold colons (`registry:catalog:*` has none, `repository:host:5000/x:pull` does). */
function parseScope(scope: string): TokenAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

async function readBody(request: IncomingMessage, maxBytes = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new TestLabError('INVALID_OPTION', 'test-lab token server: request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/**
 * Starts a Docker token server: `GET /token?service=&scope=` with optional Basic auth, and the OAuth2
 * `POST /token` form (`grant_type=password` or `refresh_token`). Anonymous users get `pull` on public
 * repositories; configured users get what they ask for. Unknown credentials are refused with 401.
 */
export async function startTokenServer(options: StartTokenServerOptions): Promise<TokenServer> {
  if (options.lifetimeSeconds !== undefined && (!Number.isInteger(options.lifetimeSeconds) || options.lifetimeSeconds <= 0)) {
    throw new TestLabError('INVALID_OPTION', `test-lab: token lifetime must be a positive whole number of seconds, got ${String(options.lifetimeSeconds)}`);
  }
  let ownDir: TempDir | undefined;
  const dir = options.dir ?? (ownDir = await tempDir('scanner-token-')).path;
  try {
    return await serve(options, dir, ownDir);
  } catch (error) {
    await ownDir?.[Symbol.asyncDispose]();
    throw error;
  }
}

async function serve(options: StartTokenServerOptions, dir: string, ownDir: TempDir | undefined): Promise<TokenServer> {
  const issuer = options.issuer ?? 'test-lab-token-issuer';
  let lifetimeSeconds = options.lifetimeSeconds ?? 300;
  let clockOffsetSeconds = 0;
  const publicRepositories = options.publicRepositories ?? [];
  const records: TokenRequestRecord[] = [];
  const refreshTokens = new Map<string, string>();

  const { signing, certificatePath } = await makeSigningKey(dir, options.keyType ?? 'ec', options.keyReference ?? 'kid');

  const isPublic = (name: string): boolean =>
    publicRepositories === 'all' || publicRepositories.some((entry) => typeof entry === 'string' ? entry === name : new RegExp(`^(?:${entry.source})$`, entry.flags).test(name));

  const authenticate = (username: string, password: string): string | undefined =>
    options.users.some((user) => user.username === username && user.password === password) ? username : undefined;

  const grant = (account: string | undefined, scopes: readonly string[]): TokenAccess[] => {
    const granted: TokenAccess[] = [];
    for (const scope of scopes) {
      const access = parseScope(scope);
      if (!access) continue;
      let allowed: string[];
      if (account !== undefined) allowed = access.actions.filter((action) => ['pull', 'push', 'delete', '*'].includes(action));
      else allowed = access.type === 'repository' && isPublic(access.name) ? access.actions.filter((action) => action === 'pull') : [];
      if (allowed.length > 0) granted.push({ type: access.type, name: access.name, actions: allowed });
    }
    return granted;
  };

  const issue = (account: string | undefined, granted: readonly TokenAccess[]): { token: string; expiresIn: number; issuedAt: string } => {
    const realNow = Math.floor(Date.now() / 1000);
    const now = realNow + clockOffsetSeconds;
    const token = signJwt(signing, {
      iss: issuer,
      sub: account ?? '',
      aud: options.service,
      exp: now + lifetimeSeconds,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(12).toString('base64url'),
      access: granted,
    });
    return { token, expiresIn: lifetimeSeconds, issuedAt: new Date(realNow * 1000).toISOString() };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const authorization = request.headers.authorization !== undefined;
    const record = (entry: Omit<TokenRequestRecord, 'method' | 'authorization'>): void => {
      records.push({ method: request.method ?? 'GET', authorization, ...entry });
    };
    if (url.pathname !== '/token') {
      sendJson(response, 404, { errors: [{ code: 'NOT_FOUND', message: 'the token endpoint is /token' }] });
      return;
    }

    if (request.method === 'GET') {
      const scopes = url.searchParams.getAll('scope').flatMap((scope) => scope.split(' ')).filter(Boolean);
      let account: string | undefined;
      let grantType: TokenRequestRecord['grantType'] = 'anonymous';
      const header = request.headers.authorization;
      if (header !== undefined) {
        grantType = 'basic';
        const match = /^Basic\s+(\S+)$/i.exec(header);
        const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        account = colon > 0 ? authenticate(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
        if (account === undefined) {
          record({ grantType, account: undefined, scopes, granted: [], status: 401 });
          sendJson(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }, { 'www-authenticate': 'Basic realm="test-lab-token"' });
          return;
        }
      }
      if (url.searchParams.get('service') !== options.service) {
        record({ grantType, account, scopes, granted: [], status: 400 });
        sendJson(response, 400, { errors: [{ code: 'INVALID_SERVICE', message: `unknown service; expected ${options.service}` }] });
        return;
      }
      const granted = grant(account, scopes);
      const { token, expiresIn, issuedAt } = issue(account, granted);
      const body: Record<string, unknown> = { token, access_token: token, expires_in: expiresIn, issued_at: issuedAt };
      if (account !== undefined && url.searchParams.get('offline_token') === 'true') {
        const refresh = randomBytes(18).toString('base64url');
        refreshTokens.set(refresh, account);
        body['refresh_token'] = refresh;
      }
      record({ grantType, account, scopes, granted, status: 200 });
      sendJson(response, 200, body);
      return;
    }

    if (request.method === 'POST') {
      const form = new URLSearchParams(await readBody(request));
      const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      const grantType = form.get('grant_type');
      let account: string | undefined;
      if (grantType === 'password') account = authenticate(form.get('username') ?? '', form.get('password') ?? '');
      else if (grantType === 'refresh_token') account = refreshTokens.get(form.get('refresh_token') ?? '');
      else {
        record({ grantType: 'anonymous', account: undefined, scopes, granted: [], status: 400 });
        sendJson(response, 400, { error: 'unsupported_grant_type' });
        return;
      }
      if (account === undefined || form.get('service') !== options.service) {
        const status = account === undefined ? 401 : 400;
        record({ grantType, account: undefined, scopes, granted: [], status });
        sendJson(response, status, { error: account === undefined ? 'invalid_grant' : 'invalid_request' });
        return;
      }
      const granted = grant(account, scopes);
      const { token, expiresIn, issuedAt } = issue(account, granted);
      let refresh = form.get('refresh_token') ?? undefined;
      if (grantType === 'password') {
        refresh = randomBytes(18).toString('base64url');
        refreshTokens.set(refresh, account);
      }
      record({ grantType, account, scopes, granted, status: 200 });
      sendJson(response, 200, { access_token: token, token, expires_in: expiresIn, issued_at: issuedAt, scope: scopes.join(' '), refresh_token: refresh });
      return;
    }

    record({ grantType: 'anonymous', account: undefined, scopes: [], granted: [], status: 405 });
    sendJson(response, 405, { errors: [{ code: 'UNSUPPORTED', message: 'use GET or POST' }] }, { allow: 'GET, POST' });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { errors: [{ code: 'INTERNAL', message: (error as Error).message }] });
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new TestLabError('START_FAILED', 'test-lab: token server has no TCP address');
  const origin = `http://127.0.0.1:${address.port}`;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      await ownDir?.[Symbol.asyncDispose]();
    })();
    return stopped;
  };

  return {
    url: `${origin}/token`,
    origin,
    service: options.service,
    issuer,
    certificatePath,
    requests: () => [...records],
    resetRequests: () => { records.length = 0; },
    setTokenLifetimeSeconds: (seconds) => {
      if (!Number.isInteger(seconds) || seconds <= 0) throw new TestLabError('INVALID_OPTION', `test-lab: token lifetime must be a positive whole number of seconds, got ${String(seconds)}`);
      lifetimeSeconds = seconds;
    },
    setClockOffsetSeconds: (seconds) => {
      if (!Number.isInteger(seconds)) throw new TestLabError('INVALID_OPTION', `test-lab: clock offset must be a whole number of seconds, got ${String(seconds)}`);
      clockOffsetSeconds = seconds;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
