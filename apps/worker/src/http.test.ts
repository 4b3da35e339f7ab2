import { describe, expect, it, vi } from 'vitest';
import { createHttpApp, tokenMatches } from './http.ts';
import type { HttpState } from './http.ts';
import type { StatusDocument } from './status.ts';

const TOKEN = 'a-trigger-token-of-32-characters';

function doc(overrides: Partial<StatusDocument> = {}): StatusDocument {
  return {
    generatedAt: '2026-11-29T20:00:00.000Z',
    ready: true,
    queue: { kind: 'memory', waiting: 0, active: 0 },
    config: { dir: '/config', files: [] },
    teams: [
      {
        owner: 'team-<b>storage</b>',
        state: 'failing',
        files: [{ file: 'team-storage.yaml', kind: 'team', owner: 'team-<b>storage</b>', valid: true, issues: [], invalidSince: null, inForce: true }],
        images: [
          {
            id: 'team-storage.yaml#docker.io/evil/<script>alert(1)</script>',
            source: 'docker.io/evil/<script>alert(1)</script>',
            file: 'team-storage.yaml',
            owner: 'team-<b>storage</b>',
            schedule: null,
            nextRun: '2026-11-29T21:00:00.000Z',
            state: 'failing',
            targets: [
              {
                name: 'main',
                registry: 'mirror.example.io',
                repository: 'mirror.example.io/evil/x',
                state: 'failing',
                upToDate: [],
                missing: [],
                failed: [{ tag: '1.0', code: 'unauthorized', message: 'denied <img src=x onerror=alert(1)>' }],
                lastRun: { startedAt: '2026-11-29T19:59:00.000Z', finishedAt: '2026-11-29T19:59:01.000Z', result: 'failed' },
                lastError: { code: 'unauthorized', message: 'denied <img src=x onerror=alert(1)>' },
                failingSince: '2026-11-29T18:00:00.000Z',
                lastSuccessAt: null,
              },
            ],
          },
        ],
      },
    ],
    ...overrides,
  };
}

function state(overrides: Partial<HttpState> = {}): HttpState {
  return {
    notReadyReasons: () => [],
    status: () => Promise.resolve(doc()),
    metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'scanner_worker_ready 1\n' }),
    trigger: () => Promise.resolve({ matched: 1, queued: 2 }),
    triggerToken: TOKEN,
    reportError: () => undefined,
    ...overrides,
  };
}

describe('the HTTP API', () => {
  it('answers the probes: /healthz always, /readyz with the reasons it is not ready', async () => {
    const reasons: string[] = [];
    const app = createHttpApp(state({ notReadyReasons: () => reasons }));
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    reasons.push('Redis not reachable');
    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ready: false, reasons: ['Redis not reachable'] });
  });

  it('serves metrics with the registry content type and the status as JSON', async () => {
    const app = createHttpApp(state());
    const metrics = await app.request('/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await metrics.text()).toBe('scanner_worker_ready 1\n');
    const status = await app.request('/api/status');
    expect(await status.json()).toEqual(doc());
  });

  it('renders the status page with every value escaped, a strict CSP and no script', async () => {
    const response = await createHttpApp(state()).request('/');
    const page = await response.text();
    expect(response.headers.get('content-type')).toContain('text/html');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'$/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>');
    expect(page).toContain('docker.io/evil/&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('team-&lt;b&gt;storage&lt;/b&gt;');
    expect(page).toContain('failing');
    expect(page).toContain('since 2026-11-29 18:00:00Z');
  });

  it('hashes the inline stylesheet into the CSP so that the browser applies it', async () => {
    const { createHash } = await import('node:crypto');
    const response = await createHttpApp(state()).request('/');
    const page = await response.text();
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(response.headers.get('content-security-policy')).toContain(`'sha256-${hash}'`);
  });

  it('keeps POST /api/sync off without a configured token', async () => {
    const trigger = vi.fn(() => Promise.resolve({ matched: 1, queued: 1 }));
    const app = createHttpApp(state({ triggerToken: undefined, trigger }));
    const response = await app.request('/api/sync', { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(403);
    expect(trigger).not.toHaveBeenCalled();
  });

  it('refuses POST /api/sync without the right bearer token', async () => {
    const trigger = vi.fn(() => Promise.resolve({ matched: 1, queued: 1 }));
    const app = createHttpApp(state({ trigger }));
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const response = await app.request('/api/sync', { method: 'POST', headers: authorization === undefined ? {} : { Authorization: authorization } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect(trigger).not.toHaveBeenCalled();
  });

  it('triggers a run for the whole config, an owner or an image', async () => {
    const trigger = vi.fn(() => Promise.resolve({ matched: 2, queued: 3 }));
    const app = createHttpApp(state({ trigger }));
    const headers = { Authorization: `Bearer ${TOKEN}` };
    expect((await app.request('/api/sync', { method: 'POST', headers })).status).toBe(202);
    expect((await app.request('/api/sync?owner=team-storage', { method: 'POST', headers })).status).toBe(202);
    const response = await app.request('/api/sync?image=docker.io/bitnami/postgresql', { method: 'POST', headers });
    expect(await response.json()).toEqual({ matched: 2, queued: 3 });
    expect(trigger.mock.calls).toEqual([
      [{ owner: undefined, image: undefined }],
      [{ owner: 'team-storage', image: undefined }],
      [{ owner: undefined, image: 'docker.io/bitnami/postgresql' }],
    ]);
  });

  it('refuses unknown, empty or repeated parameters of POST /api/sync with 400, running nothing', async () => {
    const trigger = vi.fn(() => Promise.resolve({ matched: 2, queued: 3 }));
    const app = createHttpApp(state({ trigger }));
    const headers = { Authorization: `Bearer ${TOKEN}` };
    for (const query of ['?onwer=team-db', '?foo=bar', '?owner=', '?image=', '?owner=a&owner=team-db', '?owner=a&image=b&x=1']) {
      const response = await app.request(`/api/sync${query}`, { method: 'POST', headers });
      expect([query, response.status]).toEqual([query, 400]);
      expect(await response.json()).toMatchObject({ error: 'bad_request' });
    }
    expect(trigger).not.toHaveBeenCalled();
    expect((await app.request('/api/sync?owner=a&image=b', { method: 'POST', headers })).status).toBe(202);
  });

  it('says 404 when the filter matches nothing and 503 when the queue is unreachable', async () => {
    const headers = { Authorization: `Bearer ${TOKEN}` };
    const none = createHttpApp(state({ trigger: () => Promise.resolve({ matched: 0, queued: 0 }) }));
    expect((await none.request('/api/sync?owner=nobody', { method: 'POST', headers })).status).toBe(404);
    const down = createHttpApp(state({ trigger: () => Promise.reject(new Error('redis down')) }));
    expect((await down.request('/api/sync', { method: 'POST', headers })).status).toBe(503);
  });

  it('answers 500 without details when a handler throws, and reports the error', async () => {
    const reportError = vi.fn();
    const app = createHttpApp(state({ status: () => Promise.reject(new Error('secret detail')), reportError }));
    const response = await app.request('/api/status');
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('secret detail');
    expect(reportError).toHaveBeenCalledOnce();
  });
});

describe('tokenMatches', () => {
  it('accepts only the exact token, whatever the lengths', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.toUpperCase(), TOKEN)).toBe(false);
    expect(tokenMatches(`${TOKEN}${TOKEN}`, TOKEN)).toBe(false);
  });
});
