import { expect, test } from 'vitest';
import type { Platform } from '@scanner/image';

test('workspace source resolution', () => {
  const p: Platform = { os: 'linux', architecture: 'amd64' };
  expect(p.os).toBe('linux');
});
