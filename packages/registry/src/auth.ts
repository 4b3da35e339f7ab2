import { isScannerError } from '@scanner/image/scanner-error';
import type { z } from 'zod';
import { readBody } from './body.ts';
import { RegistryError } from './errors.ts';
import { mayContactRealm, mayReceiveCredentials } from './realm-policy.ts';
import { errorFromResponse, responseHints } from './response-error.ts';
import type { Credential } from './settings.ts';
import { credentialId, tokenCacheKey } from './token-cache.ts';
import type { TokenCache, TokenGrant } from './token-cache.ts';
import { discard, displayUrl, send } from './transport.ts';
import type { KnownChallenge, RegistryContext, Runtime, SendRequest, SendResponse } from './transport.ts';
import { parseWwwAuthenticate } from './www-authenticate.ts';
import type { AuthChallenge } from './www-authenticate.ts';
import { lazySchema } from './lazy-schema.ts';

/** The runtime plus the client's token cache. */
export interface AuthRuntime extends Runtime {
  readonly tokens: TokenCache;
}

/** A request plus the access it needs, e.g. `repository:library/nginx:pull`. */
export interface AuthorizedRequest extends SendRequest {
  readonly scopes: readonly string[];
}

interface Authorization {
  readonly header: string;
  /** For bearer tokens: where the token is cached, so a refused one can be dropped. */
  readonly cacheKey?: string;
  readonly token?: string;
  readonly withCredential: boolean;
}

/** `repository:<name>:<actions>` */
export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

const TOKEN_CHARS = /^[\x21-\x7e]+$/;

const tokenResponse = lazySchema((z) =>
  z
    .object({
    // Visible ASCII only: the token goes into a header, where CR/LF would be an injection attempt.
    token: z.string().regex(TOKEN_CHARS).optional(),
    access_token: z.string().regex(TOKEN_CHARS).optional(),
    expires_in: z.number().positive().optional(),
    issued_at: z.string().optional(),
    })
    .loose(),
);

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

async function credentialFor(context: RegistryContext, runtime: Runtime, signal: AbortSignal | undefined): Promise<Credential | undefined> {
  const provider = context.settings.credentials;
  if (provider === undefined) return undefined;
  let credential: Credential | undefined;
  try {
    credential = await provider.get(signal === undefined ? {} : { signal });
  } catch (error) {
    throw new RegistryError('credentials', `could not read credentials for ${context.registry} from ${provider.description}; fix that source`, {
      registry: context.registry,
      cause: error,
    });
  }
  if (credential?.kind === 'basic') runtime.secrets.add(credential.password);
  if (credential?.kind === 'identity-token') runtime.secrets.add(credential.token);
  if (credential?.kind === 'basic') runtime.secrets.add(basicValue(credential));
  return credential;
}

function basicValue(credential: Extract<Credential, { kind: 'basic' }>): string {
  return Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64');
}

function pickChallenge(challenges: readonly AuthChallenge[]): { known: KnownChallenge; scope: string | undefined } | undefined {
  const bearer = challenges.find((challenge) => challenge.scheme === 'bearer' && challenge.params['realm'] !== undefined);
  if (bearer !== undefined) {
    return {
      known: { scheme: 'bearer', realm: bearer.params['realm'] ?? '', service: bearer.params['service'] },
      scope: bearer.params['scope'],
    };
  }
  if (challenges.some((challenge) => challenge.scheme === 'basic')) return { known: { scheme: 'basic' }, scope: undefined };
  return undefined;
}

async function authorizationFor(
  context: RegistryContext,
  runtime: AuthRuntime,
  scopes: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Authorization | undefined> {
  const challenge = context.challenge;
  if (challenge === undefined) return undefined;
  const credential = await credentialFor(context, runtime, signal);
  if (challenge.scheme === 'basic') {
    return credential?.kind === 'basic' ? { header: `Basic ${basicValue(credential)}`, withCredential: true } : undefined;
  }
  let realm: URL;
  try {
    realm = new URL(challenge.realm);
  } catch (error) {
    throw new RegistryError('invalid_response', `${context.registry} named a token realm that is not a URL: ${JSON.stringify(challenge.realm)}`, {
      registry: context.registry,
      cause: error,
    });
  }
  const realmPolicy = { registry: context.registry, origin: context.origin.origin, allowList: context.settings.tokenRealmAllowList };
  if (!mayContactRealm(realm, realmPolicy)) {
    throw new RegistryError('invalid_response', `${context.registry} named the token realm ${JSON.stringify(displayUrl(realm))}, which is not an http(s) URL or is on a loopback, private or link-local address the registry is not on; it was not contacted (add its host to tokenRealmAllowList if it is trusted)`, {
      registry: context.registry,
    });
  }
  const allowed =
    credential !== undefined &&
    mayReceiveCredentials(realm, { ...realmPolicy, insecure: context.settings.insecure });
  const used = allowed ? credential : undefined;
  // Keyed by the registry's origin too: a token is only ever sent back to the registry it was fetched for.
  const cacheKey = tokenCacheKey(challenge.realm, challenge.service, scopes, credentialId(used), context.origin.origin);
  const token = await runtime.tokens.get(cacheKey, async () => {
    if (credential !== undefined && !allowed) {
      runtime.emit({
        type: 'warning',
        code: 'credentials_withheld',
        message: `credentials for ${context.registry} were not sent to the token realm ${realm.origin}: it is not on the registry's domain; add it to tokenRealmAllowList if it is trusted`,
        registry: context.registry,
        repository: undefined,
      });
    }
    return fetchToken(context, runtime, { realm, service: challenge.service, scopes, credential: used, signal });
  });
  runtime.secrets.add(token);
  return { header: `Bearer ${token}`, cacheKey, token, withCredential: used !== undefined };
}

async function fetchToken(
  context: RegistryContext,
  runtime: AuthRuntime,
  options: { realm: URL; service: string | undefined; scopes: readonly string[]; credential: Credential | undefined; signal: AbortSignal | undefined },
): Promise<TokenGrant> {
  const { credential, service, scopes, signal } = options;
  const url = new URL(options.realm.href);
  let request: SendRequest;
  if (credential?.kind === 'identity-token') {
    // Docker's OAuth2 flow for identity tokens: a form POST with grant_type=refresh_token.
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.token, client_id: 'scanner-registry' });
    if (service !== undefined) form.set('service', service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    request = {
      method: 'POST',
      url,
      kind: 'token',
      repository: undefined,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new TextEncoder().encode(form.toString()),
      secretBody: true,
      retry: true,
      signal,
    };
  } else {
    if (service !== undefined) url.searchParams.append('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    request = {
      method: 'GET',
      url,
      kind: 'token',
      repository: undefined,
      retry: true,
      signal,
      authorization: credential === undefined ? undefined : `Basic ${basicValue(credential)}`,
    };
  }
  const response = await send(context, runtime, request);
  if (response.status === 401 || response.status === 403) {
    await discard(response.body);
    const why = credential === undefined ? 'refused an anonymous token; configure credentials' : 'refused the credentials; check them';
    throw new RegistryError('auth_failed', `the token server ${displayUrl(new URL(url.origin))} for ${context.registry} ${why} (HTTP ${response.status})`, {
      status: response.status,
      registry: context.registry,
      hints: responseHints('unauthorized', context.registry),
    });
  }
  if (response.status < 200 || response.status >= 300) {
    const error = await errorFromResponse(context, runtime, request, response, `token request to ${url.origin}`);
    throw new RegistryError(error.code === 'server_error' || error.code === 'rate_limited' ? error.code : 'auth_failed', error.detail, {
      status: response.status,
      registry: context.registry,
    });
  }
  const bytes = await readBody(context, runtime, request, response, MAX_TOKEN_RESPONSE_BYTES, 'token response');
  const schema = await tokenResponse();
  let parsed: z.infer<typeof schema>;
  try {
    parsed = schema.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw new RegistryError('invalid_response', `the token server ${url.origin} for ${context.registry} answered with something that is not a token response`, {
      status: response.status,
      registry: context.registry,
      cause: error,
    });
  }
  const token = parsed.token ?? parsed.access_token;
  if (token === undefined) {
    throw new RegistryError('invalid_response', `the token server ${url.origin} for ${context.registry} sent neither "token" nor "access_token"`, {
      status: response.status,
      registry: context.registry,
    });
  }
  runtime.secrets.add(token);
  const issuedAtMs = parsed.issued_at === undefined ? undefined : Date.parse(parsed.issued_at);
  return {
    token,
    expiresInSeconds: parsed.expires_in,
    issuedAtMs: issuedAtMs === undefined || Number.isNaN(issuedAtMs) ? undefined : issuedAtMs,
  };
}

function unauthorized(context: RegistryContext, request: AuthorizedRequest, withCredential: boolean): RegistryError {
  const why = withCredential
    ? `refused the configured credentials (${context.settings.credentials?.description ?? 'unknown source'}); check them and their permissions`
    : 'requires credentials; configure credentials for it';
  return new RegistryError('unauthorized', `${request.method} ${displayUrl(request.url)}: ${context.registry} ${why}`, {
    status: 401,
    registry: context.registry,
    repository: request.repository,
    hints: responseHints('unauthorized', context.registry),
  });
}

/**
 * A registry host that only redirects (307) to another origin, whose 401 names its own Bearer realm: fetch a
 * token from that realm (anonymously, unless the realm is in `tokenRealmAllowList`: the realm was named by the
 * other origin, so the registry's credentials must not follow it there) and send the request straight to the
 * origin that asked, with that token. The token is cached per asking origin and goes nowhere else. A 401 without
 * a Bearer challenge, or from a URL outside `/v2/` (blob storage), is handed back as it is.
 */
async function answerRedirectTarget(context: RegistryContext, runtime: AuthRuntime, request: AuthorizedRequest, response: SendResponse): Promise<SendResponse> {
  let challenges: AuthChallenge[];
  try {
    challenges = parseWwwAuthenticate(response.headers['www-authenticate']);
  } catch {
    return response;
  }
  const picked = pickChallenge(challenges);
  const target = response.url;
  // Only another registry API is answered; a storage backend (S3, GCS) that a blob redirect reached is left alone.
  if (picked?.known.scheme === 'basic' && target.pathname.startsWith('/v2/')) {
    await discard(response.body);
    throw new RegistryError('unauthorized', `${request.method} ${displayUrl(target)}: ${target.origin}, where ${context.registry} redirected, asks for credentials of its own (Basic); those of ${context.registry} are never sent to another origin`, {
      status: 401,
      registry: context.registry,
      repository: request.repository,
      hints: redirectTargetHints(context, target),
    });
  }
  if (picked?.known.scheme !== 'bearer' || !target.pathname.startsWith('/v2/')) return response;
  const { known } = picked;
  let realm: URL;
  try {
    realm = new URL(known.realm);
  } catch {
    return response;
  }
  await discard(response.body);
  const allowList = context.settings.tokenRealmAllowList;
  if (!mayContactRealm(realm, { registry: context.registry, origin: target.origin, allowList })) {
    throw new RegistryError('invalid_response', `${target.origin}, where ${context.registry} redirected, named the token realm ${JSON.stringify(displayUrl(realm))}, which is not an http(s) URL or is on a loopback, private or link-local address; it was not contacted (add its host to tokenRealmAllowList if it is trusted)`, {
      status: 401,
      registry: context.registry,
      repository: request.repository,
    });
  }
  if (request.body !== undefined && !(request.body instanceof Uint8Array)) {
    throw new RegistryError('unauthorized', `${request.method} ${displayUrl(target)} needed authentication after its streamed body was sent; retry the upload`, {
      status: 401,
      registry: context.registry,
      repository: request.repository,
    });
  }
  const scopes = picked.scope === undefined || request.scopes.includes(picked.scope) ? request.scopes : [...request.scopes, picked.scope];
  // Only the allow list can vouch for this realm: an empty registry name matches no domain.
  const allowListed = (allowList ?? []).length > 0 && mayReceiveCredentials(realm, { registry: '', allowList, insecure: context.settings.insecure });
  const credential = allowListed ? await credentialFor(context, runtime, request.signal) : undefined;
  const cacheKey = tokenCacheKey(known.realm, known.service, scopes, credentialId(credential), target.origin);
  const token = await runtime.tokens.get(cacheKey, () => fetchToken(context, runtime, { realm, service: known.service, scopes, credential, signal: request.signal }));
  runtime.secrets.add(token);
  const retried = await send(context, runtime, { ...request, url: target, authorization: `Bearer ${token}` });
  if (retried.status !== 401 || retried.url.origin !== target.origin) return retried;
  await discard(retried.body);
  runtime.tokens.invalidate(cacheKey, token);
  throw new RegistryError('unauthorized', `${request.method} ${displayUrl(target)}: ${target.origin}, where ${context.registry} redirected, refused the token from its realm ${realm.origin}`, {
    status: 401,
    registry: context.registry,
    repository: request.repository,
    hints: redirectTargetHints(context, target),
  });
}

function redirectTargetHints(context: RegistryContext, target: URL): { library: string; config: string; cli: string } {
  return {
    library: `the redirect target needs credentials of its own; point settings.origin for ${context.registry} at ${target.origin} and give it credentials there`,
    config: `the redirect target needs credentials of its own; add a registries entry with api_url ${target.origin} and its credentials`,
    cli: `the redirect target needs credentials of its own; configure them for ${target.host} in the registries config`,
  };
}

/**
 * Sends a request with the registry's authentication: up front when the scheme is known from an earlier
 * challenge, else after the first 401; one re-authentication on 401, then `unauthorized`. Requests to other
 * origins (upload locations on storage hosts) never carry the registry's credentials.
 */
export async function authorizedSend(context: RegistryContext, runtime: AuthRuntime, request: AuthorizedRequest): Promise<SendResponse> {
  if (request.url.origin !== context.origin.origin) return send(context, runtime, request);
  const first = await authorizationFor(context, runtime, request.scopes, request.signal);
  const response = await send(context, runtime, { ...request, authorization: first?.header });
  if (response.status !== 401) return response;
  // A 401 from another origin (a host the registry redirected to) is that host's own challenge: answered with
  // a token from its own realm, never with the registry's credentials or tokens.
  if (response.url.origin !== context.origin.origin) return answerRedirectTarget(context, runtime, request, response);
  let challenges: AuthChallenge[];
  try {
    challenges = parseWwwAuthenticate(response.headers['www-authenticate']);
  } catch (error) {
    await discard(response.body);
    const reason = isScannerError(error) ? error.detail : error instanceof Error ? error.message : String(error);
    throw new RegistryError('invalid_response', `${request.method} ${displayUrl(request.url)}: ${context.registry} answered 401 with a ${reason}; it cannot be authenticated against until it sends a valid challenge`, {
      status: 401,
      registry: context.registry,
      repository: request.repository,
      cause: error,
    });
  }
  await discard(response.body);
  if (first?.cacheKey !== undefined && first.token !== undefined) runtime.tokens.invalidate(first.cacheKey, first.token);
  const picked = pickChallenge(challenges);
  if (picked === undefined) throw unauthorized(context, request, first?.withCredential ?? false);
  context.challenge = picked.known;
  if (request.body !== undefined && !(request.body instanceof Uint8Array)) {
    throw new RegistryError('unauthorized', `${request.method} ${displayUrl(request.url)} needed authentication after its streamed body was sent; retry the upload`, {
      status: 401,
      registry: context.registry,
      repository: request.repository,
    });
  }
  const scopes = picked.scope === undefined || request.scopes.includes(picked.scope) ? request.scopes : [...request.scopes, picked.scope];
  const second = await authorizationFor(context, runtime, scopes, request.signal);
  if (second === undefined) throw unauthorized(context, request, false);
  const retried = await send(context, runtime, { ...request, authorization: second.header });
  if (retried.status !== 401) return retried;
  // The registry accepted its credentials and redirected: the 401 is the target's own challenge (break-scan F1).
  if (retried.url.origin !== context.origin.origin) return answerRedirectTarget(context, runtime, request, retried);
  await discard(retried.body);
  if (second.cacheKey !== undefined && second.token !== undefined) runtime.tokens.invalidate(second.cacheKey, second.token);
  throw unauthorized(context, request, second.withCredential);
}
