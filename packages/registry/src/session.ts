import type { AuthRuntime } from './auth.ts';
import type { RegistryContext } from './transport.ts';

/** Client-wide limits every operation reads. */
export interface ClientLimits {
  readonly maxManifestBytes: number;
  readonly maxConfigBytes: number;
  readonly maxTagPageBytes: number;
  readonly maxPages: number;
  readonly pageSize: number;
  readonly blobResumes: number;
  readonly chunkSizeBytes: number;
}

/** One registry as seen by the operations: its context, the shared runtime, the limits. */
export interface Session {
  readonly context: RegistryContext;
  readonly runtime: AuthRuntime;
  readonly limits: ClientLimits;
}

/** `<origin>/v2/<repository>/<suffix>`; `suffix` is already escaped. */
export function v2Url(session: Session, repository: string, suffix: string): URL {
  return new URL(`/v2/${repository}/${suffix}`, session.context.origin);
}
