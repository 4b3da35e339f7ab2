// Registries that do not create repositories on push (ECR, Harbor projects, Aliyun ACR namespaces) refuse the
// first write to a new repository. Told apart from other refusals so that a sync reports one actionable error
// per repository instead of one per blob.
import { Readable } from 'node:stream';
import { RegistryError } from './errors.ts';
import { errorFromResponse, readOciError } from './response-error.ts';
import type { OciError } from './response-error.ts';
import { redact } from './transport.ts';
import type { RegistryContext, ResponseBody, Runtime, SendRequest, SendResponse } from './transport.ts';

/** Which write was refused: opening a blob upload (`POST …/blobs/uploads/`, with or without a mount) or a manifest PUT. */
export type PushStep = 'upload' | 'manifest';

// Harbor: `NOT_FOUND: project team not found`; ECR: `NAME_UNKNOWN: The repository with name 'x' does not exist
// in the registry with id '123'`; ACR and others: a DENIED whose text says the repository or namespace is missing.
const MISSING_TEXT = /\b(?:repository|project|namespace)\b.*\b(?:does not exist|doesn't exist|not exist|not found|unknown)\b/i;

/**
 * Whether a refused push means the repository does not exist: any 404 to `POST /v2/<name>/blobs/uploads/`
 * (the endpoint exists on every registry, so only the name can be unknown), a 404 `NAME_UNKNOWN` on a
 * manifest PUT, or a 403/404 whose OCI error message says the repository, project or namespace is missing.
 */
export function isRepositoryMissing(status: number, oci: OciError | undefined, step: PushStep): boolean {
  if (status !== 403 && status !== 404) return false;
  if (status === 404 && step === 'upload') return true;
  if (status === 404 && oci?.code === 'NAME_UNKNOWN') return true;
  return MISSING_TEXT.test(oci?.message ?? '');
}

// errorFromResponse reads the body itself; after we have read it, hand it the parsed error again.
function replayBody(oci: OciError | undefined): ResponseBody {
  const body = oci === undefined ? '' : JSON.stringify({ errors: [oci] });
  return Readable.from([Buffer.from(body)]) as unknown as ResponseBody;
}

/**
 * The error for a refused push: `repository_not_found` (naming the repository and saying to create it) when
 * {@link isRepositoryMissing}, else what `errorFromResponse` makes of it. Consumes the body.
 */
export async function pushFailure(
  context: RegistryContext,
  runtime: Runtime,
  request: Pick<SendRequest, 'method' | 'url' | 'repository'>,
  response: SendResponse,
  what: string,
  step: PushStep,
): Promise<RegistryError> {
  const oci = await readOciError(response, request.method);
  const repository = request.repository ?? '';
  if (isRepositoryMissing(response.status, oci, step)) {
    const said = oci?.message === undefined ? '' : ` (${oci.code ?? 'error'}: ${oci.message})`;
    const message = `${what} failed: the repository ${context.registry}/${repository} does not exist and ${context.registry} does not create repositories on push${said}; create it (an ECR repository, a Harbor project, a registry namespace) and run again`;
    return new RegistryError('repository_not_found', redact(runtime, message), { status: response.status, registry: context.registry, repository });
  }
  return errorFromResponse(context, runtime, request, { ...response, body: replayBody(oci) }, what);
}
