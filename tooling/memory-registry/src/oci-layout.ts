import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA_TYPE_OCI_INDEX, parseDigest } from '@scanner/image';
import type { BuiltImage } from './image-builder.ts';

/**
 * Writes a built image as an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<algorithm>/<hex>`), the
 * `oci:` transport of skopeo, tagged `tag` through the `org.opencontainers.image.ref.name` annotation.
 */
export async function writeOciLayout(directory: string, image: BuiltImage, { tag = 'latest' }: { tag?: string } = {}): Promise<void> {
  const write = async (digest: string, bytes: Buffer) => {
    const { algorithm, hex } = parseDigest(digest);
    const blobDir = join(directory, 'blobs', algorithm);
    await mkdir(blobDir, { recursive: true });
    await writeFile(join(blobDir, hex), bytes);
  };
  await Promise.all([...image.blobs].map(([digest, bytes]) => write(digest, bytes)));
  await Promise.all(image.images.map((child) => write(child.digest, child.bytes)));
  await write(image.digest, image.bytes);
  await writeFile(join(directory, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(directory, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_INDEX,
    manifests: [{
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.bytes.length,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    }],
  }));
}
