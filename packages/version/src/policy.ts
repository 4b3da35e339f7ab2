import type { ExtractOptions } from '@scanner/tag';
import { z } from 'zod';
import { compilePolicy } from './compile.ts';
import { PolicyError } from './errors.ts';
import type { Strategy, StrategyAlias } from './strategy.ts';
import { resolveStrategy, strategyList } from './strategy.ts';

/** `asc` ranks the greatest value first (as Flux does), `desc` the least. */
export type SortOrder = 'asc' | 'desc';

/** A validated tag selection policy, as {@link parsePolicy} returns it (aliases resolved). */
export interface Policy {
  readonly strategy: Strategy;
  /**
   * `semver`: a range (`^1.2`, `>=1.0, <2.0`, `1.x`); without one, every version. `digest`: the one tag to
   * track (required). Other strategies take none.
   */
  readonly constraint?: string | undefined;
  /**
   * `semver` only: accept only full `X.Y.Z` tags (optional `v` prefix); `false` also takes `1.2` and `1`.
   * @default true
   */
  readonly strict?: boolean | undefined;
  /**
   * `semver` only: let prerelease versions (`1.0.0-rc.1`) in. They are also let in when the constraint
   * itself names a prerelease.
   * @default false
   */
  readonly prereleases?: boolean | undefined;
  /**
   * `alphabetical` and `numerical` only: `asc` ranks the greatest first, `desc` the least first.
   * @default 'asc'
   */
  readonly order?: SortOrder | undefined;
  /**
   * Matcher strings (`regexp:…`, `glob:…` or a bare glob, `any`, `none`); a tag must match one.
   * @default ['any']
   */
  readonly allowTags?: readonly string[] | undefined;
  /**
   * Matcher strings; a tag matching any of them is dropped, whatever `allowTags` says.
   * @default []
   */
  readonly ignoreTags?: readonly string[] | undefined;
  /** Rank on a value extracted from each tag instead of the whole tag; tags that do not match are dropped. */
  readonly extract?: ExtractOptions | undefined;
  /** `os/arch[/variant]` strings; a tag passes when one of its platforms matches one of them. */
  readonly platforms?: readonly string[] | undefined;
  /** The most candidates to return, best first. @default unlimited */
  readonly limit?: number | undefined;
}

/** What {@link parsePolicy} accepts: a {@link Policy} whose strategy may also be an alias. */
export type PolicyInput = Omit<Policy, 'strategy'> & { readonly strategy: Strategy | StrategyAlias };

const matcherList = z.array(z.string({ error: 'expected a matcher string' }), { error: 'expected a list of matcher strings' });

const policySchema = z.strictObject({
  strategy: z.string({ error: `required: one of ${strategyList}` }).refine((name) => resolveStrategy(name) !== undefined, {
    error: (issue) => `unknown strategy ${JSON.stringify(issue.input)}; use one of ${strategyList}`,
  }),
  constraint: z.string({ error: 'expected a string' }).optional(),
  strict: z.boolean({ error: 'expected true or false' }).optional(),
  prereleases: z.boolean({ error: 'expected true or false' }).optional(),
  order: z.enum(['asc', 'desc'], { error: (issue) => `expected "asc" or "desc", got ${JSON.stringify(issue.input)}` }).optional(),
  allowTags: matcherList.optional(),
  ignoreTags: matcherList.optional(),
  extract: z
    .strictObject(
      { pattern: z.string({ error: 'expected a regular expression string' }), template: z.string({ error: 'expected a template string such as "$1"' }) },
      { error: 'expected { pattern, template }' },
    )
    .optional(),
  platforms: z.array(z.string({ error: 'expected "os/arch[/variant]"' }), { error: 'expected a list of "os/arch[/variant]" strings' }).optional(),
  limit: z.number({ error: 'expected a positive integer' }).int({ error: 'expected a positive integer' }).positive({ error: 'expected a positive integer' }).optional(),
}, { error: 'expected a policy object such as { "strategy": "semver", "constraint": "^1.0" }' });

/** Formats a zod/field path the way config errors read: `policy.allowTags[1]`. */
export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let text = root;
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return text;
}

/** The value at a zod issue's path in the input, if any. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Options for {@link parsePolicy}. */
export interface ParsePolicyOptions {
  /**
   * Where the policy sits in the caller's configuration, used as the root of every error path, e.g.
   * `images[3].policy`.
   * @default 'policy'
   */
  path?: string | undefined;
}

/**
 * Validates a policy that came from outside (a config file, CLI flags, an API body) and returns it typed, with
 * strategy aliases resolved. Everything is checked up front: the shape (with zod), the semver range, every
 * matcher, the extract pattern and template, the platforms, and fields that do not fit the strategy.
 *
 * @throws {PolicyError} naming the field, e.g. `policy.constraint: invalid semver range "1.x.y"`, with
 *   `fields.field` (the path), `fields.input` (the value, when text), `fields.reason` and `fields.hints`.
 */
export function parsePolicy(input: unknown, options: ParsePolicyOptions = {}): Policy {
  const root = options.path ?? 'policy';
  const result = policySchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = formatPath(root, issue.path);
      if (issue.code === 'unrecognized_keys') return { field, reason: `unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}`, hint: undefined };
      // The strategy's message carries its own list of names; keep it apart as the hint.
      const [reason = issue.message, hint] = issue.message.split('; ');
      return { field, reason, hint };
    });
    const [first] = problems;
    const message = problems.map((problem) => `${problem.field}: ${problem.reason}${problem.hint === undefined ? '' : `; ${problem.hint}`}`).join('; ');
    const value = first === undefined ? undefined : valueAt(input, result.error.issues[0]?.path ?? []);
    throw new PolicyError('invalid_policy', message, {
      cause: result.error,
      ...(first === undefined
        ? {}
        : {
            field: first.field,
            reason: first.reason,
            ...(typeof value === 'string' ? { input: value } : {}),
            ...(first.hint === undefined ? {} : { hints: { cli: first.hint, config: first.hint, library: first.hint } }),
          }),
    });
  }
  const data = result.data;
  const policy: Policy = Object.freeze({
    ...data,
    strategy: resolveStrategy(data.strategy) ?? 'semver',
    ...(data.allowTags === undefined ? {} : { allowTags: Object.freeze([...data.allowTags]) }),
    ...(data.ignoreTags === undefined ? {} : { ignoreTags: Object.freeze([...data.ignoreTags]) }),
    ...(data.platforms === undefined ? {} : { platforms: Object.freeze([...data.platforms]) }),
    ...(data.extract === undefined ? {} : { extract: Object.freeze({ ...data.extract }) }),
  });
  compilePolicy(policy, root);
  return policy;
}
