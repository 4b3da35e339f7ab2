import type * as Crypto from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ImageError, quote } from './errors.ts';

// node:crypto is required on the first hash, not imported with the module: resolving a digest with a HEAD
// (`scanner digest`, once per image in scripts) hashes nothing and need not load it.
const require = createRequire(import.meta.url);
let crypto: typeof Crypto | undefined;
function createHash(algorithm: DigestAlgorithm): Hash {
  crypto ??= require('node:crypto') as typeof Crypto;
  return crypto.createHash(algorithm);
}

/** The digest algorithms this toolkit accepts (the OCI image spec's registered hex algorithms). */
export type DigestAlgorithm = 'sha256' | 'sha512';

/** A parsed digest: `sha256:<64 hex>` or `sha512:<128 hex>`. */
export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  /** Lower-case hex encoding of the hash. */
  readonly hex: string;
}

const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

// The algorithm grammar of distribution/reference; a name that fits it but is not sha256/sha512 is
// "unsupported", anything else is malformed.
const ALGORITHM_PATTERN = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;
const LOWER_HEX_PATTERN = /^[a-f0-9]+$/;

function isSupportedAlgorithm(value: string): value is DigestAlgorithm {
  return value === 'sha256' || value === 'sha512';
}

/**
 * Parses and validates `algorithm:hex`. Only sha256 (64 hex) and sha512 (128 hex) are accepted, hex must be
 * lower case (as go-digest requires).
 *
 * @throws {ImageError} `invalid_digest` when malformed, `unsupported_algorithm` for any other algorithm.
 */
export function parseDigest(input: string): ParsedDigest {
  const colon = input.indexOf(':');
  if (colon <= 0 || colon === input.length - 1) {
    throw new ImageError(
      'invalid_digest',
      `invalid digest ${quote(input)}: expected "algorithm:hex", for example "sha256:" followed by 64 hex characters`,
      { input },
    );
  }
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (!isSupportedAlgorithm(algorithm)) {
    if (ALGORITHM_PATTERN.test(algorithm)) {
      throw new ImageError(
        'unsupported_algorithm',
        `unsupported digest algorithm ${quote(algorithm)} in ${quote(input)}: use sha256 or sha512`,
        { input },
      );
    }
    throw new ImageError('invalid_digest', `invalid digest ${quote(input)}: malformed algorithm ${quote(algorithm)}`, { input });
  }
  const expected = HEX_LENGTH[algorithm];
  if (hex.length !== expected) {
    throw new ImageError(
      'invalid_digest',
      `invalid digest ${quote(input)}: ${algorithm} needs ${expected} hex characters, got ${hex.length}`,
      { input },
    );
  }
  if (!LOWER_HEX_PATTERN.test(hex)) {
    throw new ImageError('invalid_digest', `invalid digest ${quote(input)}: the hash must be lower-case hex`, { input });
  }
  return Object.freeze({ algorithm, hex });
}

/** True when `value` is a string {@link parseDigest} accepts. */
export function isDigest(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

function checkAlgorithm(algorithm: string): DigestAlgorithm {
  if (isSupportedAlgorithm(algorithm)) return algorithm;
  throw new ImageError('unsupported_algorithm', `unsupported digest algorithm ${quote(algorithm)}: use sha256 or sha512`, { input: algorithm });
}

/**
 * Digest of `bytes` as `algorithm:hex`. Strings are hashed as UTF-8.
 *
 * @param algorithm @default 'sha256'
 */
export function computeDigest(bytes: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  const checked = checkAlgorithm(algorithm);
  return `${checked}:${createHash(checked).update(bytes).digest('hex')}`;
}

/** An incremental hash for content that arrives in chunks (blob downloads). */
export interface Digester {
  readonly algorithm: DigestAlgorithm;
  /** Bytes hashed so far. */
  readonly size: number;
  /** Feeds one chunk. Returns the digester so calls can be chained. */
  update(chunk: Uint8Array | string): Digester;
  /** `algorithm:hex` of everything fed so far. Finalises: later calls return the same value, `update` throws. */
  digest(): string;
  /**
   * Finalises and compares with `expected` (validated with {@link parseDigest}).
   *
   * @throws {ImageError} `invalid_digest` when `expected` is malformed or uses another algorithm.
   */
  verify(expected: string): boolean;
}

/**
 * Creates a streaming digester, for verifying blobs while they stream.
 *
 * @param algorithm @default 'sha256'
 */
export function createDigester(algorithm: DigestAlgorithm = 'sha256'): Digester {
  const checked = checkAlgorithm(algorithm);
  const hash: Hash = createHash(checked);
  let size = 0;
  let result: string | undefined;
  const digester: Digester = {
    algorithm: checked,
    get size() {
      return size;
    },
    update(chunk) {
      if (result !== undefined) {
        throw new ImageError('digester_finalized', 'digester already finalised by digest(): create a new one per blob');
      }
      hash.update(chunk);
      size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      return digester;
    },
    digest() {
      result ??= `${checked}:${hash.digest('hex')}`;
      return result;
    },
    verify(expected) {
      const parsed = parseDigest(expected);
      if (parsed.algorithm !== checked) {
        throw new ImageError(
          'invalid_digest',
          `cannot verify ${quote(expected)} with a ${checked} digester: create the digester with parseDigest(expected).algorithm`,
        );
      }
      return digester.digest() === expected;
    },
  };
  return digester;
}

/** True when `bytes` hash to `expected` (whose algorithm is used). @throws {ImageError} when `expected` is malformed. */
export function verifyDigest(bytes: Uint8Array | string, expected: string): boolean {
  const { algorithm } = parseDigest(expected);
  return computeDigest(bytes, algorithm) === expected;
}
