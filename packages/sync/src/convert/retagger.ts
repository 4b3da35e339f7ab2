// The retagger's rename list (giantswarm/retagger `RenamedImage`) → a team file. Selection and target tags
// follow its `Validate`, `FilterTags` and `RetagUsingTags`/`RetagUsingSHA`:
// - `tag_or_pattern`: a Go regexp, unanchored; with `sha`, the literal tag the pinned digest gets;
// - `semver` (Masterminds constraint, lenient version parsing), with `filter` a regexp whose first group is the
//   part tested;
// - target tag: `<tag>-<add_tag_suffix>`, then one leading `v` removed with `strip_semver_prefix`;
// - target repository: `override_repo_name`.
import { createImageReference, isImageError, parseImageReference } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import { isTagName } from '@scanner/tag';
import type { Node } from 'yaml';
import type { TargetTagTemplate } from '../types.ts';
import { InputFile } from './input.ts';
import type { InputPath } from './input.ts';
import { checkOwner } from './owner.ts';
import { MUTABLE_TAGS, checkRegExp, checkSemver } from './rule-checks.ts';
import { renderTeamFile } from './team-file.ts';
import type { ConvertOptions, ConvertResult, ConvertedImage, ConvertedRule, ImageOrigin } from './team-file.ts';

const FORMAT = 'retagger rename list';
const ENTRY_KEYS = ['image', 'tag_or_pattern', 'sha', 'semver', 'filter', 'add_tag_suffix', 'override_repo_name', 'strip_semver_prefix'];
const SHA256_HEX = /^(?:sha256:)?([a-f0-9]{64})$/;

/** The `targetTag` a retagger entry's suffix and prefix stripping mean, or none. */
export function retaggerTargetTag(suffix: string | undefined, stripSemverPrefix: boolean): TargetTagTemplate | undefined {
  // The retagger appends "-<suffix>" first, then trims one leading "v" from the result.
  if (suffix !== undefined && stripSemverPrefix) return { pattern: '^v?(.*)$', template: `$1-${suffix}` };
  if (suffix !== undefined) return { pattern: '^(.*)$', template: `$1-${suffix}` };
  if (stripSemverPrefix) return { pattern: '^v(.*)$', template: '$1' };
  return undefined;
}

/** One converted entry before entries of the same image and target are merged. */
interface Converted {
  readonly source: ImageReference;
  readonly rename: string | undefined;
  readonly targetTag: TargetTagTemplate | undefined;
  readonly rule: ConvertedRule;
  readonly mutable: readonly string[];
  /** `renamed-images.yaml:12 [3]`. */
  readonly origin: string;
  readonly node: Node | null;
  readonly path: InputPath;
}

/** The entries that become one image. */
interface Group {
  readonly source: string;
  readonly rename: string | undefined;
  targetTag: TargetTagTemplate | undefined;
  /** The first entry selecting by tag, whose targetTag the others must share. */
  byTag: Converted | undefined;
  readonly rules: ConvertedRule[];
  readonly mutable: Set<string>;
  readonly origins: string[];
}

function field(input: InputFile, values: Map<string, { node: Node | null; path: InputPath }>, key: string, what: string): string | undefined {
  const entry = values.get(key);
  if (entry === undefined || input.isNull(entry.node)) return undefined;
  const text = input.text(entry.node, entry.path, what);
  return text === '' ? undefined : text;
}

function convertEntry(input: InputFile, node: Node | null, path: InputPath): Converted | undefined {
  const values = new Map<string, { node: Node | null; path: InputPath }>();
  const before = input.issues.length;
  for (const entry of input.entries(node, path, `an entry with ${ENTRY_KEYS.join(', ')}`)) {
    if (entry.key === 'dockerfile_extras') {
      input.problem(entry.keyNode, entry.path, 'dockerfile_extras builds a changed image, and building or changing images is out of scope: keep this entry in an image build (giantswarm/custom-container-images) and mirror its result');
    } else if (!ENTRY_KEYS.includes(entry.key)) {
      input.problem(entry.keyNode, entry.path, `unknown key "${entry.key}" (the rename list has ${ENTRY_KEYS.join(', ')})`);
    } else {
      values.set(entry.key, { node: entry.value, path: entry.path });
    }
  }
  const image = field(input, values, 'image', 'the full image name (e.g. "docker.io/bitnami/postgresql")');
  const pattern = field(input, values, 'tag_or_pattern', 'a regexp, or the tag for sha');
  const sha = field(input, values, 'sha', 'a sha256 digest (64 hex digits)');
  const semver = field(input, values, 'semver', 'a semver constraint (e.g. ">= 1.2")');
  const filter = field(input, values, 'filter', 'a regexp whose first group is the version');
  const suffix = field(input, values, 'add_tag_suffix', 'a tag suffix');
  const override = field(input, values, 'override_repo_name', 'a repository path');
  const stripEntry = values.get('strip_semver_prefix');
  const strip = stripEntry === undefined || input.isNull(stripEntry.node) ? false : (input.boolean(stripEntry.node, stripEntry.path) ?? false);
  const at = (key: string): { node: Node | null; path: InputPath } => values.get(key) ?? { node, path };
  const problem = (key: string, message: string): void => {
    const { node: where, path: wherePath } = at(key);
    input.problem(where, wherePath, image === undefined ? message : `${image}: ${message}`);
  };

  let source: ImageReference | undefined;
  if (image === undefined) problem('image', 'an entry needs "image": the full name of the image to copy');
  else {
    try {
      source = parseImageReference(image);
      if (source.tag !== undefined || source.digest !== undefined) {
        problem('image', 'names a tag or digest; "image" is the repository, the tags come from tag_or_pattern, sha or semver');
        source = undefined;
      }
    } catch (error) {
      if (!isImageError(error)) throw error;
      problem('image', `not an image name: ${error.message.replace(/^@scanner\/image: /, '')}`);
    }
  }

  // The retagger's own Validate rules: an entry breaking one was refused there, so it is refused here.
  if (pattern === undefined && sha === undefined && semver === undefined) problem('image', 'an entry needs tag_or_pattern, sha or semver');
  if (sha !== undefined && pattern === undefined) problem('sha', 'sha needs tag_or_pattern: the tag the pinned digest gets');
  if (semver !== undefined && sha !== undefined) problem('sha', 'semver and sha cannot be combined; write two entries');
  if (semver !== undefined && pattern !== undefined) problem('tag_or_pattern', 'semver and tag_or_pattern cannot be combined; write two entries');
  if (filter !== undefined && semver === undefined) problem('filter', 'filter only works with semver: it extracts the part semver tests');
  if (strip && semver === undefined) problem('strip_semver_prefix', 'strip_semver_prefix only works with semver');

  if (suffix !== undefined && !/^[\w.-]{1,126}$/.test(suffix)) problem('add_tag_suffix', `"${suffix}" cannot end a tag (letters, digits, "_", "." and "-" only)`);
  let rename: string | undefined;
  if (override !== undefined) {
    try {
      rename = createImageReference({ registry: 'localhost', repository: override }).repository;
    } catch (error) {
      if (!isImageError(error)) throw error;
      problem('override_repo_name', `"${override}" is not a repository path (lower-case path components separated by "/")`);
    }
  }

  let rule: ConvertedRule | undefined;
  let mutable: readonly string[] = [];
  if (sha !== undefined && pattern !== undefined) {
    const hex = SHA256_HEX.exec(sha)?.[1];
    const tag = suffix === undefined ? pattern : `${pattern}-${suffix}`;
    if (hex === undefined) problem('sha', `"${sha}" is not a sha256 digest (64 lower-case hex digits, optionally after "sha256:")`);
    if (!isTagName(tag)) problem('tag_or_pattern', `"${tag}" is not a valid tag name, and with sha tag_or_pattern${suffix === undefined ? '' : ' plus add_tag_suffix'} is the tag the pinned digest gets`);
    if (hex !== undefined && isTagName(tag)) rule = { digest: `sha256:${hex}`, tag };
  } else if (pattern !== undefined) {
    const checked = checkRegExp(pattern);
    if ('problem' in checked) problem('tag_or_pattern', checked.problem);
    else {
      rule = { regexp: pattern };
      mutable = MUTABLE_TAGS.filter((tag) => checked.regexp.test(tag));
    }
  } else if (semver !== undefined) {
    let extract: { pattern: string; template: string } | undefined;
    if (filter !== undefined) {
      const checked = checkRegExp(filter);
      if ('problem' in checked) problem('filter', checked.problem);
      else if (checked.regexp.groupCount === 0) {
        problem('filter', `"${filter}" has no group: the retagger tests the first group against semver and selected nothing; add one, e.g. "^(.+)-alpine$"`);
      } else extract = { pattern: filter, template: '$1' };
    }
    const checked = checkSemver(semver, extract);
    if (checked.problem !== undefined) problem('semver', checked.problem);
    else {
      if (checked.warning !== undefined) input.warn(at('semver').node, at('semver').path, checked.warning);
      if (filter === undefined || extract !== undefined) rule = { semver, strict: false, ...(extract === undefined ? {} : { extract }) };
    }
  }

  if (input.issues.length > before || source === undefined || rule === undefined) return undefined;
  const targetTag = sha === undefined ? retaggerTargetTag(suffix, strip) : undefined;
  return { source, rename, targetTag, rule, mutable, origin: `${input.file}:${input.lineOf(node) ?? '?'} [${String(path[0])}]`, node, path };
}

/**
 * Converts the retagger's rename list (a YAML list of `image`, `tag_or_pattern`, `sha`, `semver`, `filter`,
 * `add_tag_suffix`, `override_repo_name`, `strip_semver_prefix`) into a team file owned by `options.owner`:
 * `tag_or_pattern` → `regexp`; `sha` → a pinned digest with the tag `tag_or_pattern` (plus the suffix);
 * `semver` → `semver` with `strict: false`, and `filter` → its `extract` (`$1`); `override_repo_name` →
 * `rename`; `add_tag_suffix`/`strip_semver_prefix` → `targetTag`. Entries of one image with the same rename
 * and target tags become one image with several rules.
 *
 * The retagger wrote every image under one org (`<registry>/giantswarm/<name>`); the team file keeps the source
 * repository path unless `override_repo_name` renames it (a target's `prefix` can keep an org in front).
 *
 * Pure: text in, document, YAML and warnings out.
 *
 * @throws {SyncError} `invalid_convert_input` listing every problem, each naming the entry (`[3].semver`), its
 *   image, file, line and column: options that conflict (as the retagger's own validation says), unknown keys,
 *   `dockerfile_extras` (building images is out of scope), names, regexps and constraints the retagger or a team
 *   file cannot take. Nothing is converted then.
 */
export function convertRetagger(text: string, options: ConvertOptions): ConvertResult {
  const file = options.file ?? 'input.yaml';
  const input = new InputFile(file, text);
  const owner = checkOwner(input, options.owner);
  const converted: Converted[] = [];
  const root = input.root;
  if (input.issues.length === 0 && input.isNull(root)) input.problem(null, [], 'the file is empty: the rename list is a YAML list of entries with "image"');
  else if (input.issues.length === 0) {
    for (const item of input.items(root, [], 'a list of entries with "image"')) {
      const entry = convertEntry(input, item.node, item.path);
      if (entry !== undefined) converted.push(entry);
    }
  }
  // One image per target repository (source and rename): a team file has one entry per target repository,
  // its rules OR together as the entries did. Pinned digests carry their final tag, so they fit any targetTag.
  const groups = new Map<string, Group>();
  for (const entry of converted) {
    const key = JSON.stringify([String(entry.source), entry.rename ?? null]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { source: String(entry.source), rename: entry.rename, targetTag: undefined, byTag: undefined, rules: [], mutable: new Set(), origins: [] };
      groups.set(key, group);
    }
    if (!('digest' in entry.rule)) {
      if (group.byTag === undefined) {
        group.byTag = entry;
        group.targetTag = entry.targetTag;
      } else if (JSON.stringify(group.byTag.targetTag ?? null) !== JSON.stringify(entry.targetTag ?? null)) {
        const first = group.byTag;
        input.problem(entry.node, entry.path, `${group.source}: entries ${first.origin} and ${entry.origin} copy it to the same target repository with different target tags (add_tag_suffix, strip_semver_prefix), and a team file has one targetTag per image; give one of them an override_repo_name or make their suffixes agree`);
        continue;
      }
    }
    if (!group.rules.some((rule) => JSON.stringify(rule) === JSON.stringify(entry.rule))) group.rules.push(entry.rule);
    for (const tag of entry.mutable) group.mutable.add(tag);
    group.origins.push(entry.origin);
  }
  input.throwIfProblems(FORMAT);
  const images: ImageOrigin[] = [...groups.values()].map((group) => {
    const mutable = MUTABLE_TAGS.filter((tag) => group.mutable.has(tag));
    const image: ConvertedImage = {
      source: group.source,
      tags: group.rules,
      ...(mutable.length > 0 ? { mutable } : {}),
      ...(group.rename === undefined ? {} : { rename: group.rename }),
      ...(group.targetTag === undefined ? {} : { targetTag: group.targetTag }),
    };
    return { image, comment: `from ${group.origins.join(', ')}` };
  });
  const header = [
    `Converted by \`scanner convert retagger\` from ${file} (${FORMAT}); review, then put it in the mirror config directory.`,
    'Repository paths are kept at the targets (the retagger wrote <registry>/giantswarm/<name>); override_repo_name became rename.',
  ];
  const warnings = [...input.warnings];
  return { document: { owner, images: images.map((origin) => origin.image) }, yaml: renderTeamFile(header, owner, images, warnings), warnings };
}
