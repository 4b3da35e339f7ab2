import { formatPlatform } from '@scanner/image/platform';
import type { ImageMetadata, ScanCandidate, SelectResult } from '@scanner/registry';

/** A candidate in `select -o json`: unknown fields are `null`, never missing. */
export interface CandidateJson {
  readonly tag: string;
  readonly digest: string | null;
  readonly createdAt: string | null;
  readonly platforms: readonly string[] | null;
}

/** `scanner select -o json`. */
export interface SelectJson {
  readonly image: string;
  readonly selected: CandidateJson | null;
  readonly candidates: readonly CandidateJson[];
}

/** `scanner tags -o json`. */
export interface TagsJson {
  readonly image: string;
  readonly tags: readonly string[];
}

/** `scanner digest -o json`. */
export interface DigestJson {
  readonly image: string;
  readonly digest: string;
}

/** An image of `scanner digest IMAGE IMAGE … -o json` that could not be resolved. */
export interface DigestErrorJson {
  /** The image as resolved (`:latest` filled in), or the argument as given when it could not be resolved. */
  readonly image: string;
  /** `code`: the package error's code (`MANIFEST_UNKNOWN`, `unauthorized`, `network`, …), or `unexpected`. */
  readonly error: { readonly code: string; readonly message: string };
}

/** One image of `scanner inspect -o json` (one for a single manifest, one per platform for an index). */
export interface InspectPlatformJson {
  readonly platform: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly created: string | null;
  readonly configDigest: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** `scanner inspect -o json`. */
export interface InspectJson {
  readonly image: string;
  readonly kind: 'index' | 'manifest';
  readonly mediaType: string;
  readonly digest: string;
  readonly created: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly platforms: readonly InspectPlatformJson[];
}

function candidateJson(candidate: ScanCandidate): CandidateJson {
  return {
    tag: candidate.tag,
    digest: candidate.digest ?? null,
    createdAt: candidate.createdAt ?? null,
    platforms: candidate.platforms === undefined ? null : [...candidate.platforms],
  };
}

export function selectJson(result: SelectResult): SelectJson {
  return {
    image: result.image,
    selected: result.selected === null ? null : candidateJson(result.selected),
    candidates: result.candidates.map(candidateJson),
  };
}

export function inspectJson(image: string, metadata: ImageMetadata): InspectJson {
  return {
    image,
    kind: metadata.kind,
    mediaType: metadata.mediaType,
    digest: metadata.digest,
    created: metadata.created ?? null,
    labels: { ...metadata.labels },
    annotations: { ...metadata.annotations },
    platforms: metadata.images.map((entry) => ({
      platform: formatPlatform(entry.platform),
      digest: entry.digest,
      mediaType: entry.mediaType,
      created: entry.created ?? null,
      configDigest: entry.configDigest ?? null,
      labels: { ...entry.labels },
      annotations: { ...entry.annotations },
    })),
  };
}

/** One JSON document, pretty-printed, with a final newline. */
export function formatJson(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with its control characters (C0, DEL, C1) written as escapes (`\n`, `\x1b`), so that registry data
 * (tags, labels, annotations) can neither add lines to the output nor send sequences to the terminal.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => NAMED_ESCAPES[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Left-aligned columns separated by two spaces; trailing blanks trimmed; control characters escaped. `minWidths` keeps layouts stable. */
export function formatTable(rows: readonly (readonly string[])[], minWidths: readonly number[] = []): string {
  const cells = rows.map((row) => row.map(printable));
  const widths: number[] = [...minWidths];
  for (const row of cells) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return cells.map((row) => `${row.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd()}\n`).join('');
}

const dash = '-';

/** The short form of a digest for tables: `sha256:0123456789ab`. */
export function shortDigest(digest: string | null | undefined): string {
  if (digest === null || digest === undefined) return dash;
  const colon = digest.indexOf(':');
  return colon === -1 ? digest : digest.slice(0, colon + 13);
}

function platformsText(platforms: readonly string[] | null): string {
  return platforms === null || platforms.length === 0 ? dash : platforms.join(',');
}

/** `scanner tags`: one tag per line, so that it pipes into `grep`, `sort`, `head`. */
export function tagsTable(document: TagsJson): string {
  return document.tags.map((tag) => `${printable(tag)}\n`).join('');
}

/** `scanner select`: the selection, then the ranked candidates. */
export function selectTable(document: SelectJson): string {
  const { selected } = document;
  if (selected === null) return '';
  const head = formatTable([
    ['image', document.image],
    ['tag', selected.tag],
    ['digest', selected.digest ?? dash],
    ...(selected.createdAt === null ? [] : [['created', selected.createdAt]]),
    ...(selected.platforms === null ? [] : [['platforms', platformsText(selected.platforms)]]),
  ], ['platforms'.length]);
  if (document.candidates.length <= 1) return head;
  const rows = document.candidates.map((candidate, index) => [
    index === 0 ? '*' : ' ',
    candidate.tag,
    shortDigest(candidate.digest),
    candidate.createdAt ?? dash,
    platformsText(candidate.platforms),
  ]);
  return `${head}\ncandidates (best first):\n${formatTable([[' ', 'TAG', 'DIGEST', 'CREATED', 'PLATFORMS'], ...rows])}`;
}

function mapRows(title: string, entries: Readonly<Record<string, string>>): string {
  const keys = Object.keys(entries).sort();
  if (keys.length === 0) return '';
  return `\n${title}:\n${formatTable(keys.map((key) => ['', key, entries[key] ?? '']))}`;
}

/** `scanner inspect`; `provenance` is the line saying whose copy a mirrored image is, if any. */
export function inspectTable(document: InspectJson, provenance = ''): string {
  const head = `${formatTable([
    ['image', document.image],
    ['kind', document.kind],
    ['media type', document.mediaType],
    ['digest', document.digest],
    ['created', document.created ?? dash],
  ])}${provenance}`;
  const platforms =
    document.platforms.length === 0
      ? ''
      : `\nplatforms:\n${formatTable([
          ['', 'PLATFORM', 'DIGEST', 'CREATED'],
          ...document.platforms.map((entry) => ['', entry.platform, entry.digest, entry.created ?? dash]),
        ])}`;
  return `${head}${platforms}${mapRows('labels', document.labels)}${mapRows('annotations', document.annotations)}`;
}
