// Runs each benchmark file in its own Node process (so peak memory is per benchmark), one after another.
// `pnpm bench -- select` runs only the files whose name contains "select".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const filters = process.argv.slice(2).filter((arg) => arg !== '--');
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

let failed = 0;
for (const file of files) {
  process.stdout.write(`\n## ${file}\n\n`);
  const result = spawnSync(process.execPath, ['--conditions=@scanner/source', '--expose-gc', join(dir, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
