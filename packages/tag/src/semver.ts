/** A semantic version parsed from a tag, see {@link parseSemver}. */
export interface SemanticVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Prerelease identifiers, e.g. `['rc', '1']` for `1.0.0-rc.1`; empty for a release. */
  readonly prerelease: readonly string[];
  /** Build metadata identifiers, e.g. `['sha', 'abc']` for `1.0.0+sha.abc`; they do not affect precedence. */
  readonly build: readonly string[];
}

/** Options for {@link parseSemver}. */
export interface ParseSemverOptions {
  /**
   * Accept only full `X.Y.Z` (with an optional `v` prefix, prerelease and build metadata) and no leading
   * zeros, as the semver spec says. With `false`, `X.Y` and `X` are accepted too (as `X.Y.0`, `X.0.0`),
   * and leading zeros are, as Masterminds' `NewVersion` (Argo CD Image Updater, Flux) does.
   * @default true
   */
  strict?: boolean | undefined;
}

const identifier = '[0-9A-Za-z-]+';
const strictNumber = '(?:0|[1-9]\\d*)';
const strictPrereleaseId = `(?:${strictNumber}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
// What may follow `X.Y.Z`: the core is scanned by hand (the hot path over 100,000 tags), the rarer
// prerelease/build tail by these.
const strictTail = new RegExp(`^(?:-(${strictPrereleaseId}(?:\\.${strictPrereleaseId})*))?(?:\\+(${identifier}(?:\\.${identifier})*))?$`);
const looseTail = new RegExp(`^(?:-(${identifier}(?:\\.${identifier})*))?(?:\\+(${identifier}(?:\\.${identifier})*))?$`);

const noIdentifiers: readonly string[] = Object.freeze([]);

const DOT = 46;
const ZERO = 48;
const NINE = 57;
const V = 118;

/**
 * Reads a tag as a semantic version: `1.2.3`, `v1.2.3`, `1.2.3-rc.1`, `1.2.3+build.5`; with
 * `strict: false` also `1.2` and `1`. Returns `undefined` for anything else (`latest`, `main-abc123`,
 * `1.0.0.1`, `1.0.0p`, a number beyond `Number.MAX_SAFE_INTEGER`).
 */
export function parseSemver(text: string, options: ParseSemverOptions = {}): SemanticVersion | undefined {
  const strict = options.strict ?? true;
  const length = text.length;
  let i = text.charCodeAt(0) === V ? 1 : 0;
  const core = [0, 0, 0];
  let count = 0;
  for (;;) {
    const start = i;
    let value = 0;
    for (; i < length; i += 1) {
      const char = text.charCodeAt(i);
      if (char < ZERO || char > NINE) break;
      value = value * 10 + (char - ZERO);
    }
    if (i === start) return undefined;
    if (strict && i - start > 1 && text.charCodeAt(start) === ZERO) return undefined;
    // Exact while below 2^53; a larger true value rounds to at least 2^53 and is refused here.
    if (value > Number.MAX_SAFE_INTEGER) return undefined;
    core[count] = value;
    count += 1;
    if (count === 3 || i >= length || text.charCodeAt(i) !== DOT) break;
    i += 1;
  }
  if (strict && count < 3) return undefined;
  let prerelease = noIdentifiers;
  let build = noIdentifiers;
  if (i < length) {
    const match = (strict ? strictTail : looseTail).exec(text.slice(i));
    if (match === null) return undefined;
    if (match[1] !== undefined) prerelease = match[1].split('.');
    if (match[2] !== undefined) build = match[2].split('.');
  }
  return { major: core[0] ?? 0, minor: core[1] ?? 0, patch: core[2] ?? 0, prerelease, build };
}

/** `major.minor.patch[-prerelease][+build]`, without any `v` prefix. */
export function formatSemver(version: SemanticVersion): string {
  let text = `${version.major}.${version.minor}.${version.patch}`;
  if (version.prerelease.length > 0) text += `-${version.prerelease.join('.')}`;
  if (version.build.length > 0) text += `+${version.build.join('.')}`;
  return text;
}

const digitsOnly = /^\d+$/;

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = digitsOnly.test(a);
  const bNumeric = digitsOnly.test(b);
  if (aNumeric && bNumeric) {
    // Numerically, without converting (identifiers may exceed 2^53); leading zeros only appear in loose mode.
    const aTrimmed = a.replace(/^0+(?=\d)/, '');
    const bTrimmed = b.replace(/^0+(?=\d)/, '');
    if (aTrimmed.length !== bTrimmed.length) return aTrimmed.length < bTrimmed.length ? -1 : 1;
    return aTrimmed < bTrimmed ? -1 : aTrimmed > bTrimmed ? 1 : 0;
  }
  if (aNumeric) return -1;
  if (bNumeric) return 1;
  // Identifiers are ASCII, so code-unit order is byte order.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Semver precedence, ascending: negative when `a` is the lower version. Build metadata does not count, so
 * `1.0.0+a` and `1.0.0+b` compare equal (callers break such ties on the original tag).
 */
export function compareSemver(a: SemanticVersion, b: SemanticVersion): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  const aPre = a.prerelease;
  const bPre = b.prerelease;
  if (aPre.length === 0 || bPre.length === 0) {
    // A release ranks above any of its prereleases.
    return aPre.length === bPre.length ? 0 : aPre.length === 0 ? 1 : -1;
  }
  const length = Math.min(aPre.length, bPre.length);
  for (let i = 0; i < length; i += 1) {
    const order = compareIdentifiers(aPre[i] ?? '', bPre[i] ?? '');
    if (order !== 0) return order;
  }
  return aPre.length === bPre.length ? 0 : aPre.length < bPre.length ? -1 : 1;
}
