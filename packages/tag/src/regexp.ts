import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import { tagError } from './errors.ts';
import type { TagError } from './errors.ts';

// POSIX classes as Go's RE2 accepts them inside brackets (`[[:alpha:]]`); JS has no such syntax and would
// silently read `[[:alpha:]]` as a set of punctuation and letters.
const posixClasses: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

// Characters that may be escaped with a backslash under the RegExp `u` flag.
const syntaxCharacters = new Set('^$\\.*+?()[]{}|/');

function isAsciiAlphanumeric(char: string): boolean {
  return /^[0-9A-Za-z]$/.test(char);
}

function invalid(pattern: string, reason: string, cause?: unknown): TagError {
  return tagError('invalid_matcher', `invalid regexp "${pattern}": ${reason}`, 'fix the pattern (RE2/Go or JavaScript syntax)', { input: pattern, cause });
}

/**
 * Compiles a regular expression written for the peers (Go's RE2, as in Argo CD Image Updater, Kargo and Flux)
 * or for JavaScript into a `RegExp`. The match is unanchored: use `^…$` to match the whole tag.
 *
 * Go syntax that JavaScript lacks is translated: named groups `(?P<name>…)`, leading flags `(?i)`, `(?s)`,
 * `(?m)`, `\A` and `\z`, POSIX classes `[[:digit:]]`, and backslash before any ASCII punctuation. The
 * pattern is compiled with the `u` flag, so an escape JavaScript does not know is an error rather than a
 * silently different pattern.
 *
 * @throws {TagError} `invalid_matcher`, naming the pattern, when it is empty or does not compile.
 */
export function compileRegExp(pattern: string): RegExp {
  if (pattern === '') throw invalid(pattern, 'the pattern is empty (use "any" to match every tag)');
  let flags = 'u';
  let rest = pattern;
  const leading = /^\(\?([imsU]+)\)/.exec(rest);
  if (leading) {
    const requested = leading[1] ?? '';
    if (requested.includes('U')) throw invalid(pattern, 'the ungreedy flag (?U) has no JavaScript equivalent');
    for (const flag of requested) if (!flags.includes(flag)) flags += flag;
    rest = rest.slice(leading[0].length);
  }
  let source = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i += 1) {
    const char = rest.charAt(i);
    if (char === '\\') {
      const next = rest.charAt(i + 1);
      if (next === '') throw invalid(pattern, 'it ends with a lone backslash');
      i += 1;
      if (!inClass && next === 'A') source += '(?<![\\s\\S])';
      else if (!inClass && next === 'z') source += '$(?![\\s\\S])';
      else if (isAsciiAlphanumeric(next) || syntaxCharacters.has(next) || next.charCodeAt(0) > 0x7f) source += `\\${next}`;
      else if (inClass && next === '-') source += '\\-';
      // Go allows a backslash before any punctuation; under `u` JavaScript allows it only before syntax characters.
      else source += next;
      continue;
    }
    if (inClass) {
      if (char === '[' && rest.charAt(i + 1) === ':') {
        const end = rest.indexOf(':]', i + 2);
        const name = end === -1 ? undefined : rest.slice(i + 2, end);
        if (name !== undefined && /^\^?[a-z]+$/.test(name)) {
          const negated = name.startsWith('^');
          const expansion = posixClasses[negated ? name.slice(1) : name];
          if (expansion === undefined) throw invalid(pattern, `unknown character class [:${name}:]`);
          if (negated) throw invalid(pattern, `negated POSIX class [:${name}:] is not supported; use [^…] instead`);
          source += expansion;
          i = end + 1;
          continue;
        }
        source += '\\[';
        continue;
      }
      if (char === ']') inClass = false;
      source += char;
      continue;
    }
    if (char === '[') {
      inClass = true;
      source += char;
      // A `^` and a leading `]` belong to the class, as in RE2.
      if (rest.charAt(i + 1) === '^') {
        source += '^';
        i += 1;
      }
      if (rest.charAt(i + 1) === ']') {
        source += '\\]';
        i += 1;
      }
      continue;
    }
    if (char === '(' && rest.startsWith('(?P<', i)) {
      source += '(?<';
      i += 3;
      continue;
    }
    source += char;
  }
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw invalid(pattern, error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error), error);
  }
}

/** One match of a {@link TagRegExp}: groups by number (`[0]` is the whole match) and by name. */
export interface TagRegExpMatch {
  readonly [group: number]: string | undefined;
  readonly groups?: Readonly<Record<string, string | undefined>> | undefined;
}

/** A compiled tag regexp: what matchers and extract templates run on upstream tags. */
export interface TagRegExp {
  /** The pattern as written. */
  readonly source: string;
  /**
   * `re2`: Go's RE2 semantics, linear time in the tag's length whatever the pattern (every pattern RE2 reads);
   * `javascript`: a pattern only JavaScript reads (lookaround, backreferences, `\u` escapes), run by
   * JavaScript's backtracking engine on tags of at most 128 characters, without nested unbounded quantifiers.
   */
  readonly engine: 're2' | 'javascript';
  /** How many capturing groups the pattern has. */
  readonly groupCount: number;
  /** True when the pattern matches somewhere in `tag` (unanchored). */
  test(tag: string): boolean;
  /** The leftmost match, as Go's `FindStringSubmatch` finds it, or null. */
  exec(tag: string): TagRegExpMatch | null;
}

/** The longest tag the distribution spec allows (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`). */
const MAX_TAG_LENGTH = 128;

// re2js (a port of RE2/J: Go's syntax and semantics, linear time) is about 260 kB of JavaScript: loaded on the
// first regexp compiled, so commands that compile none (`scanner digest`, `--help`) do not pay for it.
let re2js: typeof RE2JS | undefined;
function loadRe2(): typeof RE2JS {
  re2js ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS;
  return re2js;
}

/**
 * Where a pattern nests an unbounded quantifier (`*`, `+`, `{n,}`) inside a group that is itself repeated
 * without bound, as `(a+)+` or `(\d+\.?)*`: the shape that makes a backtracking engine take exponential time.
 * Returns the offending group's text, or undefined.
 */
function nestedQuantifier(source: string): string | undefined {
  const open: { start: number; unbounded: boolean }[] = [];
  // The group that closed just before the current character, if any.
  let closed: { start: number; unbounded: boolean; end: number } | undefined;
  let inClass = false;
  for (let i = 0; i < source.length; i += 1) {
    const char = source.charAt(i);
    const previous = closed?.end === i - 1 ? closed : undefined;
    if (char === '\\') {
      i += 1;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === '(') open.push({ start: i, unbounded: false });
    else if (char === ')') {
      const group = open.pop();
      if (group !== undefined) {
        closed = { ...group, end: i };
        const parent = open.at(-1);
        if (parent !== undefined && group.unbounded) parent.unbounded = true;
      }
    } else if (char === '*' || char === '+' || (char === '{' && /^\{\d+,\}/.test(source.slice(i)))) {
      if (previous?.unbounded === true) return source.slice(previous.start, i + 1);
      const parent = open.at(-1);
      if (parent !== undefined) parent.unbounded = true;
    }
  }
  return undefined;
}

/**
 * Compiles a regular expression for matching registry tags, with the semantics of Go's RE2 (the engine of
 * Argo CD Image Updater, Kargo, Flux and skopeo): unanchored (write `^…$` for the whole tag), Go syntax as
 * written (`(?P<name>…)`, `(?i)`, `(?U)`, `\A`, `\z`, `\Q…\E`, `[[:digit:]]`, `[[:^alpha:]]`), and matching in
 * time linear in the tag's length (re2js), so a tag chosen upstream cannot make a pattern such as `^(a+)+$`
 * run for hours, as it would on JavaScript's backtracking engine.
 *
 * A pattern RE2 cannot read but JavaScript can (lookaround `(?=…)`, backreferences `\1`, `\u0041`) runs on
 * JavaScript's engine (translated as {@link compileRegExp} does), bounded: tags longer than the 128 characters
 * the distribution spec allows never match, and a pattern nesting unbounded quantifiers is refused.
 *
 * @throws {TagError} `invalid_matcher`, naming the pattern, when it is empty, does not compile, or is a
 * JavaScript-only pattern with nested unbounded quantifiers (with a hint to rewrite it).
 */
export function compileTagRegExp(pattern: string): TagRegExp {
  if (pattern === '') throw invalid(pattern, 'the pattern is empty (use "any" to match every tag)');
  let compiled: RE2JS | undefined;
  try {
    compiled = loadRe2().compile(pattern);
  } catch {
    compiled = undefined;
  }
  if (compiled !== undefined) {
    const re2 = compiled;
    return {
      source: pattern,
      engine: 're2',
      groupCount: re2.groupCount(),
      test: (tag) => re2.test(tag),
      exec: (tag) => re2.exec(tag) as TagRegExpMatch | null,
    };
  }
  // Not RE2: JavaScript syntax, or an error (reported in the words of the JavaScript translation).
  const regexp = compileRegExp(pattern);
  const nested = nestedQuantifier(pattern);
  if (nested !== undefined) {
    throw tagError(
      'invalid_matcher',
      `invalid regexp "${pattern}": "${nested}" repeats a repetition, which JavaScript's engine (needed for this pattern's lookaround, backreference or \\u escape) may take exponential time to match`,
      'rewrite it without nesting unbounded quantifiers (e.g. "(a+)+" as "a+"), or without the JavaScript-only syntax so it runs on the linear-time RE2 engine',
      { input: pattern },
    );
  }
  return {
    source: pattern,
    engine: 'javascript',
    // The empty alternative matches with every group unset: the match array's length counts the groups.
    groupCount: (new RegExp(`(?:${regexp.source})|`, regexp.flags).exec('')?.length ?? 1) - 1,
    test: (tag) => tag.length <= MAX_TAG_LENGTH && regexp.test(tag),
    exec: (tag) => (tag.length <= MAX_TAG_LENGTH ? regexp.exec(tag) : null),
  };
}
