import { describe, expect, test } from 'vitest';
import { helpText, parseCommandLine, parseTimeoutMs } from './args.ts';
import { isScannerError } from '@scanner/image';
import { isCliError } from './errors.ts';

describe('parseCommandLine', () => {
  test('select: every policy flag lands in the policy, repeatable ones in order', () => {
    const parsed = parseCommandLine([
      'select',
      'ghcr.io/org/app',
      '--strategy=numerical',
      '--allow-tags',
      'glob:build-*',
      '--allow-tags=regexp:^rc-',
      '--ignore-tags',
      'build-0',
      '--platform',
      'linux/amd64',
      '--platform',
      'linux/arm64',
      '--order',
      'desc',
      '--extract-pattern',
      '^build-(\\d+)$',
      '--extract-template',
      '$1',
      '--limit',
      '5',
      '-o',
      'json',
      '--cache',
      'redis://127.0.0.1:6379/2',
      '--cache-strategy',
      'tag',
      '--insecure',
      '--registries-config',
      'regs.yaml',
      '--debug',
    ]);
    expect(parsed).toEqual({
      kind: 'run',
      command: 'select',
      image: 'ghcr.io/org/app',
      images: ['ghcr.io/org/app'],
      output: 'json',
      debug: true,
      registry: { registriesConfig: 'regs.yaml', insecure: true, cache: { kind: 'redis', url: 'redis://127.0.0.1:6379/2' }, cacheStrategy: 'tag' },
      policy: {
        strategy: 'numerical',
        order: 'desc',
        allowTags: ['glob:build-*', 'regexp:^rc-'],
        ignoreTags: ['build-0'],
        extract: { pattern: '^build-(\\d+)$', template: '$1' },
        platforms: ['linux/amd64', 'linux/arm64'],
        limit: 5,
      },
      platforms: ['linux/amd64', 'linux/arm64'],
    });
  });

  test('select defaults: semver, table, no cache; --loose and --prereleases', () => {
    const parsed = parseCommandLine(['select', 'nginx', '--loose', '--prereleases', '--constraint', '^1']);
    expect(parsed).toMatchObject({
      output: 'table',
      debug: false,
      registry: { registriesConfig: undefined, insecure: false, cache: undefined, cacheStrategy: undefined },
      policy: { strategy: 'semver', constraint: '^1', strict: false, prereleases: true },
    });
    expect(parseCommandLine(['tags', 'nginx', '--cache', 'memory'])).toMatchObject({ policy: undefined, registry: { cache: { kind: 'memory' } } });
  });

  test('help and version', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help', command: undefined });
    expect(parseCommandLine(['-h'])).toEqual({ kind: 'help', command: undefined });
    expect(parseCommandLine(['help', 'inspect'])).toEqual({ kind: 'help', command: 'inspect' });
    expect(parseCommandLine(['digest', '--help'])).toEqual({ kind: 'help', command: 'digest' });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(helpText('inspect')).toMatch(/^Usage: scanner inspect/);
  });

  test('a boolean flag given a value is a usage error', () => {
    let caught: unknown;
    try {
      parseCommandLine(['select', 'nginx', '--loose=yes']);
    } catch (error) {
      caught = error;
    }
    expect(isCliError(caught) && caught.code === 'usage').toBe(true);
    expect((caught as Error).message).toMatch(/^--loose does not take a value/);
  });

  test('a cache URL with a password is never echoed', () => {
    expect(() => parseCommandLine(['tags', 'nginx', '--cache', 'http://user:hunter2@cache:6379'])).toThrow(/^--cache takes "memory" or a Redis URL/);
    try {
      parseCommandLine(['tags', 'nginx', '--cache', 'http://user:hunter2@cache:6379']);
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });

  test('a Redis URL whose path is not a database number is a usage error naming the path, never the password (break-scan F13)', () => {
    for (const path of ['/abc', '/-1', '/1.5', '/0/x']) {
      let caught: unknown;
      try {
        parseCommandLine(['select', 'nginx', '--cache', `redis://:hunter2@127.0.0.1:6379${path}`]);
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'invalid_argument', fields: { field: '--cache' } });
      expect((caught as Error).message).toContain(`the database ${JSON.stringify(path.slice(1))}`);
      expect((caught as Error).message).not.toContain('hunter2');
    }
    for (const path of ['', '/', '/0', '/15']) {
      expect(parseCommandLine(['tags', 'nginx', '--cache', `redis://127.0.0.1:6379${path}`])).toMatchObject({ registry: { cache: { kind: 'redis' } } });
    }
  });

  test('--platform is accepted by inspect, refused by digest', () => {
    expect(parseCommandLine(['inspect', 'nginx', '--platform', 'linux/arm64'])).toMatchObject({ platforms: ['linux/arm64'], policy: undefined });
    expect(() => parseCommandLine(['digest', 'nginx', '--platform', 'linux/arm64'])).toThrow('--platform does not apply to scanner digest (only to scanner select, scanner inspect)');
  });

  // The example: values beginning with "-" were "does not take a value" with an unclosed parenthesis.
  test.each([
    [['--extract-pattern', '-(\\w+)$', '--extract-template', '$1'], { pattern: '-(\\w+)$', template: '$1' }],
    [['--extract-pattern=-(\\w+)$', '--extract-template=$1'], { pattern: '-(\\w+)$', template: '$1' }],
    [['--extract-template', '-$1', '--extract-pattern', '^v(\\d+)$'], { pattern: '^v(\\d+)$', template: '-$1' }],
    [['--extract-pattern', '-', '--extract-template', '$0'], { pattern: '-', template: '$0' }],
  ])('a value beginning with "-" is taken: %j', (flags, extract) => {
    expect(parseCommandLine(['select', 'x.io/a', ...flags])).toMatchObject({ policy: { extract } });
  });

  test('--allow-tags and --ignore-tags take values beginning with "-" too', () => {
    expect(parseCommandLine(['select', 'x.io/a', '--ignore-tags', '-rc', '--allow-tags', '-x*'])).toMatchObject({ policy: { allowTags: ['-x*'], ignoreTags: ['-rc'] } });
  });

  test.each([
    [['--limit', '-3'], '--limit must be a positive integer, got "-3"'],
    [['--limit=-3'], '--limit must be a positive integer, got "-3"'],
    [['--limit', '0'], '--limit must be a positive integer, got "0"'],
    [['--limit', '2.5'], '--limit must be a positive integer, got "2.5"'],
    [['--extract-pattern', '--debug', '--extract-template', '$1'], '--extract-pattern needs a value, e.g. --extract-pattern VALUE (a value that begins with "-" may also be written --extract-pattern=-VALUE)'],
    [['--constraint', '-o', 'json'], '--constraint needs a value, e.g. --constraint VALUE (a value that begins with "-" may also be written --constraint=-VALUE)'],
    [['--strategy'], '--strategy needs a value, e.g. --strategy VALUE (a value that begins with "-" may also be written --strategy=-VALUE)'],
    [['--bogus', 'x'], 'unknown flag "--bogus"; run scanner --help for the flags'],
    [['-x'], 'unknown flag "-x"; run scanner --help for the flags'],
    [['--timeout', '0s'], '--timeout takes a duration such as 30s, 2m or 1m30s, got "0s"'],
    [['--timeout', '-5s'], '--timeout takes a duration such as 30s, 2m or 1m30s, got "-5s"'],
  ])('%j: %s', (flags, message) => {
    let caught: unknown;
    try {
      parseCommandLine(['select', 'x.io/a', ...flags]);
    } catch (error) {
      caught = error;
    }
    expect(isCliError(caught)).toBe(true);
    expect(isScannerError(caught)).toBe(true);
    expect((caught as Error).message).toBe(message);
  });

  test('--timeout takes Go durations', () => {
    expect(parseTimeoutMs('30s')).toBe(30_000);
    expect(parseTimeoutMs('1m30s')).toBe(90_000);
    expect(parseTimeoutMs('1.5s')).toBe(1500);
    expect(parseTimeoutMs('250ms')).toBe(250);
    expect(parseTimeoutMs('2h')).toBe(7_200_000);
    expect(() => parseTimeoutMs('30', 'SCANNER_TIMEOUT')).toThrow('SCANNER_TIMEOUT takes a duration such as 30s, 2m or 1m30s, got "30"');
    expect(parseCommandLine(['digest', 'x.io/a', '--timeout', '45s'])).toMatchObject({ registry: { timeout: '45s' } });
  });

  test('a CliError is a ScannerError of @scanner/cli whose message has no package prefix', () => {
    try {
      parseCommandLine(['select', 'x.io/a', '--limit', 'ten']);
    } catch (error) {
      expect(error).toMatchObject({ package: '@scanner/cli', code: 'invalid_argument', message: '--limit must be a positive integer, got "ten"', fields: { field: '--limit', input: 'ten' } });
    }
    expect.assertions(1);
  });
});
