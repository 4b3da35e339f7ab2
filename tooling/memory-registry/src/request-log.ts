/** Which endpoint family a request hit. */
export type RouteKind = 'base' | 'catalog' | 'tags' | 'manifest' | 'blob' | 'upload' | 'referrers' | 'unknown';

/** One answered request, as `requests()` lists it and `onRequest` receives it. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query: `/v2/library/nginx/tags/list`. */
  path: string;
  /** Query string without the `?`, empty when there is none. */
  query: string;
  route: RouteKind;
  /** Repository named in the path, when the route has one. */
  repository?: string;
  status: number;
}
