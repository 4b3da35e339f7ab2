import { z } from 'zod';
import { RegistryError } from './errors.ts';
import type { RegistryErrorCode } from './errors.ts';
import { discard, displayUrl, redact } from './transport.ts';
import type { RegistryContext, Runtime, SendRequest, SendResponse } from './transport.ts';

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

const errorBody = z.object({
  errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() }).loose()).optional(),
});

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
  try {
    const parsed = errorBody.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
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
      return `${context.registry} is rate limiting; lower requestsPerSecond or authenticate for a higher quota`;
    case 'server_error':
      return `${context.registry} failed; retry later`;
    default:
      return 'see the registry response above';
  }
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
  const message = `${what} failed: ${request.method} ${displayUrl(response.url)} returned HTTP ${response.status}${detail}; ${hint(code, context)}`;
  return new RegistryError(code, redact(runtime, message), {
    status: response.status,
    registry: context.registry,
    repository: request.repository,
  });
}
