// One config file at a time: `targets.yaml`, or a team file. Checks everything a file can check on its own;
// what needs several files (target names, colliding target repositories) is `assembleMirrorConfig`'s.
import { createImageReference, isImageError, parseImageReference } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import { isRegistryError, normalizeRegistryHost } from '@scanner/registry';
import { createExtractor, isTagError, parseMatcher } from '@scanner/tag';
import { z } from 'zod';
import { byPosition, parseFields } from './config-issues.ts';
import type { KeyPath, YamlSource } from './config-yaml.ts';
import { formatKeyPath, parseYamlSource } from './config-yaml.ts';
import { compileTagRule } from './rules.ts';
import type { ConfigIssue, MirrorImage, MirrorTarget, TagRule, TargetTagTemplate } from './types.ts';

/** The file that names the targets. */
export const TARGETS_FILE = 'targets.yaml';

/** A place in a config file, for issues found later (by `assembleMirrorConfig`). */
export type ConfigLocation = Omit<ConfigIssue, 'message'>;

/** What parsing one file gave: its content, or every problem in it. */
export type ConfigFileResult<T> =
  | { readonly file: string; readonly ok: true; readonly value: T }
  | {
      readonly file: string;
      readonly ok: false;
      readonly issues: readonly ConfigIssue[];
      /**
       * A team file's parts that are valid (its valid images, every target list that parsed), so that the
       * checks across files still run on them and all problems are reported at once; never planned.
       */
      readonly partial?: PartialTeamFile;
    };

/** The valid parts of an invalid team file: see {@link ConfigFileResult}. */
export interface PartialTeamFile {
  readonly file: string;
  readonly owner: string;
  readonly images: readonly TeamImage[];
  /** Target lists (the file's, and those of images left out for other problems), where they are written. */
  readonly targetLists: readonly { readonly names: readonly string[]; readonly at: ConfigLocation }[];
}

/** `targets.yaml`, validated. */
export interface TargetsFile {
  readonly file: string;
  readonly targets: readonly MirrorTarget[];
}

/** One `images[]` entry of a team file before the targets are known. */
export interface TeamImage extends Omit<MirrorImage, 'targets'> {
  /** The image's `targets`, else the file's; `undefined` means every target. */
  readonly targets: readonly string[] | undefined;
  /** Where the entry sits, for issues found across files. */
  readonly locations: {
    readonly entry: ConfigLocation;
    readonly source: ConfigLocation;
    /** The `targets` key that chose the targets (the image's, else the file's), if any. */
    readonly targets: ConfigLocation | undefined;
    readonly rename: ConfigLocation | undefined;
  };
}

/** A team file, validated on its own. */
export interface TeamFile {
  readonly file: string;
  readonly owner: string;
  readonly images: readonly TeamImage[];
}

const text = (what: string) => z.string({ error: `expected ${what}` });
const bool = z.boolean({ error: 'expected true or false' });
const matcherList = z.array(text('a matcher string (a glob, "regexp:<re>", "any" or "none")'), { error: 'expected a list of matcher strings' });
const targetNames = z
  .array(text('a target name from targets.yaml'), { error: 'expected a list of target names from targets.yaml' })
  .min(1, { error: 'an empty list mirrors nowhere; omit targets to use every target' });
const owner = text('the owning team, e.g. "team-storage"').refine((value) => /^\S(?:[^\p{Cc}]{0,126}\S)?$/u.test(value), {
  error: 'expected the owning team: 1 to 128 characters on one line, no leading or trailing space',
});
const schedule = text('a cron expression such as "0 */6 * * *"');

const targetShape = {
  name: text('a target name such as "main"').regex(/^[A-Za-z0-9][\w.-]{0,62}$/, {
    error: 'expected a name of letters, digits, ".", "_" and "-" (at most 63), e.g. "main"',
  }),
  registry: text('a registry host such as "mirror.example.io" or "127.0.0.1:5000"'),
  prefix: text('a repository path such as "acme"').optional(),
};

const targetsShape = {
  targets: z.array(z.unknown(), { error: 'expected a list of targets' }).min(1, { error: 'name at least one target' }),
};

const teamShape = {
  owner,
  targets: targetNames.optional(),
  provenance: bool.optional(),
  referrers: bool.optional(),
  schedule: schedule.optional(),
  images: z.array(z.unknown(), { error: 'expected a list of images' }),
};

const imageShape = {
  source: text('a source repository such as "docker.io/bitnami/postgresql"'),
  tags: z.array(z.unknown(), { error: 'expected a list of tag rules' }).min(1, { error: 'list at least one tag rule' }),
  exclude: matcherList.optional(),
  mutable: matcherList.optional(),
  rename: text('a target repository path such as "bitnami-postgresql"').optional(),
  targets: targetNames.optional(),
  owner: owner.optional(),
  provenance: bool.optional(),
  referrers: bool.optional(),
  schedule: schedule.optional(),
  targetTag: z
    .strictObject({ pattern: text('a regular expression'), template: text('a template such as "$1"') }, { error: 'expected { pattern, template }' })
    .optional(),
};

const stripPrefix = (message: string): string => message.replace(/^@scanner\/[a-z-]+: /, '');

// Five fields (minute hour day-of-month month day-of-week), six with seconds first, or a nickname. The worker
// runs the expression with croner, which checks the ranges; this catches what is plainly not cron.
const cronField = /^[\d*?LW#/,A-Za-z-]+$/;
const cronNicknames = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function checkSchedule(value: string): string | undefined {
  const trimmed = value.trim();
  if (cronNicknames.has(trimmed)) return undefined;
  const fields = trimmed.split(/\s+/);
  if ((fields.length === 5 || fields.length === 6) && fields.every((field) => cronField.test(field))) return undefined;
  return `"${value}" is not a cron expression: write 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly`;
}

function location(source: YamlSource, path: KeyPath): ConfigLocation {
  const at = source.issueAt(path, '');
  return { file: at.file, line: at.line, column: at.column, path: at.path };
}

function checkRepositoryPath(path: string): string | undefined {
  try {
    createImageReference({ registry: 'mirror.invalid', repository: path });
    return undefined;
  } catch (error) {
    if (!isImageError(error)) throw error;
    return `invalid repository path "${path}": lower-case components ([a-z0-9] separated by ".", "_", "__" or dashes) joined by "/", at most 255 characters`;
  }
}

/** Parses and validates `targets.yaml` (`file` is its name relative to the config directory). */
export function parseTargetsFile(content: string, file: string = TARGETS_FILE): ConfigFileResult<TargetsFile> {
  const source = parseYamlSource(file, content);
  if (source.unreadable) return { file, ok: false, issues: source.syntaxIssues };
  const top = parseFields(source, [], source.value ?? {}, targetsShape, 'expected a mapping with "targets:", a list of { name, registry, prefix? }');
  const issues: ConfigIssue[] = [...source.syntaxIssues, ...top.issues];
  const targets: MirrorTarget[] = [];
  const byName = new Map<string, number>();
  const byPlace = new Map<string, number>();
  (top.data.targets ?? []).forEach((value, index) => {
    const at = (key: string, message: string): void => {
      issues.push(source.issueAt(['targets', index, key], message));
    };
    const fields = parseFields(source, ['targets', index], value, targetShape, 'expected a target { name, registry, prefix? }');
    issues.push(...fields.issues);
    const entry = fields.data;
    if (entry.name !== undefined) {
      const first = byName.get(entry.name);
      if (first !== undefined) at('name', `target "${entry.name}" is already defined at targets[${first}]; names must be unique`);
      else byName.set(entry.name, index);
    }
    if (entry.registry === undefined || entry.name === undefined) return;
    let registry: string | undefined;
    try {
      registry = normalizeRegistryHost(entry.registry);
      createImageReference({ registry, repository: 'check/path' });
    } catch (error) {
      if (!isRegistryError(error) && !isImageError(error)) throw error;
      registry = undefined;
      at('registry', `${stripPrefix(error.message)}; write the host only (the endpoint, TLS and credentials go in the registries config)`);
    }
    const prefix = entry.prefix;
    if (prefix !== undefined) {
      const problem = checkRepositoryPath(prefix);
      if (problem !== undefined) at('prefix', problem);
    }
    if (registry === undefined || fields.issues.length > 0) return;
    const place = `${registry}/${prefix ?? ''}`;
    const same = byPlace.get(place);
    if (same !== undefined) at('registry', `targets[${same}] already writes to ${registry}${prefix === undefined ? '' : `/${prefix}`}; two targets would write the same repositories`);
    else byPlace.set(place, index);
    targets.push(Object.freeze({ name: entry.name, registry, prefix }));
  });
  if (issues.length > 0) return { file, ok: false, issues: byPosition(issues) };
  return { file, ok: true, value: Object.freeze({ file, targets: Object.freeze(targets) }) };
}

interface FileDefaults {
  readonly owner: string | undefined;
  readonly targets: readonly string[] | undefined;
  readonly provenance: boolean;
  readonly referrers: boolean;
  readonly schedule: string | undefined;
}

function checkMatchers(source: YamlSource, path: KeyPath, list: readonly string[] | undefined, issues: ConfigIssue[]): void {
  list?.forEach((matcher, index) => {
    try {
      parseMatcher(matcher);
    } catch (error) {
      if (!isTagError(error)) throw error;
      issues.push(source.issueAt([...path, index], stripPrefix(error.message)));
    }
  });
}

function parseSource(text: string, report: (message: string) => void): ImageReference | undefined {
  try {
    const ref = parseImageReference(text);
    if (ref.tag === undefined && ref.digest === undefined) return ref;
    report(`"${text}" names a ${ref.digest === undefined ? 'tag' : 'digest'}; source is a repository: select tags with "tags" (a pinned digest is { digest, tag })`);
  } catch (error) {
    if (!isImageError(error)) throw error;
    report(stripPrefix(error.message));
  }
  return undefined;
}

function parseImage(source: YamlSource, index: number, value: unknown, defaults: FileDefaults, issues: ConfigIssue[]): TeamImage | undefined {
  const path: KeyPath = ['images', index];
  const parsed = parseFields(source, path, value, imageShape, 'expected an image such as { source: docker.io/bitnami/postgresql, tags: [...] }');
  const raw = parsed.data;
  const before = issues.length;
  issues.push(...parsed.issues);
  const at = (keys: KeyPath, message: string): void => {
    issues.push(source.issueAt([...path, ...keys], message));
  };

  let ref: ImageReference | undefined;
  if (raw.source !== undefined) ref = parseSource(raw.source, (message) => { at(['source'], message); });

  const rules: TagRule[] = [];
  (raw.tags ?? []).forEach((rule, position) => {
    const compiled = compileTagRule(source, [...path, 'tags', position], rule);
    issues.push(...compiled.issues);
    if (compiled.rule !== undefined) rules.push(compiled.rule);
  });
  checkMatchers(source, [...path, 'exclude'], raw.exclude, issues);
  checkMatchers(source, [...path, 'mutable'], raw.mutable, issues);
  if (raw.rename !== undefined) {
    const problem = checkRepositoryPath(raw.rename);
    if (problem !== undefined) at(['rename'], problem);
  }
  if (raw.targets !== undefined) checkUnique(source, [...path, 'targets'], raw.targets, issues);
  if (raw.schedule !== undefined) {
    const problem = checkSchedule(raw.schedule);
    if (problem !== undefined) at(['schedule'], problem);
  }
  let targetTag: TargetTagTemplate | undefined;
  if (raw.targetTag !== undefined) {
    try {
      createExtractor(raw.targetTag);
      targetTag = Object.freeze({ pattern: raw.targetTag.pattern, template: raw.targetTag.template });
    } catch (error) {
      if (!isTagError(error)) throw error;
      at(['targetTag', error.code === 'invalid_template' ? 'template' : 'pattern'], stripPrefix(error.message));
    }
  }
  const owner = raw.owner ?? defaults.owner;
  if (issues.length > before || ref === undefined || owner === undefined) return undefined;

  const file = source.file;
  const fromImage = raw.targets !== undefined;
  return Object.freeze({
    id: `${file}#${ref.registry}/${ref.repository}`,
    file,
    index,
    owner,
    source: ref,
    rules: Object.freeze(rules),
    exclude: Object.freeze([...(raw.exclude ?? [])]),
    mutable: Object.freeze([...(raw.mutable ?? [])]),
    rename: raw.rename,
    targetTag,
    targets: raw.targets === undefined ? defaults.targets : Object.freeze([...raw.targets]),
    referrers: raw.referrers ?? defaults.referrers,
    provenance: raw.provenance ?? defaults.provenance,
    schedule: raw.schedule ?? defaults.schedule,
    locations: Object.freeze({
      entry: location(source, path),
      source: location(source, [...path, 'source']),
      targets: fromImage ? location(source, [...path, 'targets']) : defaults.targets === undefined ? undefined : location(source, ['targets']),
      rename: raw.rename === undefined ? undefined : location(source, [...path, 'rename']),
    }),
  });
}

function checkUnique(source: YamlSource, path: KeyPath, names: readonly string[], issues: ConfigIssue[]): void {
  names.forEach((name, index) => {
    const first = names.indexOf(name);
    if (first !== index) issues.push(source.issueAt([...path, index], `"${name}" is listed twice (first at ${formatKeyPath([...path, first])})`));
  });
}

/**
 * Parses and validates one team file (`file` is its name relative to the config directory; it becomes part
 * of every image's {@link MirrorImage.id}). Every problem of the file is reported, each with line, column and
 * key path. Target names are checked later, against `targets.yaml`.
 */
export function parseTeamFile(content: string, file: string): ConfigFileResult<TeamFile> {
  const source = parseYamlSource(file, content);
  if (source.unreadable) return { file, ok: false, issues: source.syntaxIssues };
  const issues: ConfigIssue[] = [...source.syntaxIssues];
  const value = source.value;
  if (value === undefined || value === null) {
    return { file, ok: false, issues: [{ file, line: undefined, column: undefined, path: '', message: 'the file is empty; a team file needs "owner:" and "images:"' }] };
  }
  const parsed = parseFields(source, [], value, teamShape, 'expected a mapping with "owner:" and "images:"');
  issues.push(...parsed.issues);
  const data = parsed.data;
  const defaults: FileDefaults = {
    owner: data.owner,
    targets: data.targets === undefined ? undefined : Object.freeze([...data.targets]),
    provenance: data.provenance ?? false,
    referrers: data.referrers ?? true,
    schedule: data.schedule,
  };
  if (data.targets !== undefined) checkUnique(source, ['targets'], data.targets, issues);
  if (data.schedule !== undefined) {
    const problem = checkSchedule(data.schedule);
    if (problem !== undefined) issues.push(source.issueAt(['schedule'], problem));
  }
  const images: TeamImage[] = [];
  const ids = new Set<string>();
  const targetLists: { names: readonly string[]; at: ConfigLocation }[] = [];
  if (data.targets !== undefined) targetLists.push({ names: data.targets, at: location(source, ['targets']) });
  (data.images ?? []).forEach((entry, index) => {
    const image = parseImage(source, index, entry, defaults, issues);
    if (image === undefined) {
      // Left out for its own problems: its target list (when it parsed) is still checked against targets.yaml.
      const names = (entry as { targets?: unknown } | null)?.targets;
      if (Array.isArray(names) && names.length > 0 && names.every((name) => typeof name === 'string')) {
        targetLists.push({ names, at: location(source, ['images', index, 'targets']) });
      }
      return;
    }
    // One source may be mirrored to several target repositories (another `rename`, other targets); whether
    // two entries write the same target repository is checked with the targets, across files. A later entry
    // of a source already listed gets its position in its id, so ids stay unique.
    const id = ids.has(image.id) ? `${image.id}#images[${index}]` : image.id;
    ids.add(id);
    images.push(id === image.id ? image : Object.freeze({ ...image, id }));
  });
  if (issues.length > 0 || data.owner === undefined) {
    return { file, ok: false, issues: byPosition(issues), partial: Object.freeze({ file, owner: data.owner ?? '', images: Object.freeze(images), targetLists: Object.freeze(targetLists) }) };
  }
  return { file, ok: true, value: Object.freeze({ file, owner: data.owner, images: Object.freeze(images) }) };
}
