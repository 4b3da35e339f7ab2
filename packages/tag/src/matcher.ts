import { TagError } from './errors.ts';
import { globToRegExp } from './glob.ts';
import { compileRegExp } from './regexp.ts';

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

/**
 * Compiles one matcher string, the syntax shared by allow-lists and ignore-lists:
 * - `regexp:<re>`: a regular expression, unanchored (like Argo CD Image Updater, Kargo and Flux); Go syntax
 *   such as `(?P<name>…)` is accepted, see {@link compileRegExp};
 * - `glob:<pattern>`, or a bare pattern without a prefix: a glob over the whole tag (`*`, `?`, `[…]`),
 *   see {@link globToRegExp};
 * - `any`: every tag; `none`: no tag. (A tag literally named `any` or `none` is `glob:any`, `glob:none`.)
 *
 * @throws {TagError} `invalid_matcher`, naming the matcher, when it is empty or its pattern does not compile.
 */
export function parseMatcher(source: string): TagMatcher {
  if (source === 'any') return { kind: 'any', source, test: () => true };
  if (source === 'none') return { kind: 'none', source, test: () => false };
  if (source === '') throw new TagError('invalid_matcher', 'empty matcher; write "any", "none", "regexp:<re>" or "glob:<pattern>"');
  if (source.startsWith('regexp:')) return fromRegExp('regexp', source, compileRegExp(source.slice('regexp:'.length)));
  const glob = source.startsWith('glob:') ? source.slice('glob:'.length) : source;
  return fromRegExp('glob', source, globToRegExp(glob));
}

function fromRegExp(kind: MatcherKind, source: string, regexp: RegExp): TagMatcher {
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
 * @throws {TagError} `invalid_matcher` for the first matcher that does not compile.
 */
export function createTagFilter(options: TagFilterOptions = {}): (tag: string) => boolean {
  const allow = (options.allow ?? ['any']).map(parseMatcher);
  const ignore = (options.ignore ?? []).map(parseMatcher).filter((matcher) => matcher.kind !== 'none');
  const allowAll = allow.some((matcher) => matcher.kind === 'any');
  if (ignore.some((matcher) => matcher.kind === 'any')) return () => false;
  if (allowAll && ignore.length === 0) return () => true;
  return (tag) => (allowAll || allow.some((matcher) => matcher.test(tag))) && !ignore.some((matcher) => matcher.test(tag));
}
