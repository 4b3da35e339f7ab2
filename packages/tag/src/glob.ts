import { tagError } from './errors.ts';
import type { TagError } from './errors.ts';

function invalid(glob: string, reason: string): TagError {
  return tagError('invalid_matcher', `invalid glob "${glob}": ${reason}`, undefined, { input: glob });
}

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

/**
 * Compiles a glob over the whole tag into an anchored `RegExp`: `*` matches any run of characters (also
 * none), `?` exactly one, `[abc]`, `[a-z]` and `[!a-z]` (or `[^a-z]`) one character of a set, and `\`
 * makes the next character literal. Tags contain no `/`, so there is no path separator to respect.
 *
 * @throws {TagError} `invalid_matcher`, naming the glob, when it is empty, has an unterminated `[`,
 * an empty or reversed range, or ends in a lone backslash.
 */
export function globToRegExp(glob: string): RegExp {
  if (glob === '') throw invalid(glob, 'the pattern is empty (use "any" to match every tag)');
  // A leading or trailing `*` becomes a missing anchor rather than `[\s\S]*`, which would make the engine
  // backtrack over every position: `*-debug` is then a plain search for `-debug` at the end.
  let start = 0;
  while (glob.charAt(start) === '*') start += 1;
  let end = glob.length;
  while (end > start && glob.charAt(end - 1) === '*' && !isEscaped(glob, end - 1)) end -= 1;
  if (start === glob.length) return /(?:)/u;
  let source = start === 0 ? '^' : '';
  for (let i = start; i < end; i += 1) {
    const char = glob.charAt(i);
    if (char === '*') {
      source += '[\\s\\S]*';
    } else if (char === '?') {
      source += '[\\s\\S]';
    } else if (char === '\\') {
      const next = glob.charAt(i + 1);
      if (next === '') throw invalid(glob, 'it ends with a lone backslash');
      source += escapeRegExp(next);
      i += 1;
    } else if (char === '[') {
      const parsed = parseClass(glob, i);
      source += parsed.source;
      i = parsed.end;
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(end === glob.length ? `${source}$` : source, 'u');
}

function isEscaped(glob: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && glob.charAt(i) === '\\'; i -= 1) backslashes += 1;
  return backslashes % 2 === 1;
}

function parseClass(glob: string, start: number): { source: string; end: number } {
  let i = start + 1;
  let negated = false;
  if (glob.charAt(i) === '!' || glob.charAt(i) === '^') {
    negated = true;
    i += 1;
  }
  const items: string[] = [];
  let first = true;
  for (;;) {
    if (i >= glob.length) throw invalid(glob, `the "[" at position ${start + 1} is never closed`);
    let char = glob.charAt(i);
    // A `]` right after the opening bracket is a member, as in POSIX shells.
    if (char === ']' && !first) break;
    first = false;
    if (char === '\\') {
      i += 1;
      if (i >= glob.length) throw invalid(glob, 'it ends with a lone backslash');
      char = glob.charAt(i);
    }
    let high = char;
    if (glob.charAt(i + 1) === '-' && i + 2 < glob.length && glob.charAt(i + 2) !== ']') {
      i += 2;
      high = glob.charAt(i);
      if (high === '\\') {
        i += 1;
        if (i >= glob.length) throw invalid(glob, 'it ends with a lone backslash');
        high = glob.charAt(i);
      }
      if ((high.codePointAt(0) ?? 0) < (char.codePointAt(0) ?? 0)) throw invalid(glob, `the range "${char}-${high}" is reversed`);
    }
    items.push(high === char ? escapeClassChar(char) : `${escapeClassChar(char)}-${escapeClassChar(high)}`);
    i += 1;
  }
  return { source: `[${negated ? '^' : ''}${items.join('')}]`, end: i };
}

function escapeClassChar(char: string): string {
  return /[\\\]^[-]/.test(char) ? `\\${char}` : char;
}

/** The characters a tag may hold (distribution's tag grammar `[\w][\w.-]{0,127}`). */
const TAG_CHARACTER = /^[\w.-]$/;

/**
 * The first character a glob requires literally that no valid tag can have at that place (any character
 * outside `[A-Za-z0-9_.-]`, or `.`/`-` first), with its position; `undefined` when some tag could match.
 * Character classes are not inspected.
 */
export function impossibleGlobCharacter(glob: string): { readonly char: string; readonly index: number } | undefined {
  for (let i = 0; i < glob.length; i += 1) {
    const atStart = i === 0;
    let char = glob.charAt(i);
    if (char === '*' || char === '?') continue;
    if (char === '[') {
      // Skip the class: a leading `!`/`^` and a `]` right after the bracket belong to it, `\` escapes.
      let j = i + 1;
      if (glob.charAt(j) === '!' || glob.charAt(j) === '^') j += 1;
      if (glob.charAt(j) === ']') j += 1;
      while (j < glob.length && glob.charAt(j) !== ']') j += glob.charAt(j) === '\\' ? 2 : 1;
      i = j;
      continue;
    }
    if (char === '\\') {
      i += 1;
      char = glob.charAt(i);
    }
    if (!TAG_CHARACTER.test(char) || (atStart && (char === '.' || char === '-'))) return { char, index: i };
  }
  return undefined;
}
