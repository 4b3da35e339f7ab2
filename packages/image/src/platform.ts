import { ImageError, quote } from './errors.ts';

/** An image platform, as in an OCI index entry or an image config. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const COMPONENT_PATTERN = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses `os/arch[/variant]` (`linux/amd64`, `linux/arm/v7`). Values are kept as written; use
 * {@link normalizePlatform} to fold aliases.
 *
 * @throws {ImageError} `invalid_platform` when there are not two or three non-empty `[A-Za-z0-9_.-]` parts.
 */
export function parsePlatform(input: string): Platform {
  const parts = input.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !COMPONENT_PATTERN.test(part))) {
    throw new ImageError(
      'invalid_platform',
      `invalid platform ${quote(input)}: expected "os/arch" or "os/arch/variant" (e.g. "linux/arm64" or "linux/arm/v7")`,
      { input },
    );
  }
  const [os = '', architecture = '', variant] = parts;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** Formats `os/arch[/variant]`; an empty variant is left out. @throws {ImageError} `invalid_platform`. */
export function formatPlatform(platform: Platform): string {
  const { os, architecture, variant } = platform;
  const parts = variant === undefined || variant === '' ? [os, architecture] : [os, architecture, variant];
  for (const part of parts) {
    if (!COMPONENT_PATTERN.test(part)) {
      throw new ImageError(
        'invalid_platform',
        `invalid platform ${quote(JSON.stringify(platform))}: os, architecture and variant must be [A-Za-z0-9_.-]`,
      );
    }
  }
  return parts.join('/');
}

/**
 * Folds aliases the way containerd's `platforms.Normalize` does (github.com/containerd/platforms,
 * `normalizeArch`/`normalizeOS`): everything lower case; `macos` → `darwin`; `i386` → `386`;
 * `x86_64`/`x86-64` → `amd64` (variant `v1` dropped); `aarch64` → `arm64`, whose variant `v8`/`8` is dropped
 * because v8 is the baseline; `armhf` → `arm/v7`; `armel` → `arm/v6`; `arm` without a variant (or `7`) →
 * `arm/v7`, and bare `5`/`6`/`8` get a `v`. The result has no `variant` key when there is none.
 */
export function normalizePlatform(platform: Platform): Platform {
  let os = platform.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  let architecture = platform.architecture.toLowerCase();
  let variant = (platform.variant ?? '').toLowerCase();
  switch (architecture) {
    case 'i386':
      architecture = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === 'v8') variant = '';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
    default:
      break;
  }
  return variant === '' ? { os, architecture } : { os, architecture, variant };
}

// armhf/armel name a variant through the architecture itself, so a request for them is specific.
function requestsAnyVariant(requested: Platform): boolean {
  if (requested.variant !== undefined && requested.variant !== '') return false;
  const architecture = requested.architecture.toLowerCase();
  return architecture !== 'armhf' && architecture !== 'armel';
}

/**
 * Whether an image for `actual` satisfies a request for `requested`. Both are normalised first
 * ({@link normalizePlatform}), so `x86_64` matches `amd64` and `arm64/v8` matches `arm64`. A request without a
 * variant matches any variant of its architecture (`linux/arm` matches `linux/arm/v6`); a request with one
 * needs the same normalised variant (`linux/arm/v7` matches an index entry `linux/arm`, which means v7).
 */
export function platformMatches(requested: Platform, actual: Platform): boolean {
  const want = normalizePlatform(requested);
  const have = normalizePlatform(actual);
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (requestsAnyVariant(requested)) return true;
  return (want.variant ?? '') === (have.variant ?? '');
}
