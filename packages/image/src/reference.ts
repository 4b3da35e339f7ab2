/**
 * A parsed, normalised image reference: `docker.io/library/nginx:1.25@sha256:…`.
 * Produced by `parseImageReference`; `String(ref)` gives the canonical form.
 */
export interface ImageReference {
  /** Registry host with optional port, normalised: `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Repository path inside the registry, with Docker's `library/` default applied: `library/nginx`. */
  readonly repository: string;
  readonly tag?: string;
  /** `algorithm:hex`, e.g. `sha256:…`. */
  readonly digest?: string;
  toString(): string;
}
