// The registries config file's YAML and schema, loaded by `parseRegistriesConfig` when it parses a file: yaml
// and zod are not loaded by a process that has no registries config (the CLI runs once per image).
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDurationMs } from './duration.ts';
import { RegistryError, isRegistryError } from './errors.ts';
import { parseMirrorLocation } from './mirrors.ts';

/** Argo CD Image Updater reads its file as YAML 1.1, where `yes`/`no`/`on`/`off` are booleans. */
const YAML11_BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  y: true,
  on: true,
  false: false,
  no: false,
  n: false,
  off: false,
};

const yamlBoolean = z.preprocess(
  (value) => (typeof value === 'string' ? (YAML11_BOOLEANS[value.toLowerCase()] ?? value) : value),
  z.boolean(),
);

const duration = z.string().superRefine((value, context) => {
  if (parseDurationMs(value) === undefined) {
    context.addIssue({ code: 'custom', message: `"${value}" is not a duration; write e.g. 30s, 5m or 1h30m` });
  }
});

const mirrorLocation = z.string().min(1).superRefine((value, context) => {
  try {
    parseMirrorLocation(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: messageOf(error) });
  }
});

export const credentialsSchema = z.union([
  z.string().min(1),
  z.strictObject({ username: z.string().min(1), password: z.string().min(1) }),
  z.strictObject({ identity_token: z.string().min(1), username: z.string().min(1).optional() }),
]);

const entrySchema = z.strictObject({
  // Argo CD Image Updater's keys.
  name: z.string().min(1),
  prefix: z.string().min(1).optional(),
  api_url: z.string().min(1).optional(),
  ping: yamlBoolean.optional(),
  credentials: credentialsSchema.optional(),
  credsexpire: duration.optional(),
  tagsortmode: z.preprocess((value) => (typeof value === 'string' ? value.toLowerCase() : value), z.enum(['none', 'latest-first', 'latest-last'])).optional(),
  insecure: yamlBoolean.optional(),
  ca_file: z.string().min(1).optional(),
  ca_data: z.string().min(1).optional(),
  defaultns: z.string().min(1).optional(),
  limit: z.number().nonnegative().optional(),
  default: yamlBoolean.optional(),
  // Ours.
  page_size: z.int().positive().optional(),
  concurrency: z.int().positive().optional(),
  timeout: duration.optional(),
  timeout_ms: z.int().positive().optional(),
  operation_timeout: duration.refine((value) => parseDurationMs(value) !== 0, { message: 'must be longer than 0, e.g. 2m' }).optional(),
  token_realm_allow_list: z.array(z.string().min(1)).optional(),
  mirrors: z.array(mirrorLocation).optional(),
  ratelimit_floor: z.int().nonnegative().optional(),
});

export const fileSchema = z.strictObject({ registries: z.array(entrySchema).nullish() });

const ENTRY_KEYS = Object.keys(entrySchema.shape);

export function parseYaml(text: string, where: string): unknown {
  const lineCounter = new LineCounter();
  // prettyErrors would quote the offending line, which may carry a password.
  const document = parseDocument(text, { prettyErrors: false, lineCounter, uniqueKeys: true });
  const [first] = document.errors;
  if (first !== undefined) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new RegistryError('config', `invalid ${where}: YAML error at line ${line}, column ${col} (${first.code}); fix the syntax there`);
  }
  return document.toJS({ maxAliasCount: 100 }) as unknown;
}

/** zod's messages, made to read like instructions; never quotes the value (it may be a secret). */
export function zodMessage(issue: { code?: string; input?: unknown; expected?: string; minimum?: unknown; origin?: string }): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'required';
    const expected = issue.expected === 'int' ? 'integer' : (issue.expected ?? 'different type');
    return `expected ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'string') return 'must not be empty';
  if (issue.code === 'invalid_union') return 'expected a credential string like env:VAR, or { username, password }, or { identity_token }';
  return undefined;
}

export function formatIssue(issue: z.core.$ZodIssue): string[] {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const where = path === '' ? key : `${path}.${key}`;
      const suggestion = path === '' ? undefined : closest(key, ENTRY_KEYS);
      return `${where}: unknown key${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`;
    });
  }
  return [`${path === '' ? '(root)' : path}: ${issue.message}`];
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`;
  return text;
}

/** The known key within edit distance 2, to catch typos such as `api_ur1`. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(key, candidate);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function messageOf(error: unknown): string {
  if (isRegistryError(error)) return error.detail;
  return error instanceof Error ? error.message : String(error);
}
