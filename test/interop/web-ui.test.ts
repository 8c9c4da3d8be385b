import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { DESKTOP, PHONE, expectAccessible, expectFitsPhone, launch, login, watchedPage } from './web-browser.js';

/** The web page's bug regressions (issue 26), its weight, and the share page, in Chromium. */
let t: TestGateway;
let browser: Browser;
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
/** Everything the page loads before anyone logs in (HTML, CSS, scripts, libraries), uncompressed. */
const PAGE_BUDGET_BYTES = 250 * 1024;

beforeAll(async () => {
  t = await startTestGateway();
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const put = (p: string, content: string) => t.gw.core.vfs.write(t.alice.session, 'docs', p, Readable.from([Buffer.from(content)]), { createParents: true });

async function share(body: Record<string, unknown>): Promise<{ token: string; url: string; share: { id: number } }> {
  const res = await fetch(`${t.url}/api/v1/shares`, { method: 'POST', headers: { authorization: ALICE, 'content-type': 'application/json' }, body: JSON.stringify({ root: 'docs', ...body }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; url: string; share: { id: number } };
}

describe('web page regressions', () => {
  it('stays within its weight budget, logs no console error, asks nothing outside 127.0.0.1, hides what [hidden] hides', async () => {
    const w = await watchedPage(browser, 'ui-weight');
    await w.page.goto(`${t.url}/`);
    await w.page.waitForSelector('#login-form');
    await w.page.waitForLoadState('networkidle');
    const total = [...w.bytes.values()].reduce((a, b) => a + b, 0);
    expect(total, `page weight ${total} bytes`).toBeLessThanOrEqual(PAGE_BUDGET_BYTES);
    expect(await w.page.isVisible('#logout')).toBe(false);
    // The stylesheet must not beat the hidden attribute.
    const shown = await w.page.evaluate(() => {
      const p = document.createElement('button');
      p.hidden = true;
      document.body.append(p);
      return getComputedStyle(p).display;
    });
    expect(shown).toBe('none');
    const icon = await w.page.request.get(`${t.url}/favicon.ico`);
    expect(icon.status()).toBe(200);
    w.clean();
    await w.close();
    console.log(`web page weight before login: ${total} bytes (budget ${PAGE_BUDGET_BYTES})`);
  });

  it('logs in again after the tab was closed while the login cookie lives, in a second tab too', async () => {
    const w = await watchedPage(browser, 'ui-reopen');
    await login(w.page, `${t.url}/`, 'alice', 'alice-password');
    await w.page.waitForSelector('#roots a[data-root="docs"].active');
    await w.page.close();
    // A new tab of the same browser: the cookie is there, the tab's memory is not.
    const again = await w.context.newPage();
    again.on('console', (m) => m.type() === 'error' && w.problems.push(m.text()));
    await again.goto(`${t.url}/`);
    await again.waitForSelector('#logout');
    await again.click('button:has-text("New folder")');
    await again.fill('dialog[open] input[name=value]', 'made after reopening');
    await again.click('dialog[open] button[type=submit]');
    await again.waitForSelector('tr[data-path="made after reopening"]');
    // Log out and in again: no CSRF refusal.
    await again.click('#logout');
    await again.waitForSelector('#login-form');
    await again.fill('#login-user', 'alice');
    await again.fill('#login-password', 'alice-password');
    await again.click('#login-form button[type=submit]');
    await again.waitForSelector('#logout');
    w.clean();
    await w.close();
  });

  it('after a password change elsewhere the page shows its login form, never a Basic-auth challenge', async () => {
    await put('folder/inside.txt', 'x');
    const w = await watchedPage(browser, 'ui-ended');
    const challenges: string[] = [];
    w.page.on('response', (r) => {
      if (r.headers()['www-authenticate']) challenges.push(r.url());
    });
    await login(w.page, `${t.url}/app/files/docs`, 'alice', 'alice-password');
    await w.page.waitForSelector('tr[data-path="folder"]');
    await t.gw.core.accounts.setPassword('alice', 'alice-password'); // ends every login session of alice
    await w.page.click('a.dir:has-text("folder")');
    await w.page.waitForSelector('#login-form');
    expect(await w.page.textContent('.notice')).toContain('session ended');
    await w.shot('session-ended');
    expect(challenges).toEqual([]);
    w.clean(/status of 401/);
    await w.close();
  });

  it('a root that fails to open shows an error, keeps nothing of the old folder, and takes no upload', async () => {
    const photos = path.join(t.dir, 'roots', 'photos');
    await mkdir(photos, { recursive: true });
    const alice = t.gw.core.accounts.user('alice');
    await t.gw.core.roots.create('photos', photos, alice.id);
    await put('sub/old.txt', 'old');
    const w = await watchedPage(browser, 'ui-rootfail', PHONE);
    await login(w.page, `${t.url}/app/files/docs/sub`, 'alice', 'alice-password');
    await w.page.waitForSelector('tr[data-path="sub/old.txt"]');
    await w.page.route('**/api/v1/roots/photos/list', (r) => r.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'INSUFFICIENT_STORAGE', message: 'the disk is unavailable' } }) }));
    await w.page.click('button.menu-toggle');
    await w.page.click('#roots a[data-root="photos"]');
    await w.page.waitForSelector('.state.error');
    expect(await w.page.textContent('.state.error')).toContain('the disk is unavailable');
    expect(await w.page.$$('tbody tr')).toHaveLength(0);
    expect(await w.page.isDisabled('button:has-text("Upload files")')).toBe(true);
    await w.shot('root-failed');
    await expectFitsPhone(w.page, 'error state');
    await w.page.unroute('**/api/v1/roots/photos/list');
    await w.page.click('button:has-text("Try again")');
    await w.page.waitForSelector('.state.empty');
    await w.page.setInputFiles('#pick-files', { name: 'pic.txt', mimeType: 'text/plain', buffer: Buffer.from('a picture') });
    await w.page.waitForSelector('tr[data-path="pic.txt"]');
    const where = await t.gw.core.vfs.stat(t.alice.session, 'photos', 'pic.txt');
    expect(where.kind).toBe('file');
    await expect(t.gw.core.vfs.stat(t.alice.session, 'docs', 'sub/pic.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    w.clean(/status of 503/);
    await w.close();
  });
});

describe('share page', () => {
  for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    it(`counts remaining downloads down and says when a link is used up or revoked (${label})`, async () => {
      await put(`shared-${label}.txt`, 'shared content');
      const link = await share({ path: `shared-${label}.txt`, maxDownloads: 2 });
      const w = await watchedPage(browser, `share-${label}`, viewport);
      const { page } = w;
      await page.goto(link.url);
      await page.waitForSelector('#file:not([hidden])');
      expect(await page.textContent('#file-expiry')).toContain('2 downloads left');
      await w.shot('file');
      await expectAccessible(page, 'share page');
      if (viewport === PHONE) await expectFitsPhone(page, 'share page');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#file-download')]);
      expect((await readFile((await dl.path())!)).toString()).toBe('shared content');
      await page.waitForFunction(() => /1 download left/.test(document.getElementById('file-expiry')!.textContent ?? ''));
      await Promise.all([page.waitForEvent('download'), page.click('#file-download')]);
      await page.waitForFunction(() => /used as often/.test(document.getElementById('status')!.textContent ?? ''));
      await w.shot('used-up');
      const revoked = await share({ path: `shared-${label}.txt` });
      await page.goto(revoked.url);
      await page.waitForSelector('#file:not([hidden])');
      expect((await fetch(`${t.url}/api/v1/shares/${revoked.share.id}`, { method: 'DELETE', headers: { authorization: ALICE } })).status).toBe(204);
      await page.click('#file-download');
      await page.waitForFunction(() => /does not exist, has expired or was revoked/.test(document.getElementById('status')!.textContent ?? ''));
      await w.shot('revoked');
      w.clean(/status of (403|404)/);
      await w.close();
    });
  }

  it('an upload-only link never names what exists, counts uploads, and closes when full', async () => {
    await put('drop/report.txt', 'the owner’s own');
    const link = await share({ path: 'drop', uploadOnly: true, maxDownloads: 2 });
    const w = await watchedPage(browser, 'share-drop', PHONE);
    const { page } = w;
    await page.goto(link.url);
    await page.waitForSelector('#drop:not([hidden])');
    expect(await page.textContent('#drop-limit')).toContain('2 uploads left');
    await page.setInputFiles('#upload-files', { name: 'report.txt', mimeType: 'text/plain', buffer: Buffer.from('from a visitor') });
    await page.click('#upload-form button[type=submit]');
    await page.waitForFunction(() => /sent/.test(document.getElementById('uploaded')!.textContent ?? ''));
    expect(await page.textContent('#uploaded')).toBe('report.txt: sent (14 B)');
    expect(await page.content()).not.toContain('report (1)');
    // The page says "sent" first, then asks the link's state again: the count follows that answer.
    await page.waitForFunction(() => /1 upload left/.test(document.getElementById('drop-limit')!.textContent ?? ''));
    await w.shot('dropped');
    await expectAccessible(page, 'drop page');
    await expectFitsPhone(page, 'drop page');
    await page.setInputFiles('#upload-files', { name: 'second.txt', mimeType: 'text/plain', buffer: Buffer.from('more') });
    await page.click('#upload-form button[type=submit]');
    await page.waitForFunction(() => /no more uploads/.test(document.getElementById('drop-limit')!.textContent ?? ''));
    expect(await page.isVisible('#upload-form')).toBe(false);
    expect(await page.textContent('#uploaded')).toContain('second.txt: sent');
    await w.shot('drop-full');
    expect((await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', 'drop/report (1).txt')).stream)).toString()).toBe('from a visitor');
    w.clean(/status of 403/);
    await w.close();
  });
});
