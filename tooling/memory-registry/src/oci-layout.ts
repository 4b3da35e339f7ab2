import { writeOciLayout as writeFixtureLayout } from '@scanner/test-lab';
import type { BuiltImage } from './image-builder.ts';

/**
 * Writes a built image as an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<algorithm>/<hex>`), the
 * `oci:` transport of skopeo, tagged `tag` through the `org.opencontainers.image.ref.name` annotation.
 */
export async function writeOciLayout(directory: string, image: BuiltImage, { tag = 'latest' }: { tag?: string } = {}): Promise<void> {
  await writeFixtureLayout(directory, [{ ref: tag, artifact: image.artifact }]);
}
