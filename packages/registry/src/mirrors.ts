// Source mirrors: pull-through caches (mirror.gcr.io, a `registry` in proxy mode, Harbor proxy projects) that
// serve a registry's content under their own host, so that reading through them spares the registry's pull
// quota. A mirror is only trusted for bytes whose digest is already known from the registry itself.
import { createImageReference, withDigest } from '@scanner/image/reference';
import type { ImageReference } from '@scanner/image';
import { getBlob } from './blobs.ts';
import type { BlobResult, GetBlobOptions } from './blobs.ts';
import { normalizeRegistryHost, withoutUserInfo } from './endpoint.ts';
import { RegistryError, isRegistryError } from './errors.ts';
import { getManifest, resolveDigest } from './manifests.ts';
import type { ManifestResult } from './manifests.ts';
import type { Session } from './session.ts';

const PATH_PREFIX = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** A mirror location split into the host requests go to and the repository path put before every repository. */
export interface MirrorLocation {
  /** Normalised `host[:port]`, e.g. `127.0.0.1:5001`. */
  readonly host: string;
  /** Path prefix without slashes at either end, e.g. `dockerhub`; `''` for none. */
  readonly pathPrefix: string;
}

/**
 * Parses and normalises a mirror location `host[/path-prefix]` (`mirror.gcr.io`, `127.0.0.1:5001/dockerhub`).
 * The scheme, TLS and credentials of a mirror come from its own settings (its own registries config entry, else
 * the defaults for its host), never from the registry it mirrors.
 *
 * @throws {RegistryError} `config` when it has a scheme, user info, or a path that is not lower-case path components.
 */
export function parseMirrorLocation(text: string): MirrorLocation {
  const value = text.trim().replace(/\/+$/, '');
  if (value.includes('://')) {
    throw new RegistryError('config', `mirror "${withoutUserInfo(text)}" has a scheme; write host[/path] like "mirror.gcr.io" and give the mirror its own registries entry (api_url, insecure, credentials) if it needs one`);
  }
  const slash = value.indexOf('/');
  const host = normalizeRegistryHost(slash === -1 ? value : value.slice(0, slash));
  const pathPrefix = slash === -1 ? '' : value.slice(slash + 1);
  if (pathPrefix !== '' && !PATH_PREFIX.test(pathPrefix)) {
    throw new RegistryError('config', `mirror "${withoutUserInfo(text)}" has a path that is not lower-case repository path components (e.g. "dockerhub" or "proxy/docker-hub")`);
  }
  return { host, pathPrefix };
}

/** `host[/path-prefix]` of a parsed location, the form kept in `RegistrySettings.mirrors`. */
export function formatMirrorLocation(location: MirrorLocation): string {
  return location.pathPrefix === '' ? location.host : `${location.host}/${location.pathPrefix}`;
}

/**
 * The references at which `mirrors` (in order) serve `reference`: the same repository under each mirror's
 * path prefix, with the same tag and digest. Docker Hub repositories keep `library/`
 * (`docker.io/library/nginx:1.25` with `127.0.0.1:5001/dockerhub` → `127.0.0.1:5001/dockerhub/library/nginx:1.25`),
 * as mirror.gcr.io and registry proxies serve them. A mirror under which the repository would not be a valid
 * name (over 255 characters) is left out.
 *
 * @throws {RegistryError} `config` for a mirror that is not a valid location (see {@link parseMirrorLocation}).
 * @example mirrorReferences(parseImageReference('nginx:1.25'), ['mirror.gcr.io']) // [mirror.gcr.io/library/nginx:1.25]
 */
export function mirrorReferences(reference: ImageReference, mirrors: readonly string[]): ImageReference[] {
  const result: ImageReference[] = [];
  for (const mirror of mirrors) {
    const { host, pathPrefix } = parseMirrorLocation(mirror);
    const repository = pathPrefix === '' ? reference.repository : `${pathPrefix}/${reference.repository}`;
    try {
      result.push(createImageReference({ registry: host, repository, tag: reference.tag, digest: reference.digest }));
    } catch {
      // Too long a name under this prefix: the mirror cannot hold it, so it is not asked.
    }
  }
  return result;
}

/** Options of `getManifestViaMirrors`. */
export interface MirrorReadOptions {
  /**
   * The digest the content must have (e.g. from the plan). Without it, a tag is resolved at the registry itself
   * with one HEAD (not a pull on Docker Hub) and the mirrors are asked for that digest.
   */
  readonly expectDigest?: string;
  /** Mirror locations to try, in order. @default the registry's settings' `mirrors` */
  readonly mirrors?: readonly string[];
  readonly signal?: AbortSignal;
}

/** Where mirrored content came from. */
export interface MirrorSource {
  /** The reference actually read, with the digest: a mirror's, or the registry's own. */
  readonly source: ImageReference;
  /** True when a mirror served it. */
  readonly viaMirror: boolean;
}

/** A manifest read through the mirrors. */
export type MirrorManifestResult = ManifestResult & MirrorSource;

/** A blob opened through the mirrors. */
export type MirrorBlobResult = BlobResult & MirrorSource;

/** What the mirror readers need from the client: sessions per reference and the event sink. */
export interface MirrorResolver {
  resolve(reference: ImageReference): Promise<{ session: Session; reference: ImageReference }>;
}

function describe(error: unknown): { code: string; message: string } {
  if (isRegistryError(error)) return { code: error.code, message: error.message.replace(/^@scanner\/registry: /, '') };
  return { code: 'unknown', message: error instanceof Error ? error.message : String(error) };
}

function pinDigest(reference: ImageReference, digest: string): ImageReference {
  try {
    return withDigest(reference, digest);
  } catch (error) {
    throw new RegistryError('invalid_reference', `${JSON.stringify(digest)} is not a digest (algorithm:hex)`, {
      registry: reference.registry,
      repository: reference.repository,
      cause: error,
    });
  }
}

async function readThrough<T>(
  resolver: MirrorResolver,
  upstream: { session: Session; reference: ImageReference },
  mirrors: readonly string[],
  signal: AbortSignal | undefined,
  read: (session: Session, reference: ImageReference) => Promise<T>,
): Promise<T & MirrorSource> {
  for (const mirrorReference of mirrorReferences(upstream.reference, mirrors)) {
    let session: Session | undefined;
    try {
      const resolved = await resolver.resolve(mirrorReference);
      session = resolved.session;
      const result = await read(resolved.session, resolved.reference);
      return { ...result, source: resolved.reference, viaMirror: true };
    } catch (error) {
      if (signal?.aborted === true) throw error;
      const { code, message } = describe(error);
      // Any failure falls through: a mirror is an optimisation, the registry stays the authority.
      upstream.session.runtime.emit({
        type: 'warning',
        code: 'mirror_fallthrough',
        message: `mirror ${mirrorReference.registry} did not serve ${String(mirrorReference)} (${code}: ${message}); trying the next source`,
        registry: session?.context.registry ?? mirrorReference.registry,
        repository: mirrorReference.repository,
      });
    }
  }
  const result = await read(upstream.session, upstream.reference);
  return { ...result, source: upstream.reference, viaMirror: false };
}

/**
 * Reads a manifest through the registry's mirrors, in order, then from the registry itself. Every source is
 * asked by digest, and `getManifest` verifies the bytes against it, so a mirror can only serve exactly the
 * content the registry's tag (or `expectDigest`) names: a stale tag or a substituted image falls through
 * with a `mirror_fallthrough` warning, as does a mirror that lacks the digest or fails.
 *
 * Requests: without mirrors, 1 GET at the registry (by digest when `expectDigest` is given). With mirrors:
 * 1 HEAD at the registry unless the digest is known, then 1 GET per mirror tried, and 1 GET at the registry
 * only when every mirror fell through.
 *
 * @throws {RegistryError} `invalid_reference` when `expectDigest` contradicts the reference's digest; else the
 *   registry's own error when it fails too.
 */
export async function getManifestViaMirrors(
  resolver: MirrorResolver,
  upstream: { session: Session; reference: ImageReference },
  options: MirrorReadOptions = {},
): Promise<MirrorManifestResult> {
  const { reference, session } = upstream;
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  if (options.expectDigest !== undefined && reference.digest !== undefined && options.expectDigest !== reference.digest) {
    throw new RegistryError('invalid_reference', `${String(reference)} names another digest than the expected ${options.expectDigest}`, {
      registry: reference.registry,
      repository: reference.repository,
    });
  }
  const mirrors = options.mirrors ?? session.context.settings.mirrors ?? [];
  let digest = options.expectDigest ?? reference.digest;
  if (digest === undefined && mirrors.length === 0) {
    const result = await getManifest(session, reference, signal);
    return { ...result, source: pinDigest(reference, result.digest), viaMirror: false };
  }
  digest ??= await resolveDigest(session, reference, signal);
  const pinned = pinDigest(reference, digest);
  return readThrough(resolver, { session, reference: pinned }, mirrors, options.signal, (mirrorSession, mirrorReference) =>
    getManifest(mirrorSession, mirrorReference, signal),
  );
}

/** Options of `getBlobViaMirrors`. */
export interface MirrorBlobOptions extends GetBlobOptions {
  /** Mirror locations to try, in order. @default the registry's settings' `mirrors` */
  readonly mirrors?: readonly string[];
}

/**
 * Opens a blob through the registry's mirrors, in order, then at the registry itself. A source that cannot
 * open the blob falls through (`mirror_fallthrough` warning). The stream is verified against `digest` as it
 * passes, whatever served it; a mirror whose bytes turn out wrong errors the stream (`digest_mismatch`), and
 * the caller's retry should then pass `mirrors: []`.
 */
export async function getBlobViaMirrors(
  resolver: MirrorResolver,
  upstream: { session: Session; reference: ImageReference },
  digest: string,
  options: MirrorBlobOptions = {},
): Promise<MirrorBlobResult> {
  const mirrors = options.mirrors ?? upstream.session.context.settings.mirrors ?? [];
  const blobOptions: GetBlobOptions = {
    ...(options.size === undefined ? {} : { size: options.size }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const pinned = { session: upstream.session, reference: pinDigest(upstream.reference, digest) };
  return readThrough(resolver, pinned, mirrors, options.signal, (session, reference) => getBlob(session, reference.repository, digest, blobOptions));
}
