import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { familiarName, familiarString, formatImageReference, parseImageReference, withRegistry } from './index.ts';
import type { ImageReference } from './index.ts';

const alphanumeric = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const separator = fc.constantFrom('.', '_', '__', '-', '--', '---');
const pathComponent = fc
  .tuple(alphanumeric, fc.array(fc.tuple(separator, alphanumeric), { maxLength: 3 }))
  .map(([head, rest]) => head + rest.map(([sep, part]) => sep + part).join(''));
const repositoryPath = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));

const domainComponent = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
const port = fc.integer({ min: 1, max: 65_535 }).map((n) => `:${n}`);
const optionalPort = fc.option(port, { nil: '' });
const dottedHost = fc
  .array(domainComponent, { minLength: 2, maxLength: 4 })
  .map((parts) => parts.join('.'))
  .filter((host) => host !== 'docker.io' && host !== 'index.docker.io');
const registry = fc.oneof(
  fc.constant('docker.io'),
  fc.tuple(dottedHost, optionalPort).map(([host, p]) => host + p),
  fc.tuple(fc.constant('localhost'), optionalPort).map(([host, p]) => host + p),
  fc.tuple(domainComponent, port).map(([host, p]) => host + p),
  fc.tuple(fc.ipV6().filter((ip) => /^[a-f0-9:]+$/.test(ip)), optionalPort).map(([ip, p]) => `[${ip}]${p}`),
  fc.stringMatching(/^[A-Z][a-zA-Z0-9]{0,6}$/),
);
const tag = fc.stringMatching(/^\w[\w.-]{0,40}$/);
const digest = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `sha256:${Buffer.from(b).toString('hex')}`),
  fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => `sha512:${Buffer.from(b).toString('hex')}`),
);

/** Canonical reference strings: what String(ref) produces. */
const canonicalReference = fc
  .record({
    registry,
    repository: repositoryPath,
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .map(({ registry: host, repository, tag: t, digest: d }) => {
    const path = host === 'docker.io' && !repository.includes('/') ? `library/${repository}` : repository;
    return `${host}/${path}${t === undefined ? '' : `:${t}`}${d === undefined ? '' : `@${d}`}`;
  });

function fields(ref: ImageReference): Record<string, string | undefined> {
  return { registry: ref.registry, repository: ref.repository, tag: ref.tag, digest: ref.digest };
}

describe('reference properties', () => {
  test('format ∘ parse is the identity on canonical strings', () => {
    fc.assert(
      fc.property(canonicalReference, (input) => {
        const ref = parseImageReference(input);
        expect(String(ref)).toBe(input);
        expect(formatImageReference(ref)).toBe(input);
      }),
      { numRuns: 500 },
    );
  });

  test('parse ∘ format is the identity on parsed references', () => {
    fc.assert(
      fc.property(canonicalReference, (input) => {
        const ref = parseImageReference(input);
        expect(fields(parseImageReference(formatImageReference(ref)))).toEqual(fields(ref));
      }),
      { numRuns: 500 },
    );
  });

  test('familiar name and familiar string round-trip through parse', () => {
    fc.assert(
      fc.property(canonicalReference, (input) => {
        const ref = parseImageReference(input);
        expect(fields(parseImageReference(familiarString(ref)))).toEqual(fields(ref));
        const named = parseImageReference(familiarName(ref));
        expect([named.registry, named.repository]).toEqual([ref.registry, ref.repository]);
      }),
      { numRuns: 500 },
    );
  });

  test('withRegistry keeps the path and moving back restores the reference', () => {
    fc.assert(
      fc.property(
        canonicalReference.filter((s) => !s.startsWith('docker.io/')),
        fc.tuple(dottedHost, optionalPort),
        (input, [host, p]) => {
          const ref = parseImageReference(input);
          const moved = withRegistry(ref, host + p);
          expect(moved.repository).toBe(ref.repository);
          expect(fields(withRegistry(moved, ref.registry))).toEqual(fields(ref));
        },
      ),
      { numRuns: 200 },
    );
  });
});
