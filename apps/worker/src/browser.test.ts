import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { StatusDocument } from './status.ts';
import { eventually, logSink, seedSource, startMirrorLab, startTestWorker } from './worker.fixture.ts';

const CHROMIUM = '/usr/bin/chromium';

/** The part of a DOM element the style check uses (the project compiles without the DOM library). */
interface StyledElement {
  readonly ownerDocument: { readonly defaultView: { getComputedStyle(element: StyledElement): { readonly backgroundColor: string } } | null };
}
// Under CI a missing browser is a failure (setup.sh installs it); elsewhere the test says why it did not run.
const browserMissing = !existsSync(CHROMIUM) && process.env['CI'] !== 'true';
const browserTest = browserMissing ? it.skip : it;
const whyNot = browserMissing ? ` (skipped: ${CHROMIUM} is not installed; npm run setup installs it)` : '';

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // No sandbox as root; no background traffic (the machine's network is closed, tests reach loopback only).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

describe(`the status page in a real browser (Debian chromium, playwright-core)${whyNot}`, () => {
  browserTest('shows a failing team as failing and markup in names as text', async () => {
    await using lab = await startMirrorLab();
    await seedSource(lab, 'library/nginx', ['1.27']);
    await lab.write('team-web.yaml', `owner: team-web\nimages:\n  - source: ${lab.source.host}/library/nginx\n    tags:\n      - names: ['1.27']\n`);
    // Nothing at this source: planning it fails.
    await lab.write('team-broken.yaml', `owner: team-broken\nimages:\n  - source: ${lab.source.host}/gone/away\n    tags:\n      - names: ['1.0']\n`);
    // Markup in an owner, and in an image name (which makes its file invalid: the message quotes the name).
    await lab.write('team-markup.yaml', `owner: "team-<i>markup</i>"\nimages:\n  - source: ${lab.source.host}/library/nginx\n    rename: markup/nginx\n    tags:\n      - names: ['1.27']\n`);
    await lab.write('team-bad-name.yaml', `owner: team-bad-name\nimages:\n  - source: "${lab.source.host}/<script>alert(1)</script>"\n    tags:\n      - names: ['1.0']\n`);
    // A long name without a place to break (and the error that quotes it): the page must still fit 1280 px.
    await lab.write('team-long.yaml', `owner: team-long\nimages:\n  - source: ${lab.source.host}/gone/${'averylongname'.repeat(16)}\n    tags:\n      - names: ['1.0']\n`);
    await using worker = await startTestWorker(lab, logSink());
    await eventually(async () => {
      const doc = (await (await fetch(`${worker.url}/api/status`)).json()) as StatusDocument;
      const state = (owner: string) => doc.teams.find((team) => team.owner === owner)?.state;
      return state('team-web') === 'up_to_date' && state('team-broken') === 'failing' && state('team-long') === 'failing';
    }, 30_000, 'one team up to date and one failing');

    const browser = await launch();
    try {
      const page = await browser.newPage();
      const dialogs: string[] = [];
      const cspViolations: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      await page.setViewportSize({ width: 1280, height: 800 });
      const response = await page.goto(worker.url);
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('Registry mirror status');

      const broken = page.locator('section[data-team="team-broken"]');
      await expect.poll(() => broken.locator('h2').innerText()).toContain('failing');
      expect(await broken.locator('tbody tr').first().innerText()).toMatch(/gone\/away[\s\S]*failing[\s\S]*since/);
      expect(await page.locator('section[data-team="team-web"] h2').innerText()).toContain('up to date');
      // The badge is styled: the inline stylesheet passed the CSP by its hash.
      const background = await broken.locator('h2 .state-failing').evaluate((element: StyledElement) => element.ownerDocument.defaultView?.getComputedStyle(element).backgroundColor);
      expect(background).toBe('rgb(255, 235, 233)');

      // Markup is text: shown literally, never parsed into elements or run.
      const body = await page.locator('body').innerText();
      expect(body).toContain('team-<i>markup</i>');
      expect(body).toContain('<script>alert(1)</script>');
      expect(await page.locator('script').count()).toBe(0);
      expect(await page.locator('i').count()).toBe(0);
      await expect.poll(() => page.locator('section[data-team="team-long"] h2').innerText()).toContain('failing');
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
      expect(dialogs).toEqual([]);
      expect(cspViolations).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
