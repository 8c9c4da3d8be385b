import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { DESKTOP, PHONE, expectAccessible, expectFitsPhone, launch, login, watchedPage, type WatchedPage } from './web-browser.js';

/** History, conflicts, share links, devices and tokens, administration: clicked through in Chromium. */
let t: TestGateway;
let browser: Browser;

beforeAll(async () => {
  t = await startTestGateway();
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const write = (p: string, content: string, baseVersion?: number) =>
  t.gw.core.vfs.write(t.alice.session, 'docs', p, Readable.from([Buffer.from(content)]), { createParents: true, ...(baseVersion !== undefined ? { baseVersion, onConflict: 'copy' as const } : {}) });
const row = (p: string) => `tr[data-path="${p}"]`;

async function place(page: Page, phone: boolean, link: string) {
  if (phone) await page.click('button.menu-toggle');
  await page.click(`#side a:has-text("${link}")`);
}

for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
  describe(`managing at ${label} size`, () => {
    const phone = viewport === PHONE;
    let w: WatchedPage;
    const check = async (what: string) => {
      await w.shot(what.replace(/\W+/g, '-'));
      await expectAccessible(w.page, what);
      if (phone) await expectFitsPhone(w.page, what);
    };

    it('shows a file’s history (who, when, door, size), downloads an old version and restores it', async () => {
      await write(`h-${label}.txt`, 'version one');
      await write(`h-${label}.txt`, 'version two, longer');
      w = await watchedPage(browser, `manage-${label}`, viewport);
      await w.context.grantPermissions(['clipboard-read', 'clipboard-write']);
      const { page } = w;
      await login(page, `${t.url}/app/files/docs`, 'alice', 'alice-password');
      await page.check(`${row(`h-${label}.txt`)} input[type=checkbox]`);
      await page.click('.selection button:has-text("History")');
      await page.waitForSelector('dialog[open] tr[data-version="1"]');
      expect(await page.textContent('dialog[open] tr[data-version="2"]')).toContain('(current)');
      expect(await page.textContent('dialog[open] tr[data-version="1"]')).toContain('alice');
      await check('history');
      const [old] = await Promise.all([page.waitForEvent('download'), page.click('dialog[open] a[aria-label="Download version 1"]')]);
      expect((await readFile((await old.path())!)).toString()).toBe('version one');
      await page.click('dialog[open] button[aria-label="Restore version 1"]');
      await page.waitForSelector('dialog[open] tr[data-version="3"]');
      expect((await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', `h-${label}.txt`)).stream)).toString()).toBe('version one');
      await page.click('dialog[open] button[aria-label="Close"]');
      await page.waitForSelector('dialog[open]', { state: 'detached' });
      w.clean();
    });

    it('marks a conflict in the listing and resolves it side by side', async () => {
      const { page } = w;
      const first = await write(`c-${label}.txt`, 'line one\nline two\n');
      await write(`c-${label}.txt`, 'line one\nline two edited here\n', first.entry.version);
      const clash = await write(`c-${label}.txt`, 'line one\nline two edited elsewhere\n', first.entry.version);
      expect(clash.conflict).toBeTruthy();
      await page.waitForSelector(`${row(`c-${label}.txt`)} button.conflict`);
      await page.click(`${row(`c-${label}.txt`)} button.conflict`);
      await page.waitForSelector('dialog[open] .diff .changed');
      // A line diff: only the line each side changed is marked.
      expect(await page.$$eval('dialog[open] .diff-side', (sides) => sides.map((d) => [...d.querySelectorAll('.changed')].map((l) => l.textContent)))).toEqual([
        ['± line two edited here'],
        ['± line two edited elsewhere'],
      ]);
      await check('conflict');
      await page.click('dialog[open] button:has-text("Keep both")');
      await page.waitForSelector('dialog[open]', { state: 'detached' });
      await page.waitForSelector(`${row(`c-${label}.txt`)} button.conflict`, { state: 'detached' });
      const open = await t.gw.core.vfs.conflicts(t.alice.session, 'docs');
      expect(open.filter((c) => c.path === `c-${label}.txt`)).toEqual([]);
      w.clean();
    });

    it('creates a share link with expiry, password and limit, copies it, lists it with its access log, and revokes it', async () => {
      const { page } = w;
      await t.gw.core.vfs.mkdir(t.alice.session, 'docs', `sh-${label}`);
      await page.waitForSelector(row(`sh-${label}`));
      await page.check(`${row(`sh-${label}`)} input[type=checkbox]`);
      await page.click('.selection button:has-text("Share")');
      const tomorrow = new Date(Date.now() + 3 * 86400_000).toISOString().slice(0, 10);
      await page.fill('dialog[open] input[name=expires]', tomorrow);
      await page.fill('dialog[open] input[name=password]', 'link secret');
      await page.fill('dialog[open] input[name=limit]', '3');
      await page.click('dialog[open] button:has-text("Create link")');
      await page.waitForSelector('#share-url');
      const url = await page.inputValue('#share-url');
      expect(url).toMatch(/\/s\/[A-Za-z0-9_-]+$/);
      await page.click('dialog[open] button:has-text("Copy link")');
      await page.waitForSelector('dialog[open] >> text=Copied.');
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
      expect(await page.textContent('dialog[open] .links')).toContain('password');
      await check('share-dialog');
      await page.click('dialog[open] button[aria-label="Close"]');
      // A visitor opens it (with the password): the access log shows it.
      expect((await fetch(`${url}/meta`, { headers: { 'x-share-password': 'link secret' } })).status).toBe(200);
      await place(page, phone, 'Share links');
      await page.waitForSelector(`li[data-share]:has-text("sh-${label}")`);
      await page.click(`button[aria-label="Access log of sh-${label}"]`);
      await page.waitForSelector('section.log td:has-text("view")');
      await check('share-links');
      await page.click(`button[aria-label="Revoke link to sh-${label}"]`);
      await page.waitForSelector(`li[data-share]:has-text("sh-${label}") >> text=revoked`);
      expect((await fetch(`${url}/meta`, { headers: { 'x-share-password': 'link secret' } })).status).toBe(404);
      w.clean();
    });

    it('lists devices with how far behind they are, makes a pairing code, creates and revokes API tokens', async () => {
      const { page } = w;
      const alice = t.gw.core.accounts.user('alice');
      const device = t.gw.core.accounts.registerDevice({ id: alice.id, name: 'alice', isAdmin: false }, `0123456789abcdef${label === 'phone' ? '1' : '2'}000`, `laptop-${label}`, '127.0.0.1');
      // The device applied the feed up to seq 1 of docs: it is behind by everything since.
      await t.gw.core.devices.setCursor(t.gw.core.accounts.deviceSession(device.token, 'sync', 'test', null), 'docs', 1);
      const behind = (await t.gw.core.roots.open(t.alice.session, 'docs', 'read')).row.id;
      const seq = t.gw.core.ctx.files.lastSeq(behind);
      await place(page, phone, 'Devices and tokens');
      await page.waitForSelector(`li[data-device]:has-text("laptop-${label}")`);
      expect(await page.textContent(`li[data-device]:has-text("laptop-${label}") .behind`)).toBe(`docs: ${seq - 1} changes behind`);
      await page.click('button:has-text("New pairing code")');
      await page.waitForSelector('#pairing-code');
      expect(await page.textContent('#pairing-code')).toMatch(/^[A-Z0-9]{5}-/);
      await page.click('button:has-text("New token")');
      await page.fill('dialog[open] input[name=name]', `backup-${label}`);
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector('#new-token');
      const token = await page.inputValue('#new-token');
      expect(token.length).toBeGreaterThan(20);
      expect((await fetch(`${t.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      await check('account');
      await page.click(`button[aria-label="Revoke token backup-${label}"]`);
      await page.waitForSelector(`li[data-token]:has-text("backup-${label}")`, { state: 'detached' });
      expect((await fetch(`${t.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      await page.click(`button[aria-label="Revoke device laptop-${label}"]`);
      await page.waitForSelector(`li[data-device]:has-text("laptop-${label}") >> text=revoked`);
      w.clean();
      await w.close();
    });

    it('administration: creates, disables and resets users; creates a root, shares it for writing, sets its retention; shares another user\'s root it cannot read', async () => {
      w = await watchedPage(browser, `admin-${label}`, viewport);
      const { page } = w;
      await login(page, `${t.url}/app/admin`, 'admin', 'admin-password');
      await page.waitForSelector('h1:has-text("Administration")');
      const user = `carol-${label}`;
      await page.click('button:has-text("New user")');
      await page.fill('dialog[open] input[name=name]', user);
      await page.fill('dialog[open] input[name=password]', 'carol-password');
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector(`li[data-user="${user}"]`);
      await page.click(`button[aria-label="Disable ${user}"]`);
      await page.waitForSelector(`li[data-user="${user}"] >> text=disabled`);
      await page.click(`button[aria-label="Enable ${user}"]`);
      await page.waitForSelector(`li[data-user="${user}"] button[aria-label="Disable ${user}"]`);
      await page.click(`button[aria-label="Reset password of ${user}"]`);
      await page.fill('dialog[open] input[name=password]', 'carol-new-password');
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector('dialog[open]', { state: 'detached' });
      expect((await t.gw.core.accounts.authenticate(user, 'carol-new-password', { address: '127.0.0.1', protocol: 'rest' })).name).toBe(user);

      const root = `team-${label}`;
      await page.click('button:has-text("New root")');
      await page.fill('dialog[open] input[name=name]', root);
      await page.fill('dialog[open] input[name=dir]', path.join(t.dir, 'roots', root));
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector(`li[data-root="${root}"]`);
      await page.click(`button[aria-label="Share root ${root}"]`);
      await page.fill('dialog[open] input[name=user]', user);
      await page.selectOption('dialog[open] select[name=mode]', 'write');
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector(`dialog[open] li[data-grant="${user}"]:has-text("write")`);
      await check('admin-share-root');
      await page.click('dialog[open] button:has-text("Cancel")');
      await page.click(`button[aria-label="Retention of ${root}"]`);
      await page.selectOption('dialog[open] select[name=mode]', 'count');
      await page.fill('dialog[open] input[name=n]', '5');
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector(`li[data-root="${root}"] >> text=last 5 versions`);
      await page.waitForSelector(`li[data-root="${root}"]:has-text("${user} (write)")`);
      // Alice's root: listed for the admin with its owner, shared by the admin, its files still closed to the admin.
      await page.waitForSelector('li[data-root="docs"]:has-text("owner alice"):has-text("files not open to you")');
      await page.click('button[aria-label="Share root docs"]');
      await page.fill('dialog[open] input[name=user]', user);
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector(`dialog[open] li[data-grant="${user}"]:has-text("read")`);
      await page.click('dialog[open] button:has-text("Cancel")');
      await page.waitForSelector(`li[data-root="docs"]:has-text("${user} (read)")`);
      await check('admin');
      // Both roots show up for the new user: the new one shared for writing, alice's for reading.
      const carol = await watchedPage(browser, `admin-${label}-carol`, viewport);
      await login(carol.page, `${t.url}/`, user, 'carol-new-password');
      await carol.page.waitForSelector(`#side a[data-root="${root}"]`, { state: 'attached' });
      await carol.page.waitForSelector('#side a[data-root="docs"]', { state: 'attached' });
      carol.clean();
      await carol.close();
      w.clean();
      await w.close();
    });
  });
}
