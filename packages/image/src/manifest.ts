import { z } from 'zod';
import { isDigest } from './digest.ts';
import { ImageError, quote } from './errors.ts';
import type { ImageErrorCode } from './errors.ts';
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  baseMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
} from './media-types.ts';
import type { IndexMediaType, ManifestMediaType } from './media-types.ts';

// Every object schema is loose: registries and tools add fields (annotations, Docker's extras), and a
// mirror must be able to see them rather than have them silently stripped.

/** A `sha256:`/`sha512:` digest string (see `parseDigest`). */
export const digestSchema = z.string().refine(isDigest, {
  message: 'must be a digest "sha256:<64 hex>" or "sha512:<128 hex>"',
});

const annotationsSchema = z.record(z.string(), z.string());

/** The `platform` of an index entry. */
export const descriptorPlatformSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});

/** An OCI content descriptor (also Docker's). */
export const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: annotationsSchema.optional(),
  data: z.string().optional(),
  artifactType: z.string().optional(),
  platform: descriptorPlatformSchema.optional(),
});

/** An OCI image manifest or Docker schema2 manifest. `mediaType` is optional here; `parseManifest` fills it. */
export const imageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: annotationsSchema.optional(),
});

/** An OCI image index or Docker manifest list. `mediaType` is optional here; `parseManifest` fills it. */
export const imageIndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: annotationsSchema.optional(),
});

const stringList = z.array(z.string()).nullable().optional();

/** An OCI or Docker image config (the JSON blob the manifest's `config` descriptor points at). */
export const imageConfigSchema = z.looseObject({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  // Docker writes `null` for empty maps and lists, so those are nullable.
  config: z
    .looseObject({
      User: z.string().optional(),
      ExposedPorts: z.record(z.string(), z.unknown()).nullable().optional(),
      Env: stringList,
      Entrypoint: stringList,
      Cmd: stringList,
      Volumes: z.record(z.string(), z.unknown()).nullable().optional(),
      WorkingDir: z.string().optional(),
      Labels: z.record(z.string(), z.string()).nullable().optional(),
      StopSignal: z.string().optional(),
    })
    .nullable()
    .optional(),
  rootfs: z.looseObject({
    type: z.string(),
    diff_ids: z.array(digestSchema),
  }),
  history: z
    .array(
      z.looseObject({
        created: z.string().optional(),
        created_by: z.string().optional(),
        author: z.string().optional(),
        comment: z.string().optional(),
        empty_layer: z.boolean().optional(),
      }),
    )
    .optional(),
});

/** A content descriptor. Unknown fields are kept. */
export type Descriptor = z.infer<typeof descriptorSchema>;
/** The platform of an index entry. */
export type DescriptorPlatform = z.infer<typeof descriptorPlatformSchema>;
/** A single-platform image manifest with its `mediaType` filled in. Unknown fields are kept. */
export type ImageManifest = z.infer<typeof imageManifestSchema> & { mediaType: ManifestMediaType };
/** A multi-platform index with its `mediaType` filled in. Unknown fields are kept. */
export type ImageIndex = z.infer<typeof imageIndexSchema> & { mediaType: IndexMediaType };
/** An image config. Unknown fields are kept. */
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** What {@link parseManifest} returns: an index or an image manifest, told apart by `kind`. */
export type ParsedManifest =
  | { readonly kind: 'index'; readonly mediaType: IndexMediaType; readonly index: ImageIndex }
  | { readonly kind: 'manifest'; readonly mediaType: ManifestMediaType; readonly manifest: ImageManifest };

/** Options for {@link parseManifest}. */
export interface ParseManifestOptions {
  /**
   * The HTTP `Content-Type` the registry sent. Used when the body has no `mediaType`; a schema1 type is
   * rejected; a manifest type that contradicts the body's `mediaType` is an error. Generic types such as
   * `application/json` are ignored.
   * @default undefined
   */
  contentType?: string | undefined;
}

/** An article and the JSON type of `value`: `a string`, `an array`, `null`. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** One schema issue in our words: a type mismatch says what was expected and what came (zod's own text otherwise). */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_type') return issue.message;
  const expected = /^[aeiou]/.test(issue.expected) ? `an ${issue.expected}` : `a ${issue.expected}`;
  // `input` is reported only when the value was present (safeParse with reportInput).
  return 'input' in issue && issue.input !== undefined ? `expected ${expected}, got ${typeOf(issue.input)}` : `missing (expected ${expected})`;
}

function formatIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path
      .map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`))
      .join('');
    return `${path === '' ? '(root)' : path}: ${describeIssue(issue)}`;
  });
  const more = error.issues.length > shown.length ? ` (and ${error.issues.length - shown.length} more)` : '';
  return shown.join('; ') + more;
}

function decodeJson(bytes: Uint8Array | string, code: ImageErrorCode, what: string): unknown {
  let text: string;
  if (typeof bytes === 'string') {
    text = bytes;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (error) {
      throw new ImageError(code, `${what} is not valid UTF-8: check that the registry returned the right blob`, {
        cause: error,
      });
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ImageError(code, `${what} is not valid JSON (starts with ${quote(text.slice(0, 60))})`, { cause: error });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schema1Error(reason: string): ImageError {
  const library = 'ask the registry for a schema2 or OCI manifest (send MANIFEST_MEDIA_TYPES in Accept) or rebuild and push the image with a current client';
  const rebuild = 'rebuild and push the image with a current client (docker buildx, podman, buildah), which writes a schema2 or OCI manifest';
  return new ImageError('unsupported_schema', `Docker schema1 manifests are not supported (${reason}); ${library}`, {
    reason: `Docker schema1 manifests are not supported (${reason})`,
    hints: { library, config: rebuild, cli: rebuild },
  });
}

function isKnownManifestType(mediaType: string): boolean {
  return isIndexMediaType(mediaType) || isManifestMediaType(mediaType);
}

function resolveMediaType(body: Record<string, unknown>, contentType: string | undefined): string {
  const declared = body.mediaType;
  if (typeof declared === 'string') {
    if (contentType !== undefined && isKnownManifestType(contentType) && baseMediaType(declared) !== contentType) {
      throw new ImageError(
        'invalid_manifest',
        `manifest declares mediaType ${quote(declared)} but was served as ${quote(contentType)}: the registry or the pushed manifest is inconsistent`,
      );
    }
    return baseMediaType(declared);
  }
  if (contentType !== undefined && isKnownManifestType(contentType)) return contentType;
  if (Array.isArray(body.manifests)) return MEDIA_TYPE_OCI_INDEX;
  if ('config' in body && 'layers' in body) return MEDIA_TYPE_OCI_MANIFEST;
  throw new ImageError(
    'invalid_manifest',
    'cannot tell the manifest type: no mediaType, no manifest Content-Type, and neither "manifests" (index) nor "config" and "layers" (image manifest)',
  );
}

/**
 * Parses manifest bytes from a registry into an index or an image manifest. A missing `mediaType` is taken
 * from `contentType`, else inferred (`manifests` → OCI index, `config` + `layers` → OCI manifest) and set on
 * the result. Unknown fields are kept. Compute digests on the original bytes, never on a re-serialisation.
 *
 * @throws {ImageError} `unsupported_schema` for Docker schema1, `unsupported_media_type` for other manifest
 *   kinds (artifacts with their own media type), `invalid_manifest` for bad JSON or a schema mismatch (the
 *   message names the failing paths; `cause` is the `ZodError`).
 */
export function parseManifest(bytes: Uint8Array | string, options: ParseManifestOptions = {}): ParsedManifest {
  const contentType = options.contentType === undefined ? undefined : baseMediaType(options.contentType);
  if (contentType !== undefined && isSchema1MediaType(contentType)) throw schema1Error(`served as ${quote(contentType)}`);
  const body = decodeJson(bytes, 'invalid_manifest', 'manifest');
  if (!isPlainObject(body)) {
    throw new ImageError('invalid_manifest', 'manifest must be a JSON object');
  }
  if (body.schemaVersion === 1) throw schema1Error('schemaVersion is 1');
  if (typeof body.mediaType === 'string' && isSchema1MediaType(body.mediaType)) {
    throw schema1Error(`mediaType is ${quote(body.mediaType)}`);
  }
  const mediaType = resolveMediaType(body, contentType);
  if (mediaType === MEDIA_TYPE_OCI_INDEX || mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST) {
    const result = imageIndexSchema.safeParse(body, { reportInput: true });
    if (!result.success) {
      throw new ImageError('invalid_manifest', `invalid image index (${mediaType}): ${formatIssues(result.error)}`, {
        cause: result.error,
      });
    }
    return { kind: 'index', mediaType, index: { ...result.data, mediaType } };
  }
  if (mediaType === MEDIA_TYPE_OCI_MANIFEST || mediaType === MEDIA_TYPE_DOCKER_MANIFEST) {
    const result = imageManifestSchema.safeParse(body, { reportInput: true });
    if (!result.success) {
      throw new ImageError('invalid_manifest', `invalid image manifest (${mediaType}): ${formatIssues(result.error)}`, {
        cause: result.error,
      });
    }
    return { kind: 'manifest', mediaType, manifest: { ...result.data, mediaType } };
  }
  throw new ImageError(
    'unsupported_media_type',
    `unsupported manifest media type ${quote(mediaType)}: expected an OCI or Docker image manifest or index`,
  );
}

/**
 * Parses an image config blob (OCI or Docker). Unknown fields are kept.
 *
 * @throws {ImageError} `invalid_config` for bad JSON or a schema mismatch (`cause` is the underlying error).
 */
export function parseImageConfig(bytes: Uint8Array | string): ImageConfig {
  const body = decodeJson(bytes, 'invalid_config', 'image config');
  const result = imageConfigSchema.safeParse(body, { reportInput: true });
  if (!result.success) {
    throw new ImageError('invalid_config', `invalid image config: ${formatIssues(result.error)}`, { cause: result.error });
  }
  return result.data;
}
