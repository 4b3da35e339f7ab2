import { describe, expect, test } from 'vitest';
import { helpText, parseCommandLine } from './args.ts';
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

  test('--platform is accepted by inspect, refused by digest', () => {
    expect(parseCommandLine(['inspect', 'nginx', '--platform', 'linux/arm64'])).toMatchObject({ platforms: ['linux/arm64'], policy: undefined });
    expect(() => parseCommandLine(['digest', 'nginx', '--platform', 'linux/arm64'])).toThrow('--platform does not apply to scanner digest (only to scanner select, scanner inspect)');
  });
});
