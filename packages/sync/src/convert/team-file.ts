// The team file `convert` writes: plain data in the shape of a team file (see the README), and its YAML.
import { Document, isMap, isSeq } from 'yaml';
import type { ConfigIssue, TargetTagTemplate } from '../types.ts';
import { formatIssue } from './input.ts';

/**
 * One rule of a converted image's `tags`, in the team file's short forms:
 * - `{ names }`: exactly these tags;
 * - `{ regexp }`: tags the (unanchored, Go-syntax) regexp matches; `.*` is every tag;
 * - `{ semver, strict: false, extract? }`: tags read as versions the way Masterminds/semver does (`1.2` is
 *   `1.2.0`, `v` prefix allowed), optionally of the part `extract` pulls out;
 * - `{ digest, tag }`: a pinned digest, given `tag` at the target.
 */
export type ConvertedRule =
  | { readonly names: readonly string[] }
  | { readonly regexp: string }
  | { readonly semver: string; readonly strict: false; readonly extract?: { readonly pattern: string; readonly template: string } }
  | { readonly digest: string; readonly tag: string };

/** One `images[]` entry of a converted team file. */
export interface ConvertedImage {
  /** The source repository, normalised (`docker.io/library/nginx`). */
  readonly source: string;
  readonly tags: readonly ConvertedRule[];
  /** Tags re-checked by digest on every run (the old pipeline's `latest`, `develop`, `debug`), when the rules can select them. */
  readonly mutable?: readonly string[];
  /** Target repository path (the retagger's `override_repo_name`). */
  readonly rename?: string;
  /** Target tag template (the retagger's `add_tag_suffix`, `strip_semver_prefix`). */
  readonly targetTag?: TargetTagTemplate;
}

/** A converted team file as data: `owner` and `images`. */
export interface ConvertedTeamFile {
  readonly owner: string;
  readonly images: readonly ConvertedImage[];
}

/** What `convertSkopeoSync` and `convertRetagger` return. */
export interface ConvertResult {
  /** The team file as data. */
  readonly document: ConvertedTeamFile;
  /** The team file as YAML, with a header saying where it came from and what to review. */
  readonly yaml: string;
  /**
   * Things converted with a change the reader should know about (a pinned digest given a tag, credentials or TLS
   * settings left to the registries config, …), located in the input file. Never hold a credential.
   */
  readonly warnings: readonly ConfigIssue[];
}

/** Options of `convertSkopeoSync` and `convertRetagger`. */
export interface ConvertOptions {
  /** The team that owns every converted image (the team file's `owner`). */
  readonly owner: string;
  /** The input's name for messages and the header comment. @default 'input.yaml' */
  readonly file?: string | undefined;
}

/** Where one converted image came from, for its comment. */
export interface ImageOrigin {
  readonly image: ConvertedImage;
  /** `sync.yaml:4 images, sync.yaml:9 images-by-semver`. */
  readonly comment: string;
}

/** The team file's YAML: a header (source, what was left out, warnings), then `owner` and `images`. */
export function renderTeamFile(header: readonly string[], owner: string, images: readonly ImageOrigin[], warnings: readonly ConfigIssue[]): string {
  const document: ConvertedTeamFile = { owner, images: images.map((origin) => origin.image) };
  const doc = new Document(document);
  const lines = [...header];
  if (warnings.length > 0) {
    lines.push('', 'Review before use:');
    for (const warning of warnings) lines.push(`- ${formatIssue(warning)}`);
  }
  doc.commentBefore = lines.map((line) => (line === '' ? '' : ` ${line}`)).join('\n');
  const list = doc.get('images', true);
  if (isSeq(list)) {
    list.items.forEach((item, index) => {
      if (!isMap(item)) return;
      const comment = images[index]?.comment;
      if (comment !== undefined) item.commentBefore = ` ${comment}`;
      // Short lists read best on one line: `names: [latest, '1.25']`.
      for (const key of ['mutable'] as const) {
        const node = item.get(key, true);
        if (isSeq(node)) node.flow = true;
      }
      const rules = item.get('tags', true);
      if (isSeq(rules)) {
        for (const rule of rules.items) {
          const names = isMap(rule) ? rule.get('names', true) : undefined;
          if (isSeq(names) && names.items.length <= 8) names.flow = true;
          const extract = isMap(rule) ? rule.get('extract', true) : undefined;
          if (isMap(extract)) extract.flow = true;
        }
      }
      const targetTag = item.get('targetTag', true);
      if (isMap(targetTag)) targetTag.flow = true;
    });
  }
  return doc.toString({ lineWidth: 0 });
}
