import { main } from './main.ts';

/**
 * Runs `scanner` as a process: argv, the standard streams and the environment in, the exit code out. Shared by
 * the source entry (bin.ts) and the published one (launch.ts, which loads it from the bundle).
 */
export async function runProcess(): Promise<void> {
  const controller = new AbortController();
  // The first Ctrl-C stops the command cleanly (connections closed, exit code 1); a second one kills it.
  process.once('SIGINT', () => {
    controller.abort();
  });

  process.exitCode = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  });
  // Everything is written (stdout and stderr are synchronous for files and pipes on Linux and macOS). A socket
  // of a request abandoned by Ctrl-C or --timeout must not keep the process alive: end it if it lingers.
  setTimeout(() => process.exit(), 1000).unref();
  // After Ctrl-C, at once: a scan's request that concurrent scans could have shared is not aborted with the
  // caller, and its connection would hold the exit for that second (break-engine 7).
  if (controller.signal.aborted) {
    let streams = 2;
    const flushed = (): void => {
      streams -= 1;
      if (streams === 0) process.exit();
    };
    process.stdout.write('', flushed);
    process.stderr.write('', flushed);
  }
}
