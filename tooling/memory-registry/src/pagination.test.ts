import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { nextLink, paginate } from './pagination.ts';

const params = (query: string) => new URLSearchParams(query);

describe('paginate', () => {
  const tags = ['a', 'b', 'c', 'd', 'e'];

  test('without n returns everything', () => {
    expect(paginate(tags, params(''), undefined)).toEqual({ items: tags });
  });

  test('n cuts a page and names the last item for the next one', () => {
    expect(paginate(tags, params('n=2'), undefined)).toEqual({ items: ['a', 'b'], next: { n: 2, last: 'b' } });
    expect(paginate(tags, params('n=2&last=b'), undefined)).toEqual({ items: ['c', 'd'], next: { n: 2, last: 'd' } });
    expect(paginate(tags, params('n=2&last=d'), undefined)).toEqual({ items: ['e'] });
  });

  test('an exact last page has no next', () => {
    expect(paginate(tags, params('n=5'), undefined)).toEqual({ items: tags });
  });

  test('n=0 is an empty page without next', () => {
    expect(paginate(tags, params('n=0'), undefined)).toEqual({ items: [] });
  });

  test('last need not be in the list', () => {
    expect(paginate(tags, params('last=bb'), undefined)).toEqual({ items: ['c', 'd', 'e'] });
  });

  test('maxPageSize caps n and applies when n is absent', () => {
    expect(paginate(tags, params(''), 3)).toEqual({ items: ['a', 'b', 'c'], next: { n: 3, last: 'c' } });
    expect(paginate(tags, params('n=10'), 3)).toEqual({ items: ['a', 'b', 'c'], next: { n: 3, last: 'c' } });
  });

  test.each(['-1', 'x', '1.5', ''])('refuses n=%s', (n) => {
    expect(() => paginate(tags, params(`n=${n}`), undefined)).toThrow(/PAGINATION_NUMBER_INVALID/);
  });

  test('following next links visits every item exactly once, in order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 })), fc.integer({ min: 1, max: 7 }), (raw, n) => {
        const sorted = [...raw].sort();
        const seen: string[] = [];
        let query = `n=${n}`;
        for (let guard = 0; guard <= sorted.length + 1; guard++) {
          const page = paginate(sorted, params(query), undefined);
          seen.push(...page.items);
          if (!page.next) break;
          query = `n=${page.next.n}&last=${encodeURIComponent(page.next.last)}`;
        }
        expect(seen).toEqual(sorted);
      }),
    );
  });
});

test('nextLink encodes the last value', () => {
  expect(nextLink('/v2/a/tags/list', { n: 2, last: 'v1+x' })).toBe('</v2/a/tags/list?n=2&last=v1%2Bx>; rel="next"');
});
