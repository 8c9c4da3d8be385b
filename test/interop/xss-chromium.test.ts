/**
 * Issue 22 item 1 in a real browser: the chain an attacker tried (an anonymous drop-link upload of
 * an HTML page, opened by the owner under /dav/ with Basic credentials) runs no script of the page.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoreError } from '../../src/core/index.js';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
/** What the attacker's page does when it runs: marks the page and writes into the owner's root. */
const PAGE = `<!doctype html><title>quiet</title><body>invoice<script>
document.title = 'ran';
fetch('/dav/docs/pwned.txt', { method: 'PUT', body: 'pwned' });
</script>`;

let t: TestGateway;
let browser: Browser;
let dropUrl: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs the Debian package chromium`);
  t = await startTestGateway();
  await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'drop');
  const res = await fetch(`${t.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', path: 'drop', uploadOnly: true }),
  });
  dropUrl = ((await res.json()) as { url: string }).url;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const pwned = () => t.gw.core.vfs.stat(t.alice.session, 'docs', 'pwned.txt').then(() => true, (e) => (isCoreError(e, 'NOT_FOUND') ? false : Promise.reject(e)));

async function ownerContext(): Promise<BrowserContext> {
  return browser.newContext({ acceptDownloads: true, httpCredentials: { username: 'alice', password: 'alice-password' } });
}

describe('stored XSS through WebDAV, in Chromium (issue 22 item 1)', () => {
  it('an anonymous upload of invoice.html opened under /dav/ downloads; its script never runs', async () => {
    const up = await fetch(`${dropUrl}/upload/invoice.html`, { method: 'PUT', body: PAGE });
    expect(up.status).toBe(201);
    const context = await ownerContext();
    try {
      const page = await context.newPage();
      const download = page.waitForEvent('download', { timeout: 10_000 });
      await page.goto(`${t.url}/dav/docs/drop/invoice.html`).catch((err: Error) => {
        if (!/Download is starting/.test(err.message)) throw err;
      });
      expect((await download).suggestedFilename()).toBe('invoice.html');
      expect(await page.title()).not.toBe('ran');
    } finally {
      await context.close();
    }
    expect(await pwned()).toBe(false);
  });

  it('even rendered (a browser that ignored the attachment), the sandboxed page runs no script', async () => {
    const context = await ownerContext();
    try {
      const page = await context.newPage();
      // Drop only Content-Disposition, keep every other header the gateway sent: CSP sandbox and
      // nosniff must hold on their own.
      await page.route('**/dav/docs/drop/invoice.html', async (route) => {
        const res = await route.fetch();
        const headers = { ...res.headers() };
        delete headers['content-disposition'];
        await route.fulfill({ response: res, headers });
      });
      const loaded = await page.goto(`${t.url}/dav/docs/drop/invoice.html`);
      expect(loaded?.headers()['content-type']).toMatch(/^text\/html/);
      expect(await page.textContent('body')).toContain('invoice');
      expect(await page.title()).toBe('quiet');
    } finally {
      await context.close();
    }
    expect(await pwned()).toBe(false);
  });

  it('the /dav/ listing page, sandboxed too, still downloads the file a click names', async () => {
    const context = await ownerContext();
    try {
      const page = await context.newPage();
      const refused: string[] = [];
      page.on('console', (m) => {
        if (/disallowed|sandboxed/i.test(m.text())) refused.push(m.text());
      });
      await page.goto(`${t.url}/dav/docs/drop/`);
      const download = page.waitForEvent('download', { timeout: 10_000 });
      await page.click('text=invoice.html');
      expect((await download).suggestedFilename()).toBe('invoice.html');
      expect(refused).toEqual([]);
    } finally {
      await context.close();
    }
    expect(await pwned()).toBe(false);
  });

  it('HTML in a .txt file is shown as text, never as a page', async () => {
    await t.gw.core.vfs.write(t.alice.session, 'docs', 'notes.txt', body(PAGE));
    const context = await ownerContext();
    try {
      const page = await context.newPage();
      await page.goto(`${t.url}/dav/docs/notes.txt`);
      expect(await page.textContent('body')).toContain("document.title = 'ran'");
      expect(await page.title()).not.toBe('ran');
    } finally {
      await context.close();
    }
    expect(await pwned()).toBe(false);
  });
});
