// Tag rules of a team file, compiled to the `@scanner/version` policies they mean, so a rule selects the same
// tags in `scanner plan` as the same policy does in a scan.
import { isDigest } from '@scanner/image';
import { isTagName } from '@scanner/tag';
import { isPolicyError, parsePolicy } from '@scanner/version';
import { z } from 'zod';
import { parseFields } from './config-issues.ts';
import type { KeyPath, YamlSource } from './config-yaml.ts';
import { formatKeyPath } from './config-yaml.ts';
import type { ConfigIssue, TagRule } from './types.ts';

const text = (what: string) => z.string({ error: `expected ${what}` });
const textList = (what: string) => z.array(text(what), { error: `expected a list of ${what}s` });

/** Every key a rule may have: the short forms, the pinned digest, and every field of a scan policy. */
const ruleShape = {
    semver: text('a semver range such as ">=1.2.0" or "^16"').optional(),
    regexp: text('a regular expression such as "^16\\.4\\.0-debian-12-r\\d+$"').optional(),
    names: textList('tag name').min(1, { error: 'an empty list selects no tag; list at least one tag' }).optional(),
    digest: text('a digest "sha256:<64 hex>"').optional(),
    tag: text('the tag the pinned digest gets at the target').optional(),
    strategy: text('a strategy name').optional(),
    constraint: text('a string').optional(),
    limit: z.number({ error: 'expected a positive integer' }).int({ error: 'expected a positive integer' }).positive({ error: 'expected a positive integer' }).optional(),
    extract: z
      .strictObject({ pattern: text('a regular expression'), template: text('a template such as "$1"') }, { error: 'expected { pattern, template }' })
      .optional(),
    prereleases: z.boolean({ error: 'expected true or false' }).optional(),
    strict: z.boolean({ error: 'expected true or false' }).optional(),
    order: text('"asc" or "desc"').optional(),
    allowTags: textList('matcher string').optional(),
    ignoreTags: textList('matcher string').optional(),
    platforms: textList('"os/arch[/variant]" string').optional(),
};

const NOT_A_RULE = 'expected a rule such as { semver: ">=1.0.0" }, { regexp: "^v1\\." }, { names: [latest] }, { digest: "sha256:…", tag: … } or { strategy: …, constraint: … }';

type RawRule = { -readonly [K in keyof typeof ruleShape]?: z.infer<(typeof ruleShape)[K]> };

/** The fields a rule passes to the policy as they are. */
const POLICY_FIELDS = ['limit', 'extract', 'prereleases', 'strict', 'order', 'allowTags', 'ignoreTags', 'platforms'] as const;

const FORMS = ['semver', 'regexp', 'names', 'digest', 'strategy'] as const;
type Form = (typeof FORMS)[number];

/** The result of compiling one rule: the rule, or the problems that stop it. */
export interface CompiledRule {
  readonly rule: TagRule | undefined;
  readonly issues: readonly ConfigIssue[];
}

/** Where a `parsePolicy` field sits in the rule as written (`constraint` is `semver:` in the short form…). */
function ruleKeyPath(form: Form, policyPath: KeyPath): KeyPath {
  const [head, ...rest] = policyPath;
  if (form === 'semver' && head === 'constraint') return ['semver', ...rest];
  if (form === 'regexp' && head === 'allowTags') return ['regexp'];
  if (form === 'names' && head === 'allowTags') return ['names', ...rest];
  return policyPath;
}

function parsePolicyPath(text: string): KeyPath {
  const path: (string | number)[] = [];
  for (const match of text.matchAll(/\.([A-Za-z]+)|\[(\d+)\]/g)) path.push(match[1] ?? Number(match[2]));
  return path;
}

/** The policy a short form means; fields that do not fit the form are left for the caller to reject. */
function policyInputOf(form: Exclude<Form, 'digest'>, raw: RawRule): Record<string, unknown> {
  const { semver, regexp, names, strategy, constraint } = raw;
  const fields: Record<string, unknown> = {};
  for (const key of POLICY_FIELDS) if (raw[key] !== undefined) fields[key] = raw[key];
  switch (form) {
    case 'semver':
      return { ...fields, strategy: 'semver', ...(semver === undefined ? {} : { constraint: semver }) };
    case 'regexp':
      // A regexp selects by name; among the matches, `limit` keeps the byte-wise greatest, as a scan would.
      return { ...fields, strategy: 'alphabetical', allowTags: [`regexp:${regexp ?? ''}`] };
    case 'names':
      // Tag names hold no glob characters, so a glob of the name matches exactly that tag.
      return { ...fields, strategy: 'alphabetical', allowTags: (names ?? []).map((name) => `glob:${name}`) };
    case 'strategy':
      return { ...fields, strategy, ...(constraint === undefined ? {} : { constraint }) };
  }
}

/**
 * Checks one `images[i].tags[j]` entry and compiles it. A rule has exactly one of `semver`, `regexp`, `names`,
 * `digest` (with `tag`) or `strategy` (with `constraint` where the strategy takes one), plus the policy fields
 * of `@scanner/version` (`limit`, `extract`, `prereleases`, `strict`, `allowTags`, `ignoreTags`, `order`,
 * `platforms`), checked by `parsePolicy` so a mistake reads the same as in a scan.
 */
export function compileTagRule(source: YamlSource, path: KeyPath, value: unknown): CompiledRule {
  const parsed = parseFields(source, path, value, ruleShape, NOT_A_RULE);
  if (parsed.issues.length > 0) return { rule: undefined, issues: parsed.issues };
  const raw: RawRule = parsed.data;
  const issues: ConfigIssue[] = [];
  const at = (keys: KeyPath, message: string): void => {
    issues.push(source.issueAt([...path, ...keys], message));
  };
  const forms = FORMS.filter((form) => raw[form] !== undefined);
  const form = forms[0];
  if (form === undefined) {
    at([], 'a rule needs one of semver, regexp, names, digest (with tag) or strategy');
    return { rule: undefined, issues };
  }
  if (forms.length > 1) {
    at([forms[1] ?? ''], `${forms.join(' and ')} cannot be combined in one rule; write one rule each (a tag is mirrored when any rule selects it)`);
    return { rule: undefined, issues };
  }
  const keyPath = formatKeyPath(path);

  if (form === 'digest') {
    const others = Object.keys(raw).filter((key) => key !== 'digest' && key !== 'tag');
    for (const key of others) at([key], `not used with digest: a pinned digest is copied as it is; remove "${key}"`);
    if (!isDigest(raw.digest)) at(['digest'], `invalid digest "${String(raw.digest)}": expected "sha256:" and 64 lower-case hex digits`);
    if (raw.tag === undefined) at([], 'a pinned digest needs "tag": the tag it gets at the target');
    else if (!isTagName(raw.tag)) at(['tag'], `"${raw.tag}" is not a valid tag name ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})`);
    if (issues.length > 0 || raw.digest === undefined || raw.tag === undefined) return { rule: undefined, issues };
    return { rule: { kind: 'digest', digest: raw.digest, tag: raw.tag, path: keyPath }, issues };
  }

  if (raw.tag !== undefined) at(['tag'], 'only a pinned digest takes "tag"; to rename tags at the target use the image\'s targetTag');
  if (raw.constraint !== undefined && form !== 'strategy') at(['constraint'], `${form} is the constraint of this rule; remove "constraint" or write { strategy, constraint }`);
  if (form === 'regexp' || form === 'names') {
    if (raw.allowTags !== undefined) at(['allowTags'], `${form} already says which tags are allowed; use ignoreTags to drop some, or write { strategy: alphabetical, allowTags: [...] }`);
    for (const key of ['strict', 'prereleases'] as const) if (raw[key] !== undefined) at([key], `only semver rules take "${key}"; remove it`);
  }
  if (form === 'names') {
    (raw.names ?? []).forEach((name, index) => {
      if (!isTagName(name)) at(['names', index], `"${name}" is not a valid tag name ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})`);
    });
  }
  if (issues.length > 0) return { rule: undefined, issues };

  try {
    const policy = parsePolicy(policyInputOf(form, raw), { path: 'policy' });
    return { rule: { kind: 'policy', policy, path: keyPath }, issues };
  } catch (error) {
    if (!isPolicyError(error)) throw error;
    const message = error.message.replace(/^@scanner\/version: /, '');
    const match = /^policy((?:\.[A-Za-z]+|\[\d+\])*): ([\s\S]*)$/.exec(message);
    if (match === null) at([], message);
    else at(ruleKeyPath(form, parsePolicyPath(match[1] ?? '')), match[2] ?? message);
    return { rule: undefined, issues };
  }
}
