// `stats.pulls` is what users watch for Docker Hub's quota: it counts manifest GETs the registry answered, not
// GETs that never left (paused under a ratelimit floor, then aborted) or that failed.
import { parseImageReference } from '@scanner/image';
import type { RegistryClient } from '@scanner/registry';
import { describe, expect, test } from 'vitest';
import { createSourceReader } from './source.ts';

function stubClient(getManifest: () => Promise<never>): RegistryClient {
  return { mirrorsFor: () => Promise.resolve([]), getManifest } as unknown as RegistryClient;
}

describe('source reader pull counts', () => {
  test('a manifest GET that never got an answer is not counted as a pull', async () => {
    const aborted = Object.assign(new Error('aborted while waiting for the ratelimit window'), { name: 'AbortError' });
    const reader = createSourceReader({ client: stubClient(() => Promise.reject(aborted)) });
    const reference = parseImageReference('docker.io/library/nginx:1.27.0');
    await expect(reader.pin(reference)).rejects.toThrow(/aborted/);
    await expect(reader.manifest(reference, `sha256:${'a'.repeat(64)}`)).rejects.toThrow(/aborted/);
    expect(reader.pulls()).toEqual({});
  });
});
