// The client methods a mirroring engine needs beyond reading and pushing: read-through source mirrors and
// OCI referrers. Kept apart from client.ts, which builds them into every RegistryClient.
import type { Descriptor, ImageReference } from '@scanner/image';
import type { ClientCore, ReferenceInput } from './client.ts';
import type { MirrorBlobOptions, MirrorBlobResult, MirrorManifestResult, MirrorReadOptions } from './mirrors.ts';
import type {
  CopyReferrersOptions,
  CopyReferrersResult,
  ListReferrersOptions,
  PushReferrerOptions,
  PushReferrerResult,
  ReferrersList,
  UpdateReferrersTagResult,
} from './referrers.ts';

/** Source mirrors (`mirrors:` in the registries config). */
export interface MirrorMethods {
  /**
   * The references at which the registry's mirrors serve `reference`, in order (see `mirrorReferences`), from
   * the registry's settings; empty when it has none. No request.
   */
  mirrorsFor(reference: ReferenceInput): Promise<ImageReference[]>;
  /**
   * A manifest read through the registry's mirrors, by digest (`expectDigest`, the reference's digest, else one
   * HEAD at the registry), falling through to the registry; `source` says who served it. See `getManifestViaMirrors`.
   */
  getManifestViaMirrors(reference: ReferenceInput, options?: MirrorReadOptions): Promise<MirrorManifestResult>;
  /** A blob opened through the registry's mirrors, falling through to the registry; verified as it streams. */
  getBlobViaMirrors(repository: ReferenceInput, digest: string, options?: MirrorBlobOptions): Promise<MirrorBlobResult>;
}

/** OCI referrers (distribution-spec 1.1), with the referrers tag schema where the registry has no API. */
export interface ReferrerMethods {
  /** The referrers of a manifest (a tag is resolved to its digest first). See `listReferrers`. */
  listReferrers(subject: ReferenceInput, options?: ListReferrersOptions): Promise<ReferrersList>;
  /** PUTs a manifest with `subject` and makes it discoverable (referrers API, else the referrers tag index). */
  pushReferrer(reference: ReferenceInput, bytes: Uint8Array, options: PushReferrerOptions): Promise<PushReferrerResult>;
  /**
   * Adds already-pushed referrers to the referrers tag index of `subject` (a digest) in the reference's
   * repository; for registries whose manifest PUT answered no `OCI-Subject` (`putManifest(...).subject`).
   */
  updateReferrersTag(repository: ReferenceInput, subject: string, descriptors: readonly Descriptor[], options?: { signal?: AbortSignal }): Promise<UpdateReferrersTagResult>;
  /** Copies the referrers of `from` (a manifest) to `to` (the same manifest elsewhere). See `copyReferrers`. */
  copyReferrers(from: ReferenceInput, to: ReferenceInput, options?: CopyReferrersOptions): Promise<CopyReferrersResult>;
}

/**
 * Builds {@link MirrorMethods} and {@link ReferrerMethods} on the client's core. Their modules load with the
 * first call: a process that only reads (the CLI's scan commands) never loads them.
 */
export function createSyncMethods(core: ClientCore): MirrorMethods & ReferrerMethods {
  const resolver = { resolve: (reference: ImageReference) => core.reference(reference) };
  const mirrors = () => import('./mirrors.ts');
  const referrers = () => import('./referrers.ts');
  return {
    async mirrorsFor(input) {
      const { session, reference } = await core.reference(input);
      return (await mirrors()).mirrorReferences(reference, session.context.settings.mirrors ?? []);
    },
    async getManifestViaMirrors(input, options) {
      return (await mirrors()).getManifestViaMirrors(resolver, await core.reference(input), options);
    },
    async getBlobViaMirrors(repository, digest, options) {
      return (await mirrors()).getBlobViaMirrors(resolver, await core.reference(repository), digest, options);
    },
    async listReferrers(input, options) {
      const { session, reference } = await core.reference(input);
      return (await referrers()).listReferrers(session, reference, options);
    },
    async pushReferrer(input, bytes, options) {
      const { session, reference } = await core.reference(input);
      return (await referrers()).pushReferrer(session, reference, bytes, options);
    },
    async updateReferrersTag(repository, subject, descriptors, options) {
      const { session, reference } = await core.reference(repository);
      return (await referrers()).updateReferrersTag(session, reference, subject, descriptors, options);
    },
    async copyReferrers(from, to, options) {
      return (await referrers()).copyReferrers(await core.reference(from), await core.reference(to), options);
    },
  };
}
