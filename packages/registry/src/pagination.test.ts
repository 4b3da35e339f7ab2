import { describe, expect, test } from 'vitest';
import { json, startServer, testClient } from './http.fixture.ts';
import type { Handler } from './http.fixture.ts';

/** Serves `tags` in pages of `n` (default `fallbackN`) with a `last=` cursor and a relative Link. */
function pagedTags(tags: string[], options: { fallbackN?: number; link?: (next: string) => string } = {}): Handler {
  return (request, response) => {
    const url = new URL(request.url, 'http://x');
    const n = Number(url.searchParams.get('n') ?? options.fallbackN ?? 1000);
    const last = url.searchParams.get('last');
    const start = last === null ? 0 : tags.indexOf(last) + 1;
    const page = tags.slice(start, start + n);
    const headers: Record<string, string> = {};
    if (start + n < tags.length) {
      const next = `${url.pathname}?n=${n}&last=${encodeURIComponent(page.at(-1) ?? '')}`;
      headers['link'] = options.link?.(next) ?? `<${next}>; rel="next"`;
    }
    json(response, 200, { name: 'a/b', tags: page }, headers);
  };
}

const tags = Array.from({ length: 25 }, (_, i) => `v${String(i).padStart(2, '0')}`);

describe('tag pagination', () => {
  test('sends n and follows a relative Link until it ends', async () => {
    await using registry = await startServer(pagedTags(tags));
    await using t = testClient({ pageSize: 10 });
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(tags);
    expect(registry.requests.map((r) => r.url)).toEqual(['/v2/a/b/tags/list?n=10', '/v2/a/b/tags/list?n=10&last=v09', '/v2/a/b/tags/list?n=10&last=v19']);
  });

  test('follows an absolute same-origin Link exactly as given', async () => {
    await using registry = await startServer();
    registry.handle(pagedTags(tags, { link: (next) => `<${registry.origin}${next}&opaque=%2Fkeep>; rel="next"` }));
    await using t = testClient({ pageSize: 20 });
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(tags);
    expect(registry.requests[1]!.url).toBe('/v2/a/b/tags/list?n=20&last=v19&opaque=%2Fkeep');
  });

  test('pageTags yields page by page', async () => {
    await using registry = await startServer(pagedTags(tags));
    await using t = testClient();
    const pages = [];
    for await (const page of t.client.pageTags(`${registry.host}/a/b`, { pageSize: 12 })) pages.push(page.tags.length);
    expect(pages).toEqual([12, 12, 1]);
  });

  test('a cross-origin Link is refused', async () => {
    await using registry = await startServer(pagedTags(tags, { link: (next) => `<http://localhost:1${next}>; rel="next"` }));
    await using t = testClient({ pageSize: 10 });
    await expect(t.client.listTags(`${registry.host}/a/b`)).rejects.toMatchObject({ code: 'cross_origin', repository: 'a/b' });
    expect(registry.requests).toHaveLength(1);
  });

  test('a Link back to a visited page stops with the tags so far and a warning', async () => {
    await using registry = await startServer((request, response) => {
      const second = request.url.includes('last=');
      json(response, 200, { tags: second ? ['c'] : ['a', 'b'] }, { link: second ? '</v2/a/b/tags/list?n=2>; rel="next"' : '</v2/a/b/tags/list?n=2&last=b>; rel="next"' });
    });
    await using t = testClient({ pageSize: 2 });
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['a', 'b', 'c']);
    expect(registry.requests).toHaveLength(2);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'warning', code: 'pagination_loop' }));
  });

  test('a page with no new tags stops the walk', async () => {
    let served = 0;
    await using registry = await startServer((_request, response) => {
      served++;
      json(response, 200, { tags: ['same'] }, { link: `</v2/a/b/tags/list?page=${served}>; rel="next"` });
    });
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['same']);
    expect(served).toBe(2);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'warning', code: 'pagination_stalled' }));
  });

  test('the page cap stops an endless registry', async () => {
    let served = 0;
    await using registry = await startServer((_request, response) => {
      served++;
      json(response, 200, { tags: [`t${served}`] }, { link: `</v2/a/b/tags/list?page=${served}>; rel="next"` });
    });
    await using t = testClient({ maxPages: 5 });
    expect(await t.client.listTags(`${registry.host}/a/b`)).toHaveLength(5);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'warning', code: 'page_cap' }));
  });

  test('"tags": null and a registry that ignores n and sends no Link', async () => {
    await using registry = await startServer((request, response) => {
      json(response, 200, request.url.includes('/empty/') ? { name: 'empty', tags: null } : { tags });
    });
    await using t = testClient({ pageSize: 5 });
    expect(await t.client.listTags(`${registry.host}/x/empty`)).toEqual([]);
    expect(await t.client.listTags(`${registry.host}/x/full`)).toEqual(tags);
  });

  test('ECR-style 400 for a large n: retried with the quoted cap, remembered for the registry', async () => {
    await using registry = await startServer((request, response) => {
      const n = Number(new URL(request.url, 'http://x').searchParams.get('n'));
      if (n > 7) {
        json(response, 400, { errors: [{ code: 'UNSUPPORTED', message: "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 7'" }] }); return;
      }
      pagedTags(tags)(request, response);
    });
    await using t = testClient({ pageSize: 100 });
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(tags);
    expect(await t.client.listTags(`${registry.host}/a/c`)).toEqual(tags);
    const firsts = registry.requests.filter((r) => !r.url.includes('last=')).map((r) => r.url);
    expect(firsts).toEqual(['/v2/a/b/tags/list?n=100', '/v2/a/b/tags/list?n=7', '/v2/a/c/tags/list?n=7']);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'warning', code: 'page_size_capped' }));
  });

  test('a 400 without a quoted cap falls back to 1000, then 100', async () => {
    await using registry = await startServer((request, response) => {
      const n = Number(new URL(request.url, 'http://x').searchParams.get('n'));
      if (n > 100) { json(response, 400, { errors: [{ code: 'PAGINATION_NUMBER_INVALID', message: 'invalid number of results requested' }] }); return; }
      json(response, 200, { tags: ['x'] });
    });
    await using t = testClient({ pageSize: 5000 });
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['x']);
    expect(registry.requests.map((r) => r.url)).toEqual(['/v2/a/b/tags/list?n=5000', '/v2/a/b/tags/list?n=1000', '/v2/a/b/tags/list?n=100']);
  });

  test('NAME_UNKNOWN from the body becomes the error code', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
    });
    await using t = testClient();
    await expect(t.client.listTags(`${registry.host}/a/b`)).rejects.toMatchObject({
      code: 'NAME_UNKNOWN',
      status: 404,
      repository: 'a/b',
      message: expect.stringContaining('repository name not known') as unknown,
    });
  });

  test('a body that is not a tag list is invalid_response', async () => {
    await using registry = await startServer((_request, response) => {
      json(response, 200, { tags: 'nope' });
    });
    await using t = testClient();
    await expect(t.client.listTags(`${registry.host}/a/b`)).rejects.toMatchObject({ code: 'invalid_response' });
  });
});

// break-scan F11: names a registry sends that are not tags (the distribution grammar [\w][\w.-]{0,127}) never
// reach a caller: a newline made a phantom tag line in `scanner tags`, escapes reached the terminal.
describe('tag names that are not valid tags', () => {
  const hostile = ['1.0.0', '0.1\n9.9.9', '\u001b[31mred\u001b]0;pwned\u0007', 'bad tag', '../x', 'ü1.0', '9.9.9:x', 'a'.repeat(129), 7, null, { tag: 'x' }, '.hidden', '-rc', 'a'.repeat(128), '2.0_beta-1.x'];

  test('are dropped from every page with one warning for the listing that says how many, never the names', async () => {
    await using registry = await startServer((request, response) => {
      const url = new URL(request.url, 'http://x');
      if (url.searchParams.get('last') === null) json(response, 200, { name: 'a/b', tags: hostile.slice(0, 8) }, { link: '</v2/a/b/tags/list?n=1000&last=x>; rel="next"' });
      else json(response, 200, { name: 'a/b', tags: hostile.slice(8) });
    });
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/a/b`)).toEqual(['1.0.0', 'a'.repeat(128), '2.0_beta-1.x']);
    const warnings = t.events.filter((event) => event.type === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'invalid_tags_dropped', repository: 'a/b' });
    expect(warnings[0]!.message).toContain('12 names');
    for (const leaked of ['pwned', '9.9.9', '\n', '\u001b', 'bad tag']) expect(warnings[0]!.message).not.toContain(leaked);
  });
});

// break-scan F10: 20 empty pages in a row ended the listing with exit 0 and the later tags lost.
describe('long runs of empty pages', () => {
  test('25 empty pages, each linking the next, then a tag: the tag is listed', async () => {
    await using registry = await startServer((request, response) => {
      const page = Number(new URL(request.url, 'http://x').searchParams.get('page') ?? '1');
      json(response, 200, { tags: page === 27 ? ['1.0.0'] : [] }, page < 27 ? { link: `</v2/late/app/tags/list?page=${page + 1}>; rel="next"` } : {});
    });
    await using t = testClient();
    expect(await t.client.listTags(`${registry.host}/late/app`)).toEqual(['1.0.0']);
  });

  test('a run of empty pages that never ends fails instead of succeeding with a list that may miss tags', async () => {
    let served = 0;
    await using registry = await startServer((_request, response) => {
      served++;
      json(response, 200, { tags: served === 1 ? ['0.1.0'] : [] }, { link: `</v2/late/app/tags/list?page=${served + 1}>; rel="next"` });
    });
    await using t = testClient();
    const error = await t.client.listTags(`${registry.host}/late/app`).then(() => undefined, (caught: unknown) => caught as { code?: string; message: string });
    expect(error?.code).toBe('invalid_response');
    expect(error?.message).toContain('empty');
    expect(served).toBe(101);
  });
});
