import { TagError } from './errors.ts';
import { compileRegExp } from './regexp.ts';

/** What to pull out of each tag before ranking. */
export interface ExtractOptions {
  /** A regular expression (unanchored, Go or JavaScript syntax, see `compileRegExp`), without a `regexp:` prefix. */
  readonly pattern: string;
  /** What the value becomes: text with `$1`, `$<name>` or `${name}` (also `${1}`) references; `$$` is a `$`. */
  readonly template: string;
}

/** A compiled extractor. */
export interface Extractor {
  readonly pattern: string;
  readonly template: string;
  /** The template expanded against the first match in `tag`, or `undefined` when the tag does not match. */
  extract(tag: string): string | undefined;
}

type Part = string | { readonly group: number } | { readonly name: string };

function invalid(options: ExtractOptions, reason: string): TagError {
  return new TagError('invalid_template', `invalid extract template "${options.template}" for pattern "${options.pattern}": ${reason}`);
}

function parseTemplate(options: ExtractOptions, groupCount: number, names: ReadonlySet<string>): Part[] {
  const { template } = options;
  if (template === '') throw invalid(options, 'the template is empty; reference a group, e.g. "$1"');
  const parts: Part[] = [];
  let literal = '';
  const reference = (ref: string): void => {
    if (/^\d+$/.test(ref)) {
      const group = Number(ref);
      if (group > groupCount) throw invalid(options, `$${ref} refers to group ${group} but the pattern has ${groupCount}`);
      parts.push(literal, { group });
    } else {
      if (!names.has(ref)) throw invalid(options, `the pattern has no group named "${ref}"`);
      parts.push(literal, { name: ref });
    }
    literal = '';
  };
  for (let i = 0; i < template.length; i += 1) {
    const char = template.charAt(i);
    if (char !== '$') {
      literal += char;
      continue;
    }
    const rest = template.slice(i + 1);
    const dollar = rest.startsWith('$');
    const digits = /^\d+/.exec(rest);
    const bracketed = /^(?:<([^>]*)>|\{([^}]*)\})/.exec(rest);
    if (dollar) {
      literal += '$';
      i += 1;
    } else if (digits) {
      reference(digits[0]);
      i += digits[0].length;
    } else if (bracketed) {
      const ref = bracketed[1] ?? bracketed[2] ?? '';
      if (!/^(?:\d+|[A-Za-z_]\w*)$/.test(ref)) throw invalid(options, `"$${bracketed[0]}" is not a group reference`);
      reference(ref);
      i += bracketed[0].length;
    } else {
      throw invalid(options, `"$" at position ${i + 1} must be followed by a group number, <name>, {name} or another "$"`);
    }
  }
  parts.push(literal);
  return parts.filter((part) => part !== '');
}

/**
 * Compiles `{ pattern, template }`: a tag that matches `pattern` yields the template with its group
 * references filled in (an unmatched optional group gives the empty string); a tag that does not match yields
 * `undefined` and is dropped by the policy, which ranks the extracted values and reports the original tag.
 *
 * @throws {TagError} `invalid_matcher` when the pattern does not compile; `invalid_template` when the template
 * is empty, malformed, or refers to a group the pattern does not define.
 */
export function createExtractor(options: ExtractOptions): Extractor {
  const regexp = compileRegExp(options.pattern);
  // Count the groups by matching the empty alternative: `(?:re)|` always matches with every group undefined.
  const groupCount = (new RegExp(`(?:${regexp.source})|`, regexp.flags).exec('')?.length ?? 1) - 1;
  const names = new Set(Object.keys(new RegExp(`(?:${regexp.source})|`, regexp.flags).exec('')?.groups ?? {}));
  const parts = parseTemplate(options, groupCount, names);
  return {
    pattern: options.pattern,
    template: options.template,
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
