import { tagError } from './errors.ts';
import { compileTagRegExp } from './regexp.ts';

/** What to pull out of each tag before ranking. */
export interface ExtractOptions {
  /** A regular expression (unanchored, Go's RE2 syntax and semantics, see `compileTagRegExp`), without a `regexp:` prefix. */
  readonly pattern: string;
  /**
   * What the value becomes, in the syntax of Go's `regexp.Expand` (Flux's `extract`): `$name` or `${name}`
   * where name is letters, digits and `_`; a number refers to a group by index, other names to named groups
   * (`(?P<name>…)` or `(?<name>…)`); `$$` is a `$`.
   */
  readonly template: string;
}

/** A compiled extractor. */
export interface Extractor {
  readonly pattern: string;
  readonly template: string;
  /** The template expanded against the first match in `tag`, or `undefined` when the tag does not match. */
  extract(tag: string): string | undefined;
}

/** A piece of a parsed template: literal text, a group by index, or a group by name. */
export type TemplatePart = string | { readonly group: number } | { readonly name: string };

// Go's `unicode.IsLetter`, `unicode.IsDigit` (category Nd) and `_`.
const NAME_CHARACTER = /[\p{L}\p{Nd}_]/u;
// Go reads a name of ASCII digits without a leading zero, below 1e8, as a group index.
const GROUP_INDEX = /^(?:0|[1-9]\d{0,7})$/;

/**
 * Splits a template the way Go's `regexp.Expand` reads it (`src/regexp/regexp.go`, `expand` and `extract`):
 * - `$$` is a literal `$`;
 * - `${name}` ends at the `}`; `$name` takes the longest run of letters, digits and `_`, so `$1x` is the group
 *   named `1x` (not group 1 then `x`) and `$10` is group 10; use `${1}x` for group 1 then `x`;
 * - a name of digits without a leading zero (below 10⁸) is a group index, any other a group name;
 * - a `$` not followed by a name (`$-`, `${}`, `${1`, a trailing `$`) is kept as literal text.
 * What a reference expands to (empty for a missing or unmatched group) is decided at match time.
 */
export function parseTemplate(template: string): TemplatePart[] {
  return readTemplate(template).parts;
}

function readTemplate(template: string): { parts: TemplatePart[]; angle: string | undefined } {
  const parts: TemplatePart[] = [];
  let angle: string | undefined;
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar === -1) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, dollar);
    i = dollar + 1;
    if (template.charAt(i) === '$') {
      literal += '$';
      i += 1;
      continue;
    }
    const braced = template.charAt(i) === '{';
    let end = braced ? i + 1 : i;
    for (const char of template.slice(end)) {
      if (!NAME_CHARACTER.test(char)) break;
      end += char.length;
    }
    const name = template.slice(braced ? i + 1 : i, end);
    if (name === '' || (braced && template.charAt(end) !== '}')) {
      // Malformed: Go keeps the `$` as text and goes on after it.
      literal += '$';
      angle ??= /^<\w+>/u.exec(template.slice(i))?.[0];
      continue;
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(GROUP_INDEX.test(name) ? { group: Number(name) } : { name });
    i = braced ? end + 1 : end;
  }
  if (literal !== '') parts.push(literal);
  return { parts, angle };
}

/**
 * Compiles `{ pattern, template }` for Flux's `extract` and its likes: a tag that matches `pattern` yields the
 * template expanded against the first match, as Go's `regexp.Expand` does (see {@link parseTemplate}: a
 * reference to a group the pattern lacks, or one that did not take part in the match, becomes the empty
 * string); a tag that does not match yields `undefined` and is dropped by the policy, which ranks the
 * extracted values and reports the original tag.
 *
 * @example createExtractor({ pattern: '^(?P<semver>[0-9\\.]+)\\.[0-9]+-[0-9a-z]{9}$', template: '$semver' }).extract('1.9.7.4460-a39b25852') // '1.9.7'
 * @throws {TagError} `invalid_matcher` when the pattern does not compile; `invalid_template` when the template is
 * empty, or uses JavaScript's `$<name>`, which Go (and so Flux) would copy as text.
 */
export function createExtractor(options: ExtractOptions): Extractor {
  const { template } = options;
  const regexp = compileTagRegExp(options.pattern);
  if (template === '') {
    throw tagError('invalid_template', `invalid extract template "" for pattern "${options.pattern}": the template is empty`, 'reference a group, e.g. "$1" or "${name}"', { input: template });
  }
  const { parts, angle } = readTemplate(template);
  if (angle !== undefined) {
    throw tagError(
      'invalid_template',
      `invalid extract template "${template}" for pattern "${options.pattern}": "$${angle}" is JavaScript's syntax, which Go and Flux copy as text`,
      `write "\${${angle.slice(1, -1)}}"`,
      { input: template },
    );
  }
  return {
    pattern: options.pattern,
    template,
    extract(tag) {
      const match = regexp.exec(tag);
      if (match === null) return undefined;
      let value = '';
      for (const part of parts) {
        if (typeof part === 'string') value += part;
        else if ('group' in part) value += match[part.group] ?? '';
        else value += match.groups?.[part.name] ?? '';
      }
      return value;
    },
  };
}
