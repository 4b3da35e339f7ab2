// `skopeo sync --src yaml` files → a team file. The selection rules follow skopeo's `cmd/skopeo/sync.go`:
// `images` (tags and digests; an empty list is every tag), `images-by-tag-regex` (Go regexp, unanchored) and
// `images-by-semver` (Masterminds constraint, lenient version parsing), each an OR with the others.
import { isDigest, isImageError, parseDigest, parseImageReference } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import { isTagName } from '@scanner/tag';
import { isMap, isSeq as isSeqNode } from 'yaml';
import type { Node } from 'yaml';
import { InputFile } from './input.ts';
import type { InputPath } from './input.ts';
import { MUTABLE_TAGS, checkRegExp, checkSemver } from './rule-checks.ts';
import { renderTeamFile } from './team-file.ts';
import type { ConvertOptions, ConvertResult, ConvertedImage, ConvertedRule, ImageOrigin } from './team-file.ts';
import { checkOwner } from './owner.ts';

const FORMAT = 'skopeo sync YAML';
const REGISTRY_KEYS = ['images', 'images-by-tag-regex', 'images-by-semver', 'credentials', 'tls-verify', 'cert-dir'];

/** The tag a digest listed under `images` gets at the target: skopeo copies it untagged, a team file cannot. */
export function pinnedTag(digest: string): string {
  return `pinned-${parseDigest(digest).hex.slice(0, 12)}`;
}

/** One source repository, gathered from every map that lists it. */
interface Draft {
  readonly source: ImageReference;
  readonly names: string[];
  readonly regexps: string[];
  readonly semvers: string[];
  readonly digests: { digest: string; tag: string }[];
  everyTag: boolean;
  readonly mutable: Set<string>;
  readonly origins: string[];
}

function parseRepository(input: InputFile, registry: string, repository: string, keyNode: Node, path: InputPath): ImageReference | undefined {
  // skopeo joins the two with "/" and parses the result as Docker does (docker.io/nginx → docker.io/library/nginx).
  let reference: ImageReference;
  try {
    reference = parseImageReference(`${registry}/${repository}`);
  } catch (error) {
    if (!isImageError(error)) throw error;
    input.problem(keyNode, path, `"${registry}/${repository}" is not a repository name: ${error.message.replace(/^@scanner\/image: /, '')}`);
    return undefined;
  }
  if (reference.tag !== undefined || reference.digest !== undefined) {
    input.problem(keyNode, path, `"${repository}" names an image, not a repository: skopeo refuses it; list the tag or digest under the repository instead`);
    return undefined;
  }
  return reference;
}

/**
 * Converts a `skopeo sync --src yaml` file into a team file owned by `options.owner`. Every repository becomes one
 * image whose rules OR together what the file listed for it under `images` (tag names → `names`, digests →
 * pinned digests, an empty list → `regexp: '.*'`), `images-by-tag-regex` (→ `regexp`) and `images-by-semver`
 * (→ `semver` with `strict: false`, as Masterminds parses versions: `1.2` is `1.2.0`, `v` prefix allowed). Docker
 * Hub names are normalised (`docker.io/nginx` → `docker.io/library/nginx`); one repository under several maps or
 * registry spellings is one image.
 *
 * `credentials`, `tls-verify` and `cert-dir` are not copied (credentials come from the registries config): each
 * gives a warning, never its value. A digest under `images` is pinned under the tag {@link pinnedTag} (skopeo
 * copies it untagged), with a warning.
 *
 * Pure: text in, document, YAML and warnings out.
 *
 * @throws {SyncError} `invalid_convert_input` listing every problem (file, line, column, key path): YAML
 *   errors, unknown keys, values of the wrong type, repository or tag names skopeo refuses, regexps or semver
 *   constraints skopeo refuses or a team file cannot express. Nothing is converted then.
 */
export function convertSkopeoSync(text: string, options: ConvertOptions): ConvertResult {
  const file = options.file ?? 'input.yaml';
  const input = new InputFile(file, text);
  const owner = checkOwner(input, options.owner);
  const drafts = new Map<string, Draft>();
  const draftFor = (source: ImageReference, origin: string): Draft => {
    const key = String(source);
    let draft = drafts.get(key);
    if (draft === undefined) {
      draft = { source, names: [], regexps: [], semvers: [], digests: [], everyTag: false, mutable: new Set(), origins: [] };
      drafts.set(key, draft);
    }
    if (!draft.origins.includes(origin)) draft.origins.push(origin);
    return draft;
  };
  let credentialsSeen = false;

  const root = input.root;
  if (input.issues.length === 0 && input.isNull(root)) input.problem(null, [], 'the file is empty: a skopeo sync file maps source registries to their images');
  else if (input.issues.length === 0) {
    for (const registryEntry of input.entries(root, [], 'a mapping of source registries (e.g. "docker.io:") to their images')) {
      const registry = registryEntry.key;
      if (input.isNull(registryEntry.value)) {
        input.warn(registryEntry.keyNode, registryEntry.path, `registry "${registry}" lists no images; skopeo skips it, and so does the team file`);
        continue;
      }
      const host = registry.split('/')[0] ?? registry;
      if (!/[.:]/.test(host) && host !== 'localhost') {
        input.warn(registryEntry.keyNode, registryEntry.path, `"${host}" is not a host name (no "." or ":"), so skopeo read these repositories from Docker Hub (docker.io/${registry}/…), and so does the team file`);
      }
      const sections = input.entries(registryEntry.value, registryEntry.path, `a mapping with ${REGISTRY_KEYS.join(', ')}`);
      if (isMap(registryEntry.value) && !sections.some((section) => section.key.startsWith('images'))) {
        input.warn(registryEntry.keyNode, registryEntry.path, `registry "${registry}" lists no images; skopeo skips it, and so does the team file`);
      }
      for (const section of sections) {
        switch (section.key) {
          case 'images':
            if (input.isNull(section.value)) break;
            for (const repo of input.entries(section.value, section.path, 'a mapping of repositories to lists of tags or digests')) {
              const source = parseRepository(input, registry, repo.key, repo.keyNode, repo.path);
              const refs = input.isNull(repo.value) ? [] : input.items(repo.value, repo.path, 'a list of tags or digests (an empty list means every tag)');
              if (source === undefined) continue;
              const draft = draftFor(source, `${file}:${input.lineOf(repo.keyNode) ?? '?'} images`);
              // An empty list (or none) is every tag, as in skopeo; a value that is no list was reported above.
              if (refs.length === 0) draft.everyTag = true;
              for (const ref of refs) {
                const value = input.text(ref.node, ref.path, 'a tag or a digest');
                if (value === undefined) continue;
                // skopeo tries a digest first, then a tag (`digest.Parse`, then `reference.WithTag`).
                const digest = isDigest(value) ? value : undefined;
                if (digest !== undefined) {
                  const tag = pinnedTag(digest);
                  if (!draft.digests.some((pinned) => pinned.digest === digest)) draft.digests.push({ digest, tag });
                  input.warn(ref.node, ref.path, `skopeo copies ${digest} without a tag; a team file pins a digest under a tag, so it gets the tag "${tag}" at the target (edit it if you like)`);
                } else if (value.includes(':')) {
                  input.problem(ref.node, ref.path, `"${value}" is neither a tag nor a digest skopeo and the team file accept (a digest is "sha256:" and 64 lower-case hex digits, or "sha512:" and 128)`);
                } else if (!isTagName(value)) {
                  input.problem(ref.node, ref.path, `"${value}" is not a valid tag name ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}); skopeo refuses it`);
                } else if (!draft.names.includes(value)) {
                  draft.names.push(value);
                }
              }
              for (const tag of MUTABLE_TAGS) if (draft.everyTag || draft.names.includes(tag)) draft.mutable.add(tag);
            }
            break;
          case 'images-by-tag-regex':
            if (input.isNull(section.value)) break;
            for (const repo of input.entries(section.value, section.path, 'a mapping of repositories to one regexp each')) {
              const source = parseRepository(input, registry, repo.key, repo.keyNode, repo.path);
              const pattern = input.text(repo.value, repo.path, 'one regexp (a string)');
              if (source === undefined || pattern === undefined) continue;
              const checked = checkRegExp(pattern);
              if ('problem' in checked) {
                input.problem(repo.value, repo.path, checked.problem);
                continue;
              }
              const draft = draftFor(source, `${file}:${input.lineOf(repo.keyNode) ?? '?'} images-by-tag-regex`);
              if (!draft.regexps.includes(pattern)) draft.regexps.push(pattern);
              for (const tag of MUTABLE_TAGS) if (checked.regexp.test(tag)) draft.mutable.add(tag);
            }
            break;
          case 'images-by-semver':
            if (input.isNull(section.value)) break;
            for (const repo of input.entries(section.value, section.path, 'a mapping of repositories to one semver constraint each')) {
              const source = parseRepository(input, registry, repo.key, repo.keyNode, repo.path);
              // Upstream skopeo (1.15+) takes one constraint; the kubasobon/skopeo fork the retagger documented took a list (OR).
              const listed = isSeqNode(repo.value);
              if (listed) input.warn(repo.value, repo.path, 'a list of constraints is the kubasobon/skopeo fork\'s format (any constraint selects); upstream skopeo takes one string and refuses the file. Converted as one rule per constraint');
              const values = listed ? input.items(repo.value, repo.path, 'semver constraints') : [{ node: repo.value, path: repo.path }];
              for (const value of values) {
                const constraint = input.text(value.node, value.path, 'one semver constraint (a string such as ">= 1.2")');
                if (source === undefined || constraint === undefined) continue;
                const checked = checkSemver(constraint);
                if (checked.problem !== undefined) {
                  input.problem(value.node, value.path, checked.problem);
                  continue;
                }
                if (checked.warning !== undefined) input.warn(value.node, value.path, checked.warning);
                const draft = draftFor(source, `${file}:${input.lineOf(repo.keyNode) ?? '?'} images-by-semver`);
                if (!draft.semvers.includes(constraint)) draft.semvers.push(constraint);
              }
            }
            break;
          case 'credentials':
            // Never read or quote the values: they are secrets.
            credentialsSeen = true;
            input.warn(section.keyNode, section.path, `credentials for "${registry}" were not copied: configure them for the registry in the registries config (--registries-config / SCANNER_REGISTRIES_CONFIG) or the Docker config`);
            break;
          case 'tls-verify': {
            const verify = input.boolean(section.value, section.path);
            if (verify === false) input.warn(section.keyNode, section.path, `"${registry}" was read without TLS verification: mark the registry insecure in the registries config (or pass --insecure) if it still needs it`);
            break;
          }
          case 'cert-dir':
            if (input.text(section.value, section.path, 'a directory path') !== undefined) {
              input.warn(section.keyNode, section.path, `"${registry}" used certificates from a cert-dir: configure its CA and client certificates in the registries config`);
            }
            break;
          default:
            input.problem(section.keyNode, section.path, `unknown key "${section.key}" (skopeo reads ${REGISTRY_KEYS.join(', ')}); remove it or move what it means to the team file by hand`);
        }
      }
    }
  }
  input.throwIfProblems(FORMAT);

  const images: ImageOrigin[] = [];
  for (const draft of drafts.values()) {
    const rules: ConvertedRule[] = [];
    if (draft.names.length > 0) rules.push({ names: draft.names });
    for (const regexp of draft.regexps) rules.push({ regexp });
    for (const semver of draft.semvers) rules.push({ semver, strict: false });
    if (draft.everyTag) rules.push({ regexp: '.*' });
    for (const pinned of draft.digests) rules.push(pinned);
    const mutable = MUTABLE_TAGS.filter((tag) => draft.mutable.has(tag));
    const image: ConvertedImage = { source: String(draft.source), tags: rules, ...(mutable.length > 0 ? { mutable } : {}) };
    images.push({ image, comment: `from ${draft.origins.join(', ')}` });
  }
  const header = [
    `Converted by \`scanner convert skopeo\` from ${file} (${FORMAT}); review, then put it in the mirror config directory.`,
    'Repository paths are kept at the targets (skopeo sync without --scoped kept only the last path component).',
    ...(credentialsSeen ? ['Credentials were not copied: they belong in the registries config or the Docker config, never in a team file.'] : []),
  ];
  const warnings = [...input.warnings];
  return { document: { owner, images: images.map((origin) => origin.image) }, yaml: renderTeamFile(header, owner, images, warnings), warnings };
}
