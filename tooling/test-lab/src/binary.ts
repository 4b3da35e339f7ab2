import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TestLabError } from './errors.ts';

/** Absolute path of an executable on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * Whether a test that needs `name` can run. Outside CI a missing binary lets the caller skip with a reason
 * (`describe.skipIf(!hasBinary('redis-server'))`); under `CI=true` it is a failure, because a green run
 * that skipped the real-service tests proves nothing.
 */
export function hasBinary(name: string): boolean {
  if (findBinary(name)) return true;
  if (process.env['CI'] === 'true') {
    throw new TestLabError('BINARY_MISSING', `test-lab: ${name} is not installed, and CI=true requires the real-service tests to run; run \`npm run setup\``);
  }
  return false;
}
