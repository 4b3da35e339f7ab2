// Ctrl-C during `scanner sync` on a terminal: the animated display (listr2, whose cursor handling hooks
// SIGINT through signal-exit) must let the sync stop cleanly: cursor shown again, the report printed, exit 1,
// as in the plain (piped) mode. Run under `script`, which gives the child a pseudo-terminal.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { hasBinary, tempDir } from '@scanner/test-lab';
import { describe, expect, test } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const missing = !hasBinary('script');
if (process.env['CI'] === 'true' && missing) throw new Error('the terminal test needs script (util-linux)');

describe.skipIf(missing)('Ctrl-C on a terminal during the animated sync display', () => {
  test('the cursor is shown again, the report printed, and the exit code is 1', { timeout: 30_000 }, async () => {
    await using dir = await tempDir('scanner-progress-sigint-');
    const ready = join(dir.path, 'pid');
    const log = join(dir.path, 'tty.log');
    const command = `stty cols 100 rows 30; exec '${process.execPath}' --conditions=@scanner/source src/progress-sigint.fixture.ts '${ready}'`;
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: '/nonexistent', TERM: 'xterm' };
    const exited = new Promise<number | null>((resolve) => {
      execFile('script', ['-qfec', command, log], { cwd: packageDir, env, timeout: 25_000 }, (error) => {
        resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : null);
      });
    });
    let pid: number | undefined;
    for (let attempt = 0; attempt < 200 && pid === undefined; attempt++) {
      await delay(50);
      pid = Number(await readFile(ready, 'utf8').catch(() => '')) || undefined;
    }
    expect(pid).toBeDefined();
    // Let the display draw (it hides the cursor), then interrupt the process as the terminal's Ctrl-C does.
    await delay(500);
    process.kill(pid as number, 'SIGINT');
    const code = await exited;
    const output = await readFile(log, 'utf8');
    expect(output).toContain('\u001B[?25l');
    expect(output.lastIndexOf('\u001B[?25h')).toBeGreaterThan(output.lastIndexOf('\u001B[?25l'));
    expect(output).toContain('REPORT: 1 failed');
    expect(code).toBe(1);
  });
});
