import { Readable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { DESKTOP, PHONE, expectAccessible, expectFitsPhone, launch, login, watchedPage, type WatchedPage } from './web-browser.js';

/**
 * Conflicts in the web page, clicked through in Chromium: a root's conflict policy set in the
 * administration, and the conflict dialog worded by kind (a delete has no "other version").
 */
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
const text = async (p: string) => (await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', p)).stream)).toString();
const exists = (p: string) => t.gw.core.vfs.stat(t.alice.session, 'docs', p).then(() => true, () => false);
const row = (p: string) => `tr[data-path="${p}"]`;
const policy = (p: 'keep-both' | 'newest-wins' | 'server-wins') => t.gw.core.connect(t.alice.session).setConflictPolicy('docs', p);

for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
  describe(`conflicts at ${label} size`, () => {
    let w: WatchedPage;
    const check = async (what: string) => {
      await w.shot(what.replace(/\W+/g, '-'));
      await expectAccessible(w.page, what);
      if (viewport === PHONE) await expectFitsPhone(w.page, what);
    };
    const openDialog = async (p: string) => {
      await w.page.reload();
      await w.page.click(`${row(p)} button.conflict`);
      await w.page.waitForSelector('dialog[open] .conflict-text');
      return (await w.page.textContent('dialog[open] .conflict-text')) ?? '';
    };
    const choose = async (resolution: string) => {
      await w.page.click(`dialog[open] button[data-resolution="${resolution}"]`);
      await w.page.waitForSelector('dialog[open]', { state: 'detached' });
    };

    it('a delete that met an edit: says nothing was deleted, offers keep or delete, never "the other version"', async () => {
      const p = `de-${label}.txt`;
      await policy('keep-both');
      await write(p, 'one');
      await write(p, 'edited', 1);
      await t.gw.core.vfs.delete(t.alice.session, 'docs', p, { baseVersion: 1, onConflict: 'record' }).catch(() => {});
      w = await watchedPage(browser, `conflicts-${label}`, viewport);
      await login(w.page, `${t.url}/app/files/docs`, 'alice', 'alice-password');
      const said = await openDialog(p);
      expect(said).toContain('nothing was deleted');
      expect(await w.page.textContent('dialog[open]')).not.toMatch(/other (one|version)|conflict copy/i);
      expect(await w.page.$$eval('dialog[open] button[data-resolution]', (b) => b.map((x) => x.textContent))).toEqual(['Keep the file', 'Delete it']);
      await check('conflict-delete-edit');
      await choose('keep-incoming');
      expect(await exists(p)).toBe(false);
      w.clean();
    });

    it('an edit that met a delete: the edit brought it back; keep it or delete it', async () => {
      const p = `ed-${label}.txt`;
      await write(p, 'one');
      await t.gw.core.vfs.delete(t.alice.session, 'docs', p);
      await write(p, 'edited', 1);
      const said = await openDialog(p);
      expect(said).toContain('The edit brought it back');
      expect(await w.page.textContent('dialog[open]')).not.toMatch(/other (one|version)|conflict copy/i);
      await choose('keep-incoming');
      expect(await text(p)).toBe('edited');
      w.clean();
    });

    it('server-wins: the edit is held, not a file; "Use the held edit" puts it in place', async () => {
      const p = `sw-${label}.txt`;
      await policy('server-wins');
      await write(p, 'one');
      await write(p, 'theirs', 1);
      await write(p, 'mine', 1);
      const said = await openDialog(p);
      expect(said).toContain('server wins');
      expect(said).toContain('kept with this conflict');
      await check('conflict-held');
      await choose('keep-incoming');
      expect(await text(p)).toBe('mine');
      await policy('keep-both');
      w.clean();
    });

    it('administration: the root\'s conflict policy is chosen, shown and stored (an admin, for alice\'s root)', async () => {
      w = await watchedPage(browser, `conflict-policy-${label}`, viewport);
      const { page } = w;
      await login(page, `${t.url}/app/admin`, 'admin', 'admin-password');
      await page.waitForSelector('li[data-root="docs"]:has-text("conflicts: keep both")');
      await page.click('button[aria-label="Conflicts in docs"]');
      await page.selectOption('dialog[open] select[name=conflictPolicy]', 'newest-wins');
      await check('conflict-policy');
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector('li[data-root="docs"]:has-text("conflicts: newest wins")');
      expect((await t.gw.core.connect(t.alice.session).root('docs')).conflictPolicy).toBe('newest-wins');
      await policy('keep-both');
      w.clean();
    });
  });
}
