import { authorizedSend, repositoryScope } from './auth.ts';
import { readBody, retryBrokenBody } from './body.ts';
import { RegistryError } from './errors.ts';
import { nextLink } from './link-header.ts';
import { errorFromResponse, readOciError } from './response-error.ts';
import { v2Url } from './session.ts';
import type { Session } from './session.ts';
import { displayUrl } from './transport.ts';
import { lazySchema } from './lazy-schema.ts';

/** One page of `tags/list`. */
export interface TagPage {
  /** Tags of this page not seen on an earlier page, in the registry's order. */
  readonly tags: readonly string[];
  /** 1-based page number. */
  readonly page: number;
  /** The URL this page came from. */
  readonly url: string;
}

/**
 * Empty pages in a row followed before the walk is taken to be stalled; it then fails (`invalid_response`)
 * rather than return a list that may miss later tags. Registries that filter per page send a few, not this many.
 */
export const MAX_EMPTY_PAGES = 100;

/** Options of `pageTags`/`listTags`. */
export interface TagListOptions {
  /** Page size sent as `n`. @default settings.pageSize, else the client's pageSize (1000) */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

const tagList = lazySchema((z) => z.object({ name: z.string().optional(), tags: z.array(z.string()).nullable().optional() }).loose());

/**
 * The page size to retry with after a registry refused `n` (ECR answers 400 for n > 1000): the limit quoted
 * in its message when there is one, else 1000, else 100; undefined when there is nothing smaller to try.
 */
export function smallerPageSize(current: number, message: string | undefined): number | undefined {
  const quoted = /(?:less than or equal to|<=|at most|maximum(?: of| is)?|max(?:imum)?(?: of| is)?|up to)\s*:?\s*(\d+)/i.exec(message ?? '');
  const cap = quoted === null ? undefined : Number(quoted[1]);
  if (cap !== undefined && cap >= 1 && cap < current) return cap;
  if (current > 1000) return 1000;
  if (current > 100) return 100;
  return undefined;
}

/**
 * Pages through `tags/list`: sends `n`, follows `Link: <…>; rel="next"` as given (relative or absolute) on
 * the same origin only (`cross_origin` otherwise). An empty page that links a next page is followed (registries
 * that filter tags per page send them); a page whose tags were all seen before stops the walk, as do a URL
 * already visited (a registry bug) and `maxPages`, each with a warning event; {@link MAX_EMPTY_PAGES} empty pages
 * in a row fail the listing. A 400 for the first page's `n` is retried
 * with a smaller `n`, which is remembered for the registry. Names that are not valid tags are left out, with one
 * `invalid_tags_dropped` warning for the listing that counts them.
 */
export async function* pageTags(session: Session, repository: string, options: TagListOptions = {}): AsyncGenerator<TagPage, void, undefined> {
  const dropped = { count: 0 };
  try {
    yield* walkTagPages(session, repository, options, dropped);
  } finally {
    if (dropped.count > 0) {
      session.runtime.emit({
        type: 'warning',
        code: 'invalid_tags_dropped',
        // The names themselves stay out: they may hold newlines or terminal escapes.
        message: `dropped ${dropped.count} names from the tag list of ${repository} that are not valid tags (a tag matches [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`,
        registry: session.context.registry,
        repository,
      });
    }
  }
}

/**
 * The grammar of a tag in the OCI distribution spec (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`, as distribution's
 * reference package): ASCII only, so no control character, space, `/`, `:` or `..` path ever passes.
 */
const TAG_GRAMMAR = /^\w[\w.-]{0,127}$/;

/** `body` with the entries of its `tags` array that are not valid tags (or not strings) left out, counted in `dropped`. */
function keepValidTags(body: unknown, dropped: { count: number }): unknown {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { tags?: unknown }).tags)) return body;
  const all = (body as { tags: unknown[] }).tags;
  const valid = all.filter((tag) => typeof tag === 'string' && TAG_GRAMMAR.test(tag));
  dropped.count += all.length - valid.length;
  return { ...body, tags: valid };
}

async function* walkTagPages(session: Session, repository: string, options: TagListOptions, dropped: { count: number }): AsyncGenerator<TagPage, void, undefined> {
  const { context, runtime, limits } = session;
  const warn = (code: 'pagination_loop' | 'pagination_stalled' | 'page_cap' | 'page_size_capped', message: string): void => {
    runtime.emit({ type: 'warning', code, message, registry: context.registry, repository });
  };
  let pageSize = options.pageSize ?? context.settings.pageSize ?? limits.pageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RegistryError('config', `pageSize must be a positive integer, got ${pageSize}`, { registry: context.registry, repository });
  }
  if (context.pageSizeCap !== undefined) pageSize = Math.min(pageSize, context.pageSizeCap);
  let url = v2Url(session, repository, 'tags/list');
  url.searchParams.set('n', String(pageSize));
  const visited = new Set<string>();
  const seen = new Set<string>();
  let page = 1;
  let emptyInARow = 0;
  for (;;) {
    if (page > limits.maxPages) {
      warn('page_cap', `stopped listing tags of ${repository} after ${limits.maxPages} pages; the list may be incomplete (raise maxPages)`);
      return;
    }
    visited.add(url.href);
    const request = { method: 'GET' as const, url, kind: 'tags' as const, repository, retry: true, signal: options.signal, scopes: [repositoryScope(repository, 'pull')] };
    const response = await authorizedSend(context, runtime, request);
    if (response.status === 400 && page === 1 && url.searchParams.has('n')) {
      const oci = await readOciError(response, 'GET');
      const smaller = smallerPageSize(pageSize, oci?.message);
      if (smaller === undefined) {
        throw new RegistryError(oci?.code === 'UNSUPPORTED' ? 'UNSUPPORTED' : 'unexpected_status', `listing tags of ${repository} failed: GET ${displayUrl(url)} returned HTTP 400 (${oci?.message ?? 'no message'}) even with n=${pageSize}`, {
          status: 400,
          registry: context.registry,
          repository,
        });
      }
      warn('page_size_capped', `${context.registry} refused n=${pageSize}; using n=${smaller} from now on`);
      context.pageSizeCap = smaller;
      pageSize = smaller;
      url = new URL(url.href);
      url.searchParams.set('n', String(smaller));
      visited.clear();
      continue;
    }
    if (response.status < 200 || response.status >= 300) {
      throw await errorFromResponse(context, runtime, request, response, `listing tags of ${context.registry}/${repository}`);
    }
    let first = true;
    // The Link that goes with the body we parse: a retry's, not the broken first response's.
    let answered = response;
    const bytes = await retryBrokenBody(context, runtime, request, async () => {
      // The first try reuses the response in hand; a retry asks again.
      const answer = first ? response : await authorizedSend(context, runtime, request);
      first = false;
      answered = answer;
      if (answer.status < 200 || answer.status >= 300) throw await errorFromResponse(context, runtime, request, answer, `listing tags of ${context.registry}/${repository}`);
      return readBody(context, runtime, request, answer, limits.maxTagPageBytes, `the tag list page ${page} of ${repository}`);
    });
    const schema = await tagList();
    let tags: string[];
    try {
      tags = schema.parse(keepValidTags(JSON.parse(bytes.toString('utf8')), dropped)).tags ?? [];
    } catch (error) {
      throw new RegistryError('invalid_response', `the tag list of ${repository} from ${displayUrl(url)} is not a {"tags": [...]} JSON object`, {
        status: response.status,
        registry: context.registry,
        repository,
        cause: error,
      });
    }
    const fresh = tags.filter((tag) => !seen.has(tag));
    for (const tag of fresh) seen.add(tag);
    yield { tags: fresh, page, url: displayUrl(url) };
    const link = nextLink(answered.headers['link']);
    if (link === undefined) return;
    emptyInARow = tags.length === 0 ? emptyInARow + 1 : 0;
    if (tags.length > 0 && fresh.length === 0) {
      warn('pagination_stalled', `page ${page} of ${repository}'s tags repeated earlier tags only but linked to another page; stopped there`);
      return;
    }
    if (emptyInARow >= MAX_EMPTY_PAGES) {
      throw new RegistryError('invalid_response', `${MAX_EMPTY_PAGES} pages of ${repository}'s tags in a row from ${context.registry} were empty but linked to another page; stopped, since the list so far may miss later tags`, {
        registry: context.registry,
        repository,
      });
    }
    let next: URL;
    try {
      next = new URL(link, url);
    } catch (error) {
      throw new RegistryError('invalid_response', `the next-page link ${JSON.stringify(link)} from ${displayUrl(url)} is not a URL`, {
        registry: context.registry,
        repository,
        cause: error,
      });
    }
    // A registry host that redirects to another origin: a link to the origin that served the page (after the
    // redirect) is the same listing. It is asked for through the registry's own origin again, which redirects
    // there and answers that origin's challenge as it did for this page, so no credential changes hands.
    if (next.origin !== url.origin && next.origin === answered.url.origin) next = new URL(`${next.pathname}${next.search}`, url);
    if (next.origin !== url.origin) {
      throw new RegistryError('cross_origin', `the tag list of ${repository} linked to another origin (${next.origin}); refusing to follow it with this registry's credentials`, {
        registry: context.registry,
        repository,
      });
    }
    if (visited.has(next.href)) {
      warn('pagination_loop', `${context.registry} linked back to ${displayUrl(next)}, already visited; stopped with the tags so far`);
      return;
    }
    url = next;
    page++;
  }
}

/** All tags of a repository, every page, in the registry's order without duplicates. */
export async function listTags(session: Session, repository: string, options: TagListOptions = {}): Promise<string[]> {
  const all: string[] = [];
  for await (const page of pageTags(session, repository, options)) all.push(...page.tags);
  return all;
}
