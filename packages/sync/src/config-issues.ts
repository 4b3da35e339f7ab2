// Turns zod issues into located config issues, with the hints a person editing YAML needs: the key they
// probably meant, the quotes a number needs to stay a tag, and where credentials go instead.
import type { z } from 'zod';
import type { KeyPath, YamlSource } from './config-yaml.ts';
import type { ConfigIssue } from './types.ts';

/** Where credentials belong, for the message that rejects them in a team file. */
export const CREDENTIALS_HINT =
  'credentials never go in mirror config files (they are committed and read by every team): configure them for the registry in the registries config (--registries-config / SCANNER_REGISTRIES_CONFIG) or the Docker config';

const credentialKey = /pass(word|wd)?|secret|token|cred|^auths?$|authori[sz]ation|^user(name)?$|^login$|api[-_]?key/i;

/** True for a key that looks like it carries a credential (`password`, `credentials`, `auth`, `token`…). */
export function isCredentialKey(key: string): boolean {
  return credentialKey.test(key);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** `; did you mean "tags"?` when a known key is within two edits, else ''. */
export function didYouMean(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : `; did you mean "${best}"?`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/**
 * The issues of a failed zod parse of the value at `base`. Unknown keys become one issue each at the key
 * (credential-looking keys say where credentials go); a number or boolean where a string belongs says to quote
 * it, showing the text as written (`1.10` would otherwise silently become the tag `1.1`).
 */
export function zodIssues(source: YamlSource, base: KeyPath, error: z.ZodError, known: readonly string[] = []): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const path: KeyPath = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push(unknownKeyIssue(source, path, key, known));
      continue;
    }
    if (issue.code === 'invalid_type' && issue.expected === 'string') {
      const value = valueAt(source.value, path);
      if (typeof value === 'number' || typeof value === 'boolean') {
        const written = source.sourceText(path) ?? String(value);
        issues.push(source.issueAt(path, `expected a string, but YAML reads ${written} as a ${typeof value}; quote it: '${written}'`));
        continue;
      }
      if (value !== undefined) {
        issues.push(source.issueAt(path, `${issue.message}, got ${describeValue(value)}`));
        continue;
      }
    }
    issues.push(source.issueAt(path, issue.message));
  }
  return issues;
}

/** The issue for a key the schema does not know: a hint at the key meant, or where credentials go. */
export function unknownKeyIssue(source: YamlSource, path: KeyPath, key: string, known: readonly string[]): ConfigIssue {
  const message = isCredentialKey(key) ? `"${key}" is not allowed here: ${CREDENTIALS_HINT}` : `unknown key "${key}"${didYouMean(key, known)}`;
  return source.issueAtKey(path, key, message);
}

/** What {@link parseFields} read: the fields that are valid, and the problems of the others. */
export interface ParsedFields<T> {
  readonly data: Partial<T>;
  readonly issues: readonly ConfigIssue[];
}

/**
 * Checks a mapping key by key against an object schema, so that one bad key does not hide the rest: unknown
 * keys, missing required keys and invalid values each become an issue, and every valid field is kept for the
 * checks that follow.
 */
export function parseFields<Shape extends Record<string, z.ZodType>>(
  source: YamlSource,
  path: KeyPath,
  value: unknown,
  shape: Shape,
  notAMapping: string,
): ParsedFields<{ [K in keyof Shape]: z.infer<Shape[K]> }> {
  const known = Object.keys(shape);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { data: {}, issues: [source.issueAt(path, `${notAMapping}, got ${describeValue(value)}`)] };
  }
  const record = value as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(record)) if (!Object.hasOwn(shape, key)) issues.push(unknownKeyIssue(source, path, key, known));
  const data: Record<string, unknown> = {};
  for (const key of known) {
    const schema = shape[key] as z.ZodType;
    const given = record[key];
    const result = schema.safeParse(given);
    if (result.success) {
      if (result.data !== undefined) data[key] = result.data;
    } else if (given === undefined) {
      issues.push(source.issueAt(path, `missing required key "${key}": ${result.error.issues[0]?.message ?? 'required'}`));
    } else {
      issues.push(...zodIssues(source, [...path, key], result.error, known));
    }
  }
  return { data: data as Partial<{ [K in keyof Shape]: z.infer<Shape[K]> }>, issues };
}

/** The plain value at `path` inside `root`, or undefined. */
export function valueAt(root: unknown, path: KeyPath): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Issues of one file in position order (issues without a position first); stable. */
export function byPosition(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
