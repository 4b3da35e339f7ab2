import { computeDigest } from '@scanner/image';
import { digestAlgorithm, isTag } from './grammar.ts';
import { inspectManifest } from './manifest.ts';
import type { ManifestFacts } from './manifest.ts';

/** A manifest as stored: the exact pushed bytes and what was learned from them. */
export interface StoredManifest extends ManifestFacts {
  digest: string;
  bytes: Buffer;
}

interface Repository {
  /** Blobs linked into this repository; the bytes live once in the store, shared by every repository. */
  blobs: Set<string>;
  manifests: Map<string, StoredManifest>;
  tags: Map<string, string>;
}

/** Why a manifest was refused; the HTTP layer and the seeding API each turn it into their own error. */
export type ManifestRejection =
  | { code: 'MANIFEST_INVALID'; message: string; cause: unknown }
  | { code: 'DIGEST_INVALID'; message: string }
  | { code: 'MANIFEST_BLOB_UNKNOWN'; message: string; missing: string[] };

export type PutManifestResult = { ok: true; manifest: StoredManifest } | { ok: false; rejection: ManifestRejection };

/** An upload session started by `POST /v2/<name>/blobs/uploads/`. */
export interface UploadSession {
  id: string;
  repository: string;
  chunks: Buffer[];
  size: number;
}

/** Content-addressed blobs plus per-repository links, manifests and tags. Names are validated by the caller. */
export class RegistryStore {
  readonly #blobs = new Map<string, Buffer>();
  readonly #repositories = new Map<string, Repository>();
  readonly uploads = new Map<string, UploadSession>();

  hasRepository(name: string): boolean {
    return this.#repositories.has(name);
  }

  /** Repository names in byte order (as distribution sorts them). */
  repositoryNames(): string[] {
    return [...this.#repositories.keys()].sort(byteOrder);
  }

  /** Tags of a repository in byte order, or undefined when the repository does not exist. */
  tagNames(name: string): string[] | undefined {
    const repository = this.#repositories.get(name);
    return repository === undefined ? undefined : [...repository.tags.keys()].sort(byteOrder);
  }

  putBlob(name: string, bytes: Buffer, digest: string = computeDigest(bytes)): string {
    if (!this.#blobs.has(digest)) this.#blobs.set(digest, bytes);
    this.#repository(name).blobs.add(digest);
    return digest;
  }

  /** The bytes of a blob linked into the repository. */
  getBlob(name: string, digest: string): Buffer | undefined {
    return this.#repositories.get(name)?.blobs.has(digest) === true ? this.#blobs.get(digest) : undefined;
  }

  /** Links a blob of `from` into `name`; false when `from` does not have it. */
  mountBlob(name: string, from: string, digest: string): boolean {
    const bytes = this.getBlob(from, digest);
    if (bytes === undefined) return false;
    this.putBlob(name, bytes, digest);
    return true;
  }

  /** Unlinks a blob from the repository, dropping the bytes once no repository links them. */
  deleteBlob(name: string, digest: string): boolean {
    const repository = this.#repositories.get(name);
    if (repository?.blobs.delete(digest) !== true) return false;
    if (![...this.#repositories.values()].some((other) => other.blobs.has(digest))) this.#blobs.delete(digest);
    return true;
  }

  /**
   * Stores a manifest under a tag or its digest after checking it parses, that a digest reference matches the
   * bytes, and that every blob and child manifest it references is in the repository.
   */
  putManifest(name: string, reference: string, bytes: Buffer, contentType: string | undefined): PutManifestResult {
    const check = inspectManifest(bytes, contentType);
    if (!check.ok) return { ok: false, rejection: { code: 'MANIFEST_INVALID', message: check.message, cause: check.cause } };
    let digest: string;
    if (isTag(reference)) {
      digest = computeDigest(bytes);
    } else {
      const algorithm = digestAlgorithm(reference);
      if (algorithm === undefined) {
        return { ok: false, rejection: { code: 'DIGEST_INVALID', message: `unsupported digest "${reference}"; use sha256 or sha512` } };
      }
      digest = computeDigest(bytes, algorithm);
      if (digest !== reference) {
        return { ok: false, rejection: { code: 'DIGEST_INVALID', message: `manifest digest is ${digest}, not ${reference}` } };
      }
    }
    const existing = this.#repositories.get(name);
    const missingBlobs = check.facts.blobs.filter((blob) => existing?.blobs.has(blob) !== true);
    const missingChildren = check.facts.children.filter((child) => existing?.manifests.has(child) !== true);
    const missing = [...missingBlobs, ...missingChildren];
    if (missing.length > 0) {
      return { ok: false, rejection: { code: 'MANIFEST_BLOB_UNKNOWN', message: `manifest references content missing from "${name}"`, missing } };
    }
    const repository = this.#repository(name);
    const manifest: StoredManifest = { ...check.facts, digest, bytes };
    repository.manifests.set(digest, manifest);
    if (isTag(reference)) repository.tags.set(reference, digest);
    return { ok: true, manifest };
  }

  /** A manifest by tag or digest. */
  getManifest(name: string, reference: string): StoredManifest | undefined {
    const repository = this.#repositories.get(name);
    if (repository === undefined) return undefined;
    const digest = repository.tags.get(reference) ?? reference;
    return repository.manifests.get(digest);
  }

  /** By tag: removes the tag only. By digest: removes the manifest and every tag pointing at it. */
  deleteManifest(name: string, reference: string): boolean {
    const repository = this.#repositories.get(name);
    if (repository === undefined) return false;
    if (repository.tags.delete(reference)) return true;
    if (!repository.manifests.delete(reference)) return false;
    for (const [tag, digest] of repository.tags) if (digest === reference) repository.tags.delete(tag);
    return true;
  }

  /** Manifests of the repository whose `subject` is `digest`. */
  referrers(name: string, digest: string): StoredManifest[] {
    const repository = this.#repositories.get(name);
    if (repository === undefined) return [];
    return [...repository.manifests.values()].filter((manifest) => manifest.subject === digest);
  }

  /** Creates the repository on first write, as a push does. */
  #repository(name: string): Repository {
    let repository = this.#repositories.get(name);
    if (repository === undefined) {
      repository = { blobs: new Set(), manifests: new Map(), tags: new Map() };
      this.#repositories.set(name, repository);
    }
    return repository;
  }
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
