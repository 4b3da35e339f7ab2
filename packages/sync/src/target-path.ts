// Where a mirrored image lands: `<registry>[/<prefix>]/<rename or source repository path>`, and what its tags
// are called there.
import { createImageReference, withTag } from '@scanner/image';
import type { ImageReference } from '@scanner/image';
import { createExtractor } from '@scanner/tag';
import type { Extractor } from '@scanner/tag';
import type { MirrorImage, MirrorTarget, TargetTagTemplate } from './types.ts';

/**
 * The repository an image is mirrored to at a target: `<registry>[/<prefix>]/<rename or source path>`. The
 * source path is kept whole, `library/` of Docker Hub official images included
 * (`docker.io/library/nginx` → `mirror.example.io/library/nginx`), so an upstream copy is told apart from an
 * in-house image by its path.
 *
 * @throws {ImageError} when the result is not a valid repository (the config loader reports this as a config
 * issue, so a loaded config never throws here).
 */
export function targetRepository(image: Pick<MirrorImage, 'source' | 'rename'>, target: MirrorTarget): ImageReference {
  const path = image.rename ?? image.source.repository;
  const repository = target.prefix === undefined ? path : `${target.prefix}/${path}`;
  return createImageReference({ registry: target.registry, repository });
}

/** {@link targetRepository} with a tag: `mirror.example.io/bitnami/postgresql:16.4.0`. @throws {ImageError} `invalid_tag`. */
export function targetReference(image: Pick<MirrorImage, 'source' | 'rename'>, target: MirrorTarget, tag: string): ImageReference {
  return withTag(targetRepository(image, target), tag);
}

const extractors = new WeakMap<TargetTagTemplate, Extractor>();

/**
 * The tag a source tag gets at the target under `targetTag`: the template expanded with the pattern's groups
 * when the pattern matches (`{ pattern: '^v(.*)$', template: '$1' }`: `v1.2` → `1.2`), else the source tag
 * unchanged. The result may still be an invalid tag name; the plan reports that per tag.
 *
 * @throws {TagError} when the template does not compile (never for a loaded config).
 */
export function targetTagName(template: TargetTagTemplate | undefined, sourceTag: string): string {
  if (template === undefined) return sourceTag;
  let extractor = extractors.get(template);
  if (extractor === undefined) {
    extractor = createExtractor(template);
    extractors.set(template, extractor);
  }
  return extractor.extract(sourceTag) ?? sourceTag;
}
