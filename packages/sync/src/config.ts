// The mirror config directory: `targets.yaml` and one file per team. Read per file (so a worker can keep the
// last valid version of a file that broke), then assembled with the checks that need several files.
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isImageError } from '@scanner/image';
import { TARGETS_FILE, parseTargetsFile, parseTeamFile } from './config-files.ts';
import type { ConfigFileResult, ConfigLocation, TargetsFile, TeamFile, TeamImage } from './config-files.ts';
import { SyncError } from './errors.ts';
import { targetRepository } from './target-path.ts';
import type { ConfigIssue, MirrorConfig, MirrorImage, MirrorTarget } from './types.ts';

/** Every file of a config directory, each parsed on its own. */
export interface MirrorConfigFiles {
  /** The directory, as given. */
  readonly dir: string;
  readonly targets: ConfigFileResult<TargetsFile>;
  /** Team files in byte order of their names. */
  readonly teams: readonly ConfigFileResult<TeamFile>[];
}

/** What {@link assembleMirrorConfig} makes of valid files. */
export interface AssembledMirrorConfig {
  /** The config, without the images that have an issue. */
  readonly config: MirrorConfig;
  /** Problems found across files (unknown targets, colliding target repositories, invalid target paths). */
  readonly issues: readonly ConfigIssue[];
}

/** Options of {@link readMirrorConfigFiles} and {@link loadMirrorConfig}. */
export interface ReadMirrorConfigOptions {
  readonly signal?: AbortSignal | undefined;
}

// `.yaml`/`.yml` in any case: an editor on Windows may write `B.YAML`.
const YAML_NAME = /\.ya?ml$/i;
const TARGETS_NAME = /^targets\.ya?ml$/i;
/** How deep sub-directories of the config directory are read (a bound for symlinked directory loops). */
const MAX_DEPTH = 8;

/**
 * The team files under `dir`, relative with `/` (`teams/storage.yaml`), in byte order: every `*.yaml`/`*.yml`
 * (any case) but the top-level `targets.yaml`, in sub-directories too. Entries starting with `.` are skipped,
 * so a Kubernetes ConfigMap mount's `..data` and `..2026_…` entries are (its files are symlinks beside them).
 */
async function listTeamFiles(dir: string, names: readonly string[], prefix = '', depth = 0): Promise<string[]> {
  const found: string[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    if (YAML_NAME.test(name)) {
      if (relative !== TARGETS_FILE) found.push(relative);
      continue;
    }
    if (depth >= MAX_DEPTH) continue;
    const info = await stat(join(dir, relative)).catch(() => undefined);
    if (info?.isDirectory() !== true) continue;
    const inner = await readdir(join(dir, relative)).catch(() => undefined);
    // An unreadable sub-directory is listed as a file, whose read then says why.
    if (inner === undefined) found.push(relative);
    else found.push(...(await listTeamFiles(dir, inner, relative, depth + 1)));
  }
  return found;
}

function fileIssue(file: string, message: string): ConfigIssue {
  return { file, line: undefined, column: undefined, path: '', message };
}

function readError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

/**
 * The largest config file read: 1 MiB, what a Kubernetes ConfigMap holds in all (the worker reads the config
 * from one), about 15,000 images. A bigger file is an issue before it is parsed.
 */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

function tooBig(size: number, more: 'over' | 'exact' = 'exact'): string {
  return `${more === 'over' ? 'more than ' : ''}${more === 'over' ? size - 1 : size} bytes, over the 1 MiB a config file may have (a Kubernetes ConfigMap holds 1 MiB in all); split it into several team files`;
}

// Byte-order marks of the encodings an editor may save a file in instead of UTF-8 (longest first: UTF-32 LE
// starts with UTF-16 LE's mark).
const OTHER_ENCODINGS: readonly { readonly bom: readonly number[]; readonly name: string }[] = [
  { bom: [0xff, 0xfe, 0x00, 0x00], name: 'UTF-32 (little-endian' },
  { bom: [0x00, 0x00, 0xfe, 0xff], name: 'UTF-32 (big-endian' },
  { bom: [0xff, 0xfe], name: 'UTF-16 (little-endian' },
  { bom: [0xfe, 0xff], name: 'UTF-16 (big-endian' },
];

/**
 * The text of a config file, which must be UTF-8 (YAML 1.2 allows UTF-16/32, but the old pipeline's files and
 * every example are UTF-8, and a wrong guess would corrupt names silently): a UTF-16/UTF-32 file, or bytes that
 * are not UTF-8 (Latin-1, Windows-1252), are an issue naming the file, the byte offset and its line. A UTF-8
 * byte-order mark is dropped.
 */
function decodeUtf8(file: string, bytes: Buffer): string | ConfigIssue {
  const other = OTHER_ENCODINGS.find(({ bom }) => bom.every((byte, index) => bytes[index] === byte));
  if (other !== undefined) return fileIssue(file, `the file is ${other.name}, it starts with a byte-order mark); save it as UTF-8`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Where: the first replacement character that the bytes do not spell (EF BF BD) is the first bad byte.
    const text = new TextDecoder('utf-8').decode(bytes);
    let offset = 0;
    for (let index = text.indexOf('\uFFFD'); index !== -1; index = text.indexOf('\uFFFD', index + 1)) {
      offset = Buffer.byteLength(text.slice(0, index)) + (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0);
      if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbb && bytes[offset + 2] === 0xbd)) break;
    }
    const before = bytes.subarray(0, offset);
    const line = before.filter((byte) => byte === 0x0a).length + 1;
    const column = offset - (before.lastIndexOf(0x0a) + 1) + 1;
    const byte = `0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')}`;
    return {
      file,
      line,
      column,
      path: '',
      message: `not valid UTF-8: byte ${byte} at offset ${offset} (line ${line}, byte ${column} of the line); save the file as UTF-8 (it looks like Latin-1 or Windows-1252)`,
    };
  }
}

/** Why a non-regular file is not read, or undefined for a regular file (`fs.Stats` after following symlinks). */
function notRegular(info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isDirectory()) return 'is a directory, not a file';
  if (info.isFIFO()) return 'a FIFO (named pipe), not a regular file';
  if (info.isCharacterDevice()) return 'a character device, not a regular file';
  if (info.isBlockDevice()) return 'a block device, not a regular file';
  if (info.isSocket()) return 'a socket, not a regular file';
  return 'not a regular file';
}

/**
 * The bytes of a regular file (symlinks followed), at most {@link MAX_CONFIG_FILE_BYTES} + 1 of them (so a
 * longer one is known to be too big without reading it all, even when it grows or its size lies, as in /proc);
 * or the issue's message: too big by its `fstat` size, or not a regular file: a FIFO, device or socket would block or never end. Checked by `stat` before opening (a
 * device is never opened) and by `fstat` on the handle (the path may have changed in between); opened with
 * O_NONBLOCK so that a FIFO swapped in between cannot block the open.
 */
async function readRegularFile(dir: string, file: string, signal: AbortSignal | undefined): Promise<Buffer | string> {
  const path = join(dir, file);
  const before = notRegular(await stat(path));
  if (before !== undefined) return `cannot read ${file}: ${before}`;
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    const after = notRegular(info);
    if (after !== undefined) return `cannot read ${file}: ${after}`;
    if (info.size > MAX_CONFIG_FILE_BYTES) return tooBig(info.size);
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.byteLength) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, length, buffer.byteLength - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/**
 * Reads and validates every file of a config directory on its own: `targets.yaml`, and each other `*.yaml` /
 * `*.yml` (any case; in sub-directories too, named `dir/file.yaml`; names starting with `.` are skipped, so a
 * Kubernetes ConfigMap mount's `..data` entries are) as a team file. Never throws for bad content: each result holds its file's value or all of its issues. Use
 * {@link assembleMirrorConfig} on the valid ones.
 *
 * @throws {SyncError} `invalid_config` when the directory itself cannot be read.
 */
export async function readMirrorConfigFiles(dir: string, options: ReadMirrorConfigOptions = {}): Promise<MirrorConfigFiles> {
  const { signal } = options;
  signal?.throwIfAborted();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const issue = fileIssue('.', `cannot read the config directory ${JSON.stringify(dir)}: ${readError(error)}`);
    throw new SyncError('invalid_config', issue.message, { issues: [issue], file: dir, cause: error });
  }
  const read = async (file: string): Promise<string | ConfigIssue> => {
    let bytes: Buffer | string;
    try {
      bytes = await readRegularFile(dir, file, signal);
    } catch (error) {
      signal?.throwIfAborted();
      return fileIssue(file, `cannot read ${file}: ${readError(error)}`);
    }
    if (typeof bytes === 'string') return fileIssue(file, bytes);
    // Grown since the fstat, or a size that lies (/proc): more than the cap was read, not how much more.
    if (bytes.byteLength > MAX_CONFIG_FILE_BYTES) return fileIssue(file, tooBig(bytes.byteLength, 'over'));
    return decodeUtf8(file, bytes);
  };
  const teamNames = (await listTeamFiles(dir, names)).sort();
  const [targetsText, ...teamTexts] = await Promise.all([
    names.includes(TARGETS_FILE)
      ? read(TARGETS_FILE)
      : fileIssue(TARGETS_FILE, `missing: the config directory needs ${TARGETS_FILE} naming the target registries (targets: [{ name, registry, prefix? }])`),
    ...teamNames.map(read),
  ]);
  const targets: ConfigFileResult<TargetsFile> =
    typeof targetsText === 'string' ? parseTargetsFile(targetsText, TARGETS_FILE) : { file: TARGETS_FILE, ok: false, issues: [targetsText] };
  const teams = teamNames.map((file, index): ConfigFileResult<TeamFile> => {
    const content = teamTexts[index];
    if (typeof content !== 'string') return { file, ok: false, issues: [content ?? fileIssue(file, 'unreadable')] };
    if (TARGETS_NAME.test(file)) return { file, ok: false, issues: [fileIssue(file, `name this file ${TARGETS_FILE}: the targets file is read by that exact name`)] };
    if (TARGETS_NAME.test(file.slice(file.lastIndexOf('/') + 1))) {
      return { file, ok: false, issues: [fileIssue(file, `${TARGETS_FILE} is read at the top of the config directory only; move it there, or rename this team file`)] };
    }
    return parseTeamFile(content, file);
  });
  return { dir, targets, teams };
}

const where = (at: ConfigLocation): string => `${at.file}${at.line === undefined ? '' : `:${at.line}:${at.column ?? 1}`} ${at.path}`.trimEnd();

function issueAt(at: ConfigLocation, message: string): ConfigIssue {
  return { ...at, message };
}

/**
 * Puts valid files together and runs the checks that need more than one file: every target name a team file
 * uses is in `targets.yaml`; every target repository (`<registry>[/<prefix>]/<rename or source path>`) is a
 * valid reference; no target repository is written by two entries (a config error naming both places: use
 * `rename` for one of them). An image with such an issue is left out of `config`; its issue names its own
 * file, so a caller that keeps the last valid version of a file can tell whose change caused it.
 */
export function assembleMirrorConfig(dir: string, targetsFile: TargetsFile, teams: readonly TeamFile[]): AssembledMirrorConfig {
  const targets = targetsFile.targets;
  const byName = new Map<string, MirrorTarget>(targets.map((target) => [target.name, target]));
  const known = targets.map((target) => target.name).join(', ');
  const issues: ConfigIssue[] = [];
  const images: MirrorImage[] = [];
  const claims = new Map<string, TeamImage>();
  const reportedTargets = new Set<string>();

  for (const team of [...teams].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    for (const image of team.images) {
      const names = image.targets ?? targets.map((target) => target.name);
      const unknown = names.filter((name) => !byName.has(name));
      if (unknown.length > 0) {
        const at = image.locations.targets ?? image.locations.entry;
        const key = `${at.file} ${at.path}`;
        if (!reportedTargets.has(key)) {
          reportedTargets.add(key);
          const list = unknown.map((name) => `"${name}"`).join(', ');
          issues.push(issueAt(at, `unknown target${unknown.length > 1 ? 's' : ''} ${list}; ${TARGETS_FILE} names ${known}`));
        }
        continue;
      }
      let ok = true;
      for (const name of names) {
        const target = byName.get(name) as MirrorTarget;
        let repository: string;
        try {
          repository = String(targetRepository(image, target));
        } catch (error) {
          if (!isImageError(error)) throw error;
          ok = false;
          issues.push(issueAt(image.locations.rename ?? image.locations.source, `the target repository at "${name}" is invalid: ${error.message.replace(/^@scanner\/image: /, '')}`));
          continue;
        }
        const claim = `${name}\u0000${repository}`;
        const first = claims.get(claim);
        if (first === undefined) {
          claims.set(claim, image);
          continue;
        }
        ok = false;
        const here = image.locations.rename ?? image.locations.source;
        const there = where(first.locations.rename ?? first.locations.source);
        issues.push(
          issueAt(
            here,
            String(first.source) === String(image.source)
              ? first.file === image.file
                ? `${repository} (target "${name}") is already mirrored from ${String(image.source)} by ${there}; merge the rules into one entry (a tag is mirrored when any rule selects it), or use "rename" to write another repository`
                : `${repository} (target "${name}") is already mirrored from ${String(image.source)} by ${there}; one entry per target repository: remove one, or give it another target`
              : `${repository} (target "${name}") would be written from ${String(image.source)} and from ${String(first.source)} (${there}); use "rename" to give one of them another target path`,
          ),
        );
      }
      if (!ok) continue;
      images.push(toMirrorImage(image, names));
    }
  }
  return { config: Object.freeze({ dir, targets, images: Object.freeze(images) }), issues };
}

function toMirrorImage(image: TeamImage, targets: readonly string[]): MirrorImage {
  return Object.freeze({
    id: image.id,
    file: image.file,
    index: image.index,
    owner: image.owner,
    source: image.source,
    rules: image.rules,
    exclude: image.exclude,
    mutable: image.mutable,
    rename: image.rename,
    targetTag: image.targetTag,
    targets: Object.freeze([...targets]),
    referrers: image.referrers,
    provenance: image.provenance,
    schedule: image.schedule,
  });
}

function issueOrder(fileOrder: ReadonlyMap<string, number>): (a: ConfigIssue, b: ConfigIssue) => number {
  return (a, b) =>
    (fileOrder.get(a.file) ?? -1) - (fileOrder.get(b.file) ?? -1) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/** Every issue of a set of files (their own, then those across files), in file and position order. */
export function collectConfigIssues(files: MirrorConfigFiles): { config: MirrorConfig | undefined; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  for (const result of [files.targets, ...files.teams]) if (!result.ok) issues.push(...result.issues);
  if (files.teams.length === 0) {
    issues.push(fileIssue('.', `no team file in the config directory: every *.yaml / *.yml file besides ${TARGETS_FILE} (also in sub-directories) is one; nothing would be mirrored`));
  }
  let config: MirrorConfig | undefined;
  if (files.targets.ok) {
    const targets = files.targets.value;
    const teams = files.teams.flatMap((result) => (result.ok ? [result.value] : []));
    const partials = files.teams.flatMap((result) => (!result.ok && result.partial !== undefined ? [result.partial] : []));
    // The checks across files run on the valid parts of invalid files too (all problems at once); the config
    // holds valid files only.
    const assembled = assembleMirrorConfig(files.dir, targets, [...teams, ...partials]);
    const seen = new Set(issues.map(formatConfigIssue));
    const known = new Set(targets.targets.map((target) => target.name));
    const names = targets.targets.map((target) => target.name).join(', ');
    const unknownTargets = partials.flatMap((partial) =>
      partial.targetLists.flatMap(({ names: listed, at }) => {
        const unknown = listed.filter((name) => !known.has(name));
        if (unknown.length === 0) return [];
        return [{ ...at, message: `unknown target${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')}; ${TARGETS_FILE} names ${names}` }];
      }),
    );
    for (const issue of [...assembled.issues, ...unknownTargets]) {
      const line = formatConfigIssue(issue);
      if (seen.has(line)) continue;
      seen.add(line);
      issues.push(issue);
    }
    config = partials.length === 0 ? assembled.config : assembleMirrorConfig(files.dir, targets, teams).config;
  }
  const fileOrder = new Map([files.targets, ...files.teams].map((result, index) => [result.file, index]));
  issues.sort(issueOrder(fileOrder));
  return { config, issues };
}

/** One line: `team-storage.yaml:9:17 images[0].tags[1].regexp: invalid regexp "(": …`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const place = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return issue.path === '' ? `${place}: ${issue.message}` : `${place} ${issue.path}: ${issue.message}`;
}

/**
 * Reads, validates and assembles a mirror config directory (see {@link readMirrorConfigFiles} and
 * {@link assembleMirrorConfig}). Nothing is returned unless every file is valid.
 *
 * @throws {SyncError} `invalid_config` with every issue of every file in `issues` (file order, then position);
 * the message lists them one per line.
 */
export async function loadMirrorConfig(dir: string, options: ReadMirrorConfigOptions = {}): Promise<MirrorConfig> {
  const files = await readMirrorConfigFiles(dir, options);
  const { config, issues } = collectConfigIssues(files);
  if (issues.length > 0 || config === undefined) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const first = issues[0];
    throw new SyncError('invalid_config', `invalid mirror config ${JSON.stringify(dir)} (${count}):\n${issues.map((issue) => `  ${formatConfigIssue(issue)}`).join('\n')}`, {
      issues,
      file: dir,
      ...(first === undefined ? {} : { field: first.path }),
      hints: { config: 'fix every listed key; nothing is planned or copied while any file is invalid' },
    });
  }
  return config;
}
