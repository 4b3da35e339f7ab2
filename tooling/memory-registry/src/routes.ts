import type { RouteKind } from './request-log.ts';

/** A request path matched to an endpoint of the distribution API. Names and references are not yet validated. */
export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string }
  | { kind: 'unknown' };

// Names contain slashes, so each pattern anchors on the fixed segments at the end; uploads come before blobs
// because `/blobs/uploads` would otherwise read as a blob called "uploads".
const PATTERNS: readonly [RegExp, (match: RegExpExecArray) => Route][] = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ kind: 'catalog' })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1] ?? '' })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1] ?? '', reference: decode(m[2]) })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1] ?? '' })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1] ?? '', id: decode(m[2]) })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1] ?? '', digest: decode(m[2]) })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1] ?? '', digest: decode(m[2]) })],
];

/** Matches a URL path (without query) to a route. */
export function matchRoute(path: string): Route {
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(path);
    if (match) return build(match);
  }
  return { kind: 'unknown' };
}

/** The request-log family of a route (`uploads` and `upload` are both uploads). */
export function routeKind(route: Route): RouteKind {
  return route.kind === 'uploads' ? 'upload' : route.kind;
}

// Some clients percent-encode the colon of a digest; a malformed escape stays as typed and fails validation.
function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
}
