import { httpError } from './errors.ts';

/** One page of a sorted list, and the `last` to ask for the next page with when there is one. */
export interface Page {
  items: string[];
  next?: { n: number; last: string };
}

/**
 * Cuts the page that `n` and `last` ask for out of a list already in order: the items strictly after `last`,
 * at most `n` of them (`maxPageSize` when `n` is absent or larger). `n=0` gives an empty page and no next.
 */
export function paginate(sorted: readonly string[], query: URLSearchParams, maxPageSize: number | undefined): Page {
  const rawN = query.get('n');
  const last = query.get('last');
  let n: number | undefined;
  if (rawN !== null) {
    if (!/^\d+$/.test(rawN)) throw httpError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, got "${rawN}"`, { detail: { n: rawN } });
    n = Number(rawN);
  }
  if (maxPageSize !== undefined && (n === undefined || n > maxPageSize)) n = maxPageSize;
  const rest = last === null ? sorted : sorted.filter((item) => item > last);
  if (n === undefined) return { items: [...rest] };
  const items = rest.slice(0, n);
  const lastItem = items.at(-1);
  return rest.length > n && lastItem !== undefined ? { items, next: { n, last: lastItem } } : { items };
}

/** The `Link` header value pointing at the next page: `</v2/…?n=N&last=T>; rel="next"`. */
export function nextLink(path: string, next: { n: number; last: string }): string {
  return `<${path}?n=${next.n}&last=${encodeURIComponent(next.last)}>; rel="next"`;
}
