import { parseDigest } from './digest.ts';
import { ImageError, isImageError, quote } from './errors.ts';

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

/** The fields of an {@link ImageReference}, for {@link createImageReference} and {@link formatImageReference}. */
export interface ImageReferenceParts {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
}

/** Docker Hub's canonical registry name. */
export const DOCKER_HUB_REGISTRY = 'docker.io';
// The old "Docker Index" name, still accepted and rewritten to docker.io.
const LEGACY_DOCKER_HUB_REGISTRY = 'index.docker.io';
const OFFICIAL_REPOSITORY_PREFIX = 'library/';
/** Longest repository path (without the registry) distribution/reference accepts. */
export const MAX_REPOSITORY_LENGTH = 255;

// The grammar of distribution/reference (regexp.go), written out here.
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const PATH_PATTERN = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
// Bracketed IPv6 only; zone ids (`%eth0`) and IPv4-mapped forms are deliberately excluded, as upstream.
const IPV6_ADDRESS = '\\[[a-fA-F0-9:]+\\]';
const DOMAIN_PATTERN = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?$`);
// `\w` without the `u` flag is ASCII-only, like Go's RE2 `\w`.
const TAG_PATTERN = /^\w[\w.-]{0,127}$/;
const IDENTIFIER_PATTERN = /^[a-f0-9]{64}$/;

const referencePrototype = {
  toString(this: ImageReference): string {
    return canonicalString(this);
  },
};

function canonicalString(ref: ImageReferenceParts): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

// Builds the frozen object from already validated parts; toString lives on a shared prototype so that
// references compare equal field by field.
function freezeReference(parts: ImageReferenceParts): ImageReference {
  const ref = Object.create(referencePrototype) as { -readonly [K in keyof ImageReference]: ImageReference[K] };
  ref.registry = parts.registry;
  ref.repository = parts.repository;
  if (parts.tag !== undefined) ref.tag = parts.tag;
  if (parts.digest !== undefined) ref.digest = parts.digest;
  return Object.freeze(ref);
}

function hasUppercase(value: string): boolean {
  return value.toLowerCase() !== value;
}

/**
 * Whether a leading path component is read as a registry host by Docker's normalisation: it contains `.` or
 * `:`, is `localhost`, or has an upper-case letter (repository paths are lower case, so it cannot be one).
 */
function looksLikeRegistry(component: string): boolean {
  return /[.:]/.test(component) || component === 'localhost' || hasUppercase(component);
}

// splitDockerDomain from distribution/reference's normalize.go.
function splitRegistry(input: string): { registry: string; remainder: string } {
  const slash = input.indexOf('/');
  if (slash === -1) {
    return { registry: DOCKER_HUB_REGISTRY, remainder: OFFICIAL_REPOSITORY_PREFIX + input };
  }
  const first = input.slice(0, slash);
  const rest = input.slice(slash + 1);
  let registry: string;
  let remainder: string;
  if (first === LEGACY_DOCKER_HUB_REGISTRY) {
    registry = DOCKER_HUB_REGISTRY;
    remainder = rest;
  } else if (looksLikeRegistry(first)) {
    registry = first;
    remainder = rest;
  } else {
    registry = DOCKER_HUB_REGISTRY;
    remainder = input;
  }
  if (registry === DOCKER_HUB_REGISTRY && !remainder.includes('/')) {
    remainder = OFFICIAL_REPOSITORY_PREFIX + remainder;
  }
  return { registry, remainder };
}

function checkRepository(repository: string, input: string): void {
  if (!PATH_PATTERN.test(repository)) {
    if (hasUppercase(repository) && PATH_PATTERN.test(repository.toLowerCase())) {
      throw new ImageError('uppercase', `invalid reference ${quote(input)}: repository name must be lower case`, { input });
    }
    throw new ImageError(
      'invalid_format',
      `invalid reference format ${quote(input)}: repository path ${quote(repository)} must be lower-case components ` +
        `([a-z0-9] separated by ".", "_", "__" or dashes) joined by "/"`,
      { input },
    );
  }
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    throw new ImageError(
      'name_too_long',
      `invalid reference ${quote(input)}: repository name must not be more than ${MAX_REPOSITORY_LENGTH} characters, ` +
        `got ${repository.length}`,
      { input },
    );
  }
}

function checkTag(tag: string, input: string): void {
  if (!TAG_PATTERN.test(tag)) {
    throw new ImageError(
      'invalid_tag',
      `invalid tag ${quote(tag)} in ${quote(input)}: a tag is 1 to 128 of [A-Za-z0-9_.-] and cannot start with "." or "-"`,
      { input },
    );
  }
}

function checkDigest(digest: string, input: string): void {
  try {
    parseDigest(digest);
  } catch (error) {
    if (!isImageError(error)) throw error;
    throw new ImageError(error.code, `invalid reference ${quote(input)}: ${error.detail}`, {
      input,
      cause: error,
    });
  }
}

function parseNormalized(input: string): ImageReference {
  const { registry, remainder } = splitRegistry(input);
  const at = remainder.indexOf('@');
  const nameAndTag = at === -1 ? remainder : remainder.slice(0, at);
  const digest = at === -1 ? undefined : remainder.slice(at + 1);
  // The remainder holds no registry, so the first ':' separates the tag.
  const colon = nameAndTag.indexOf(':');
  const repository = colon === -1 ? nameAndTag : nameAndTag.slice(0, colon);
  const tag = colon === -1 ? undefined : nameAndTag.slice(colon + 1);

  if (hasUppercase(repository)) {
    throw new ImageError('uppercase', `invalid reference ${quote(input)}: repository name must be lower case`, { input });
  }
  if (!DOMAIN_PATTERN.test(registry)) {
    throw new ImageError(
      'invalid_format',
      `invalid reference format ${quote(input)}: registry ${quote(registry)} is not a host name, IPv4 address or ` +
        `bracketed IPv6 address with an optional port`,
      { input },
    );
  }
  checkRepository(repository, input);
  if (tag !== undefined) checkTag(tag, input);
  if (digest !== undefined) checkDigest(digest, input);
  return freezeReference({ registry, repository, tag, digest });
}

/**
 * Parses an image reference the way Docker does (Go's `reference.ParseNormalizedNamed`): `nginx` becomes
 * `docker.io/library/nginx`, `index.docker.io` becomes `docker.io`, the first path component is a registry
 * when it contains `.` or `:`, is `localhost` or has an upper-case letter. No default tag is added.
 *
 * @example parseImageReference('nginx:1.25').toString() // 'docker.io/library/nginx:1.25'
 * @throws {ImageError} `empty_name`, `invalid_format`, `uppercase`, `name_too_long`, `invalid_tag`,
 *   `invalid_digest` or `unsupported_algorithm`; the message quotes the input.
 */
export function parseImageReference(input: string): ImageReference {
  if (typeof input !== 'string') {
    throw new ImageError('invalid_format', `invalid reference: expected a string, got ${typeof input}`);
  }
  if (input === '') {
    throw new ImageError('empty_name', 'invalid reference "": repository name must have at least one component', { input });
  }
  if (IDENTIFIER_PATTERN.test(input)) {
    throw new ImageError(
      'invalid_format',
      `invalid reference ${quote(input)}: a repository name cannot be a 64-character hex string; for a digest write "sha256:<hex>" after "name@"`,
      { input },
    );
  }
  try {
    return parseNormalized(input);
  } catch (error) {
    // Upstream reports "must be lowercase" whenever lower-casing would have made the input valid.
    if (isImageError(error, 'invalid_format') && hasUppercase(input)) {
      let validWhenLowered = false;
      try {
        parseNormalized(input.toLowerCase());
        validWhenLowered = true;
      } catch {
        // still invalid: keep the original error
      }
      if (validWhenLowered) {
        throw new ImageError('uppercase', `invalid reference ${quote(input)}: repository name must be lower case`, {
          input,
          cause: error,
        });
      }
    }
    throw error;
  }
}

function checkRegistry(registry: string): string {
  if (!DOMAIN_PATTERN.test(registry)) {
    throw new ImageError(
      'invalid_registry',
      `invalid registry ${quote(registry)}: expected a host name, IPv4 address or bracketed IPv6 address with an optional port`,
      { input: registry },
    );
  }
  if (registry === LEGACY_DOCKER_HUB_REGISTRY) return DOCKER_HUB_REGISTRY;
  if (!looksLikeRegistry(registry)) {
    throw new ImageError(
      'invalid_registry',
      `invalid registry ${quote(registry)}: it would be read back as a Docker Hub namespace; use a name with a "." ` +
        `or a port (e.g. "${registry}:5000"), or "localhost"`,
      { input: registry },
    );
  }
  return registry;
}

/**
 * Validates and normalises parts into a frozen {@link ImageReference}: `index.docker.io` becomes `docker.io`,
 * and a one-component Docker Hub repository gets `library/`. The registry must be recognisable as one when
 * the reference is parsed back (contain `.` or `:`, be `localhost`, or have an upper-case letter).
 *
 * @throws {ImageError} `invalid_registry`, `invalid_format`, `uppercase`, `name_too_long`, `invalid_tag`,
 *   `invalid_digest`, `unsupported_algorithm`.
 */
export function createImageReference(parts: ImageReferenceParts): ImageReference {
  const registry = checkRegistry(parts.registry);
  let repository = parts.repository;
  if (registry === DOCKER_HUB_REGISTRY && !repository.includes('/')) repository = OFFICIAL_REPOSITORY_PREFIX + repository;
  const shown = canonicalString({ ...parts, registry, repository });
  checkRepository(repository, shown);
  if (parts.tag !== undefined) checkTag(parts.tag, shown);
  if (parts.digest !== undefined) checkDigest(parts.digest, shown);
  return freezeReference({ registry, repository, tag: parts.tag, digest: parts.digest });
}

/**
 * The canonical string `registry/repository[:tag][@digest]`, after the same validation and normalisation as
 * {@link createImageReference}. For a parsed reference this equals `String(ref)`.
 */
export function formatImageReference(parts: ImageReferenceParts): string {
  return canonicalString(createImageReference(parts));
}

/**
 * The short name Docker shows: `docker.io/` and a single-level `library/` are dropped (`nginx`,
 * `bitnami/redis`, `ghcr.io/org/app`). Unlike upstream, `docker.io/` is kept when dropping it would make the
 * name parse differently (a first component like `foo.com` or `localhost`), and `library/` is kept when the
 * short name would be a 64-character hex string, so `parseImageReference(familiarName(ref))` always gives
 * back the same repository.
 */
export function familiarName(ref: ImageReferenceParts): string {
  if (ref.registry !== DOCKER_HUB_REGISTRY) return `${ref.registry}/${ref.repository}`;
  let name = ref.repository;
  if (name.startsWith(OFFICIAL_REPOSITORY_PREFIX)) {
    const rest = name.slice(OFFICIAL_REPOSITORY_PREFIX.length);
    if (!rest.includes('/') && !IDENTIFIER_PATTERN.test(rest)) name = rest;
  }
  const slash = name.indexOf('/');
  if (slash !== -1 && looksLikeRegistry(name.slice(0, slash))) return `${DOCKER_HUB_REGISTRY}/${ref.repository}`;
  return name;
}

/** {@link familiarName} with `:tag` and `@digest`: `nginx:1.25@sha256:…`. */
export function familiarString(ref: ImageReferenceParts): string {
  let out = familiarName(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** A copy of `ref` with `tag` set; a digest is kept. @throws {ImageError} `invalid_tag`. */
export function withTag(ref: ImageReference, tag: string): ImageReference {
  checkTag(tag, canonicalString(ref));
  return freezeReference({ ...ref, tag });
}

/** A copy of `ref` with `digest` set; a tag is kept. @throws {ImageError} `invalid_digest`, `unsupported_algorithm`. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  checkDigest(digest, canonicalString(ref));
  return freezeReference({ ...ref, digest });
}

/** A copy of `ref` with neither tag nor digest: the repository name only. */
export function withoutTagOrDigest(ref: ImageReference): ImageReference {
  return freezeReference({ registry: ref.registry, repository: ref.repository });
}

/** Alias of {@link withoutTagOrDigest}. */
export const nameOnly: (ref: ImageReference) => ImageReference = withoutTagOrDigest;

/**
 * The same repository path, tag and digest on another registry (for mirroring). Moving onto `docker.io` adds
 * `library/` to a one-component path, as Docker Hub requires.
 *
 * @example withRegistry(parseImageReference('nginx:1'), 'mirror.local:5000').toString()
 *   // 'mirror.local:5000/library/nginx:1'
 * @throws {ImageError} `invalid_registry`.
 */
export function withRegistry(ref: ImageReference, registry: string): ImageReference {
  return createImageReference({ ...ref, registry });
}

/** True when `value` is a valid, normalised {@link ImageReference} whose `toString()` gives its canonical form. */
export function isImageReference(value: unknown): value is ImageReference {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  const { registry, repository, tag, digest } = candidate;
  if (typeof registry !== 'string' || typeof repository !== 'string') return false;
  if (tag !== undefined && typeof tag !== 'string') return false;
  if (digest !== undefined && typeof digest !== 'string') return false;
  const toString: unknown = Reflect.get(candidate, 'toString');
  if (typeof toString !== 'function') return false;
  try {
    const canonical = createImageReference({ registry, repository, tag, digest });
    const shown: unknown = Reflect.apply(toString, value, []);
    return canonical.registry === registry && canonical.repository === repository && shown === canonical.toString();
  } catch {
    return false;
  }
}
