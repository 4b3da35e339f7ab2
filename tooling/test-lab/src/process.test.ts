import { describe, expect, test } from 'vitest';
import { freePort, waitForPort } from './net.ts';
import { runCommand, spawnService } from './process.ts';

describe('runCommand', () => {
  test('returns what the command printed', async () => {
    const { stdout } = await runCommand(process.execPath, ['-e', 'process.stdout.write(require("node:fs").readFileSync(0, "utf8").toUpperCase())'], { input: 'abc' });
    expect(stdout).toBe('ABC');
  });

  test('masks secrets in the error of a failing command', async () => {
    const failure = await runCommand(process.execPath, ['-e', 'console.error("login hunter2 refused"); process.exit(3)', 'hunter2'], { secrets: ['hunter2'] })
      .then(() => undefined, (error: unknown) => error as Error);
    expect(failure?.message).toMatch(/exited with 3/);
    expect(failure?.message).toContain('login *** refused');
    expect(failure?.message).not.toContain('hunter2');
    expect(failure).toMatchObject({ code: 'COMMAND_FAILED' });
  });

  test('says a binary is missing with its own code', async () => {
    await expect(runCommand('test-lab-no-such-binary', [])).rejects.toMatchObject({ code: 'BINARY_MISSING', message: expect.stringContaining('could not run test-lab-no-such-binary') as unknown });
  });
});

describe('spawnService', () => {
  test('waits for the port, then stops the process on dispose', async () => {
    const port = await freePort();
    const script = `require('node:net').createServer(() => {}).listen(${port}, '127.0.0.1')`;
    {
      await using service = await spawnService(process.execPath, ['-e', script], { port });
      expect(service.child.exitCode).toBeNull();
    }
    await expect(waitForPort(port, { timeoutMs: 200 })).rejects.toThrow(/nothing listened/);
  });

  test('reports what a process said when it exits before listening', async () => {
    const port = await freePort();
    await expect(spawnService(process.execPath, ['-e', 'console.error("bad config"); process.exit(1)'], { port })).rejects.toThrow(/exited[\s\S]*bad config/);
  });
});
