import { describe, expect, test } from 'vitest';
import { parseWwwAuthenticate } from './www-authenticate.ts';

describe('parseWwwAuthenticate', () => {
  test('RFC 7235 §4.1 example: two challenges, a quoted string with escaped quotes and a comma', () => {
    const header = 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"';
    expect(parseWwwAuthenticate(header)).toEqual([
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
    ]);
  });

  test('Docker bearer challenge with a scope containing colons and commas', () => {
    const header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"';
    expect(parseWwwAuthenticate(header)).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull,push' },
      },
    ]);
  });

  test('challenges across several header values, schemes and parameter names case-insensitive', () => {
    expect(parseWwwAuthenticate(['BASIC Realm="a"', 'bEaReR REALM="https://x/t", Service=reg'])).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', service: 'reg' } },
    ]);
  });

  test('token68 and a scheme without parameters', () => {
    expect(parseWwwAuthenticate('Negotiate abc/+d==, Basic, Bearer realm="r"')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc/+d==' },
      { scheme: 'basic', params: {} },
      { scheme: 'bearer', params: { realm: 'r' } },
    ]);
  });

  test('optional whitespace around "=" and empty list elements', () => {
    expect(parseWwwAuthenticate(' , Basic realm = "x" ,, charset="UTF-8"')).toEqual([{ scheme: 'basic', params: { realm: 'x', charset: 'UTF-8' } }]);
  });

  test('an absent header gives no challenges', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });

  test('an unterminated quoted string is an invalid_response error quoting the header', () => {
    expect(() => parseWwwAuthenticate('Bearer realm="https://x')).toThrow(
      expect.objectContaining({ code: 'invalid_response', message: expect.stringContaining('Bearer realm=\\"https://x') as unknown }),
    );
  });

  test('a stray separator is an error', () => {
    expect(() => parseWwwAuthenticate('Bearer realm="a", =b')).toThrow(expect.objectContaining({ code: 'invalid_response' }));
  });
});
