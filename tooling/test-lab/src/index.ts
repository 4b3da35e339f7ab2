export { findBinary, hasBinary } from './binary.ts';
export { freePort, waitForPort } from './net.ts';
export { spawnService } from './process.ts';
export type { ServiceProcess, SpawnServiceOptions } from './process.ts';
export { tempDir } from './temp-dir.ts';
export type { TempDir } from './temp-dir.ts';
