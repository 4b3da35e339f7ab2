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
