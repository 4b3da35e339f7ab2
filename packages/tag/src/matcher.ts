import { tagError } from './errors.ts';
import { globToRegExp, impossibleGlobCharacter } from './glob.ts';
import { compileTagRegExp } from './regexp.ts';
import type { TagRegExp } from './regexp.ts';

/** How a matcher string was read: see {@link parseMatcher}. */
export type MatcherKind = 'regexp' | 'glob' | 'any' | 'none';

/** A compiled matcher. */
export interface TagMatcher {
  readonly kind: MatcherKind;
  /** The matcher string as given, e.g. `regexp:^v\d+`. */
  readonly source: string;
  /** True when the tag name matches. */
  test(tag: string): boolean;
}

const PREFIXED = /^([A-Za-z][\w-]*):/;

// Words users write for the two prefixes (other tools' names for them, common typos).
const PREFIX_ALIASES: Readonly<Record<string, 'regexp' | 'glob'>> = {
  regex: 'regexp',
  regx: 'regexp',
  reg: 'regexp',
  re: 'regexp',
  re2: 'regexp',
  rx: 'regexp',
  pcre: 'regexp',
  pattern: 'regexp',
  wildcard: 'glob',
  wild: 'glob',
  fnmatch: 'glob',
  globs: 'glob',
};

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The prefix a mistyped `word:` most likely meant, if any. */
function likelyPrefix(word: string): 'regexp' | 'glob' | undefined {
  const lower = word.toLowerCase();
  if (lower === 'regexp' || lower === 'glob') return lower;
  const alias = PREFIX_ALIASES[lower];
  if (alias !== undefined) return alias;
  if (editDistance(lower, 'regexp') <= 2) return 'regexp';
  if (editDistance(lower, 'glob') <= 1) return 'glob';
  return undefined;
}

const SYNTAX = 'write "regexp:<re>", "glob:<pattern>" (or a bare glob), "any" or "none"';

/** `did you mean "<candidate>"?` when the candidate is a valid matcher, else `otherwise`. */
function suggest(candidate: string, because: string, otherwise: string): string {
  try {
    parseMatcher(candidate);
  } catch {
    return otherwise;
  }
  return `did you mean "${candidate}"?${because === '' ? '' : ` (${because})`}`;
}

/** A glob that could only match text that is no tag: an error naming the character, with a likely fix. */
function checkGlob(source: string, glob: string): void {
  const word = PREFIXED.exec(glob)?.[1];
  if (word !== undefined) {
    const meant = likelyPrefix(word);
    const rest = glob.slice(word.length + 1);
    throw tagError(
      'invalid_matcher',
      `unknown matcher prefix "${word}:" in "${source}": read as a glob it can never match a tag (tags never contain ":")`,
      meant === undefined ? SYNTAX : suggest(`${meant}:${rest}`, '', SYNTAX),
      { input: source },
    );
  }
  const impossible = impossibleGlobCharacter(glob);
  if (impossible === undefined) return;
  const { char, index } = impossible;
  const generic = 'or use "regexp:<re>" for a regular expression';
  let hint: string;
  if (char === '/' || char === ':' || char === '@') {
    // An image reference where a tag was expected: keep what follows the last ":" (the tag part), else the last path component.
    const tail = glob.includes(':') ? glob.slice(glob.lastIndexOf(':') + 1) : glob.slice(glob.lastIndexOf('/') + 1);
    const because = 'a matcher tests the tag alone, not the image';
    hint = tail === '' ? because : suggest(tail, because, because);
  } else if (char === '+') {
    hint = suggest(glob.replaceAll('+', '_'), 'registries store a semver "+" as "_" in tags', generic);
  } else if (index === 0 && (char === '.' || char === '-')) {
    hint = suggest(`*${glob}`, 'a glob covers the whole tag', generic);
  } else {
    hint = generic;
  }
  const what = index === 0 && (char === '.' || char === '-') ? `no tag starts with "${char}"` : `no tag contains ${JSON.stringify(char)} (tags hold letters, digits, "_", "." and "-")`;
  throw tagError('invalid_matcher', `glob "${source}" can never match a tag: ${what}`, hint, { input: source });
}

/**
 * Compiles one matcher string, the syntax shared by allow-lists and ignore-lists:
 * - `regexp:<re>`: a regular expression, unanchored (like Argo CD Image Updater, Kargo and Flux), with Go's
 *   RE2 syntax and semantics and linear-time matching, see {@link compileTagRegExp};
 * - `glob:<pattern>`, or a bare pattern without a prefix: a glob over the whole tag (`*`, `?`, `[…]`),
 *   see {@link globToRegExp};
 * - `any`: every tag; `none`: no tag. (A tag literally named `any` or `none` is `glob:any`, `glob:none`.)
 *
 * A matcher that could never match a valid tag is refused rather than silently matching nothing: a glob that
 * requires a character no tag holds (`:`, `/`, `@`, `+`, a space…, or a leading `.`/`-`), and so an unknown
 * `word:` prefix (`regex:^1\.2`, whose message asks "did you mean "regexp:^1\.2"?").
 *
 * @throws {TagError} `invalid_matcher` with `fields.input` (the matcher), `fields.reason` and `fields.hints`,
 * when the matcher is empty, does not compile, or can never match a tag.
 */
export function parseMatcher(source: string): TagMatcher {
  if (source === 'any') return { kind: 'any', source, test: () => true };
  if (source === 'none') return { kind: 'none', source, test: () => false };
  if (source === '') throw tagError('invalid_matcher', 'empty matcher', SYNTAX, { input: source });
  if (source.startsWith('regexp:')) return fromRegExp('regexp', source, compileTagRegExp(source.slice('regexp:'.length)));
  const glob = source.startsWith('glob:') ? source.slice('glob:'.length) : source;
  const regexp = globToRegExp(glob);
  checkGlob(source, glob);
  return fromRegExp('glob', source, regexp);
}

function fromRegExp(kind: MatcherKind, source: string, regexp: RegExp | TagRegExp): TagMatcher {
  // The compiled patterns carry no `g`/`y` flag, so `test` keeps no state between calls.
  return { kind, source, test: (tag) => regexp.test(tag) };
}

/** Options for {@link createTagFilter}. */
export interface TagFilterOptions {
  /**
   * Matcher strings a tag must match at least one of.
   * @default ['any']
   */
  allow?: readonly string[] | undefined;
  /**
   * Matcher strings of which a tag must match none; ignore wins over allow.
   * @default []
   */
  ignore?: readonly string[] | undefined;
}

/**
 * Builds a predicate from an allow-list and an ignore-list of matcher strings: a tag passes when it matches
 * some allow matcher and no ignore matcher.
 *
 * @throws {TagError} `invalid_matcher` for the first matcher that does not compile or can never match a tag.
 */
export function createTagFilter(options: TagFilterOptions = {}): (tag: string) => boolean {
  const allow = (options.allow ?? ['any']).map(parseMatcher);
  const ignore = (options.ignore ?? []).map(parseMatcher).filter((matcher) => matcher.kind !== 'none');
  const allowAll = allow.some((matcher) => matcher.kind === 'any');
  if (ignore.some((matcher) => matcher.kind === 'any')) return () => false;
  if (allowAll && ignore.length === 0) return () => true;
  return (tag) => (allowAll || allow.some((matcher) => matcher.test(tag))) && !ignore.some((matcher) => matcher.test(tag));
}
