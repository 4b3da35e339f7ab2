import type { Platform } from '@scanner/image';

/**
 * A tag of an image repository, with whatever metadata the caller has fetched so far. Only `name` is
 * always known (it comes from the tag list); the rest costs registry requests and is filled in lazily.
 */
export interface Tag {
  /** The tag name as the registry lists it, e.g. `v1.2.3`. */
  readonly name: string;
  /** Manifest digest, `algorithm:hex`, e.g. `sha256:…`. */
  readonly digest?: string;
  /** When the image was built (the image config's `created`). */
  readonly createdAt?: Date;
  /** Platforms the tag provides: one for a single-platform manifest, several for an index. */
  readonly platforms?: readonly Platform[];
  /** Image labels (`config.Labels`), e.g. `org.opencontainers.image.revision`. */
  readonly labels?: Readonly<Record<string, string>>;
}

// OCI distribution-spec tag grammar: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
const tagNamePattern = /^[\w][\w.-]{0,127}$/;

/** True when `name` is a valid tag per the OCI distribution spec (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`). */
export function isTagName(name: string): boolean {
  return tagNamePattern.test(name);
}
