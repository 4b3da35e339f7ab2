import { describe, expect, it } from 'vitest';
import { WorkerOptionsError, parseWorkerOptions } from './options.ts';

const run = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseWorkerOptions(argv, env);
  if (parsed.kind !== 'run') throw new Error('expected options');
  return parsed.options;
};

describe('scanner-worker options', () => {
  it('has defaults for everything but the config directory', () => {
    expect(run(['--config', '/config'])).toEqual({
      configDir: '/config',
      listen: { host: '127.0.0.1', port: 8080 },
      redisUrl: undefined,
      redisPrefix: 'scanner-worker',
      intervalMs: 6 * 3_600_000,
      concurrency: 4,
      registryConcurrency: 2,
      gracePeriodMs: 25_000,
      jobLockMs: 30_000,
      reloadDebounceMs: 500,
      cacheTtlMs: 24 * 3_600_000,
      registriesConfig: undefined,
      insecure: false,
      logLevel: 'info',
      triggerToken: undefined,
    });
  });

  it('takes every flag from the environment, and a flag wins over its variable', () => {
    const env = {
      SCANNER_CONFIG: '/etc/mirror',
      SCANNER_LISTEN: '0.0.0.0:9090',
      SCANNER_REDIS_URL: 'redis://:pw@redis:6379/1',
      SCANNER_INTERVAL: '1h30m',
      SCANNER_CONCURRENCY: '8',
      SCANNER_REGISTRY_CONCURRENCY: '3',
      SCANNER_GRACE_PERIOD: '10s',
      SCANNER_JOB_LOCK: '5s',
      SCANNER_REGISTRIES_CONFIG: '/etc/registries.yaml',
      SCANNER_INSECURE: 'true',
      SCANNER_LOG_LEVEL: 'debug',
      SCANNER_TRIGGER_TOKEN: '0123456789abcdef0123',
    };
    const options = run([], env);
    expect(options).toMatchObject({
      configDir: '/etc/mirror',
      listen: { host: '0.0.0.0', port: 9090 },
      redisUrl: 'redis://:pw@redis:6379/1',
      intervalMs: 5_400_000,
      concurrency: 8,
      registryConcurrency: 3,
      gracePeriodMs: 10_000,
      jobLockMs: 5_000,
      registriesConfig: '/etc/registries.yaml',
      insecure: true,
      logLevel: 'debug',
      triggerToken: '0123456789abcdef0123',
    });
    expect(run(['--config', '/flag', '--interval', '15m', '--listen', '[::1]:8081'], env)).toMatchObject({ configDir: '/flag', intervalMs: 900_000, listen: { host: '::1', port: 8081 } });
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['', false],
  ] as const)('reads SCANNER_INSECURE=%j as %j', (value, insecure) => {
    expect(parseWorkerOptions(['--config', 'x'], { SCANNER_INSECURE: value })).toMatchObject({ kind: 'run', options: { insecure } });
  });

  it('asks for help', () => {
    expect(parseWorkerOptions(['--help'], {})).toEqual({ kind: 'help' });
  });

  it.each([
    [[], {}, /--config DIR \(or SCANNER_CONFIG\) is required/],
    [['--config', 'x', '--interval', 'often'], {}, /--interval "often" is not a duration/],
    [['--config', 'x'], { SCANNER_INTERVAL: '10ms' }, /SCANNER_INTERVAL "10ms" is not a duration of at least 1000 ms/],
    [['--config', 'x', '--listen', 'localhost'], {}, /--listen "localhost" must be HOST:PORT/],
    [['--config', 'x', '--redis', 'http://redis'], {}, /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    [['--config', 'x', '--concurrency', '0'], {}, /--concurrency "0" must be a whole number/],
    [['--config', 'x', '--log-level', 'loud'], {}, /log level "loud"/],
    [['--config', 'x'], { SCANNER_TRIGGER_TOKEN: 'short' }, /at least 16 characters/],
    [['--config', 'x', '--bogus'], {}, /Unknown option '--bogus'.*see --help/],
    [['--config', 'x'], { SCANNER_INSECURE: 'banana' }, /SCANNER_INSECURE "banana" must be true or false \(also 1\/0, yes\/no\)/],
    [['--config', 'x'], { SCANNER_INSECURE: 'on' }, /SCANNER_INSECURE "on" must be true or false/],
  ] as const)('rejects %j %j with a message naming the input', (argv, env, message) => {
    expect(() => parseWorkerOptions(argv, env)).toThrow(WorkerOptionsError);
    expect(() => parseWorkerOptions(argv, env)).toThrow(message);
  });
});
