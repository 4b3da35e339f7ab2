import { RegistryError } from './errors.ts';
import type { RegistryErrorCode } from './errors.ts';
import type { ErrorFields } from '@scanner/image';
import { parseRetryAfterMs } from './retry.ts';
import { discard, displayUrl, redact } from './transport.ts';
import type { RegistryContext, Runtime, SendRequest, SendResponse } from './transport.ts';
import { lazySchema } from './lazy-schema.ts';

const OCI_CODES = new Set<string>([
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
]);

const errorBody = lazySchema((z) =>
  z.object({
    errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() }).loose()).optional(),
  }),
);

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The `errors[0]` of an OCI error body, if the body is one. */
export interface OciError {
  readonly code: string | undefined;
  readonly message: string | undefined;
}

/** Reads at most 64 KiB of an error body and parses the OCI `errors` array; never throws. */
export async function readOciError(response: SendResponse, method: string): Promise<OciError | undefined> {
  if (method === 'HEAD') {
    await discard(response.body);
    return undefined;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > MAX_ERROR_BODY_BYTES) break;
      chunks.push(chunk);
    }
  } catch {
    return undefined;
  } finally {
    response.body.destroy();
  }
  const schema = await errorBody();
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    const first = parsed.success ? parsed.data.errors?.[0] : undefined;
    return first === undefined ? undefined : { code: first.code, message: first.message };
  } catch {
    return undefined;
  }
}

function fallbackCode(status: number): RegistryErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'unexpected_status';
}

function hint(code: RegistryErrorCode, context: RegistryContext): string {
  switch (code) {
    case 'unauthorized':
    case 'UNAUTHORIZED':
      return `configure credentials for ${context.registry} or check them`;
    case 'forbidden':
    case 'DENIED':
      return `the credentials for ${context.registry} lack permission for this repository`;
    case 'not_found':
    case 'NAME_UNKNOWN':
    case 'MANIFEST_UNKNOWN':
    case 'BLOB_UNKNOWN':
      return 'check the repository, tag or digest';
    case 'rate_limited':
    case 'TOOMANYREQUESTS':
      return `${context.registry} is rate limiting; lower the request rate or authenticate for a higher quota`;
    case 'server_error':
      return `${context.registry} failed; retry later`;
    default:
      return 'see the registry response above';
  }
}

/** What to do about a response error, per audience, in the names each audience has (flags, config keys, options). */
export function responseHints(code: RegistryErrorCode, registry: string): ErrorFields['hints'] {
  switch (code) {
    case 'unauthorized':
    case 'UNAUTHORIZED':
      return {
        library: `give settings.credentials for ${registry} (e.g. createDockerConfigCredentials() or parseCredentialSource('env:VAR')), or check them`,
        config: `set credentials on the registries entry for ${registry} (or log in with docker login), or check them`,
        cli: `log in to ${registry} (docker login writes ~/.docker/config.json), or give credentials in a file passed with --registries-config`,
      };
    case 'forbidden':
    case 'DENIED':
      return {
        library: `the credentials for ${registry} lack permission for this repository`,
        config: `the credentials of the registries entry for ${registry} lack permission for this repository`,
        cli: `the credentials for ${registry} lack permission for this repository`,
      };
    case 'rate_limited':
    case 'TOOMANYREQUESTS':
      return {
        library: `lower settings.requestsPerSecond for ${registry}, raise retryAfterMaxMs to wait longer, or authenticate for a higher quota`,
        config: `lower limit (requests per second) on the registries entry for ${registry}, or give it credentials for a higher quota`,
        cli: `wait and run again, or authenticate to ${registry} for a higher quota`,
      };
    default:
      return undefined;
  }
}

function seconds(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`;
}

/**
 * Turns a non-success response into a `RegistryError`: the OCI code from the body when it is one we know,
 * else a code from the status. Consumes the body. The message names method, URL, status and a next step.
 */
export async function errorFromResponse(
  context: RegistryContext,
  runtime: Runtime,
  request: Pick<SendRequest, 'method' | 'url' | 'repository'>,
  response: SendResponse,
  what: string,
): Promise<RegistryError> {
  const oci = await readOciError(response, request.method);
  const code: RegistryErrorCode =
    oci?.code !== undefined && OCI_CODES.has(oci.code) ? (oci.code as RegistryErrorCode) : fallbackCode(response.status);
  const detail = oci === undefined ? '' : ` (${oci.code ?? 'error'}: ${oci.message ?? 'no message'})`;
  // A 429 that reaches the caller came with a Retry-After longer than the client waits, or after the retries.
  const retryAfterMs = response.status === 429 ? parseRetryAfterMs(response.headers['retry-after'], runtime.now()) : undefined;
  const waited =
    retryAfterMs === undefined
      ? ''
      : retryAfterMs > runtime.retry.retryAfterMaxMs
        ? `; it asked to wait ${seconds(retryAfterMs)} (Retry-After), longer than the ${seconds(runtime.retry.retryAfterMaxMs)} the client waits`
        : `; it asked to wait ${seconds(retryAfterMs)} (Retry-After)`;
  const reason = `${what} failed: ${request.method} ${displayUrl(response.url)} returned HTTP ${response.status}${detail}${waited}`;
  const message = `${reason}; ${hint(code, context)}`;
  return new RegistryError(code, redact(runtime, message), {
    // Without the hint: an app shows its own audience's hint after it.
    reason: redact(runtime, reason),
    status: response.status,
    registry: context.registry,
    repository: request.repository,
    retryAfterMs,
    hints: responseHints(code, context.registry),
  });
}
