import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { DESKTOP, PHONE, expectAccessible, expectFitsPhone, launch, login, watchedPage, type WatchedPage } from './web-browser.js';

/** The file manager clicked through in Chromium, at desktop size and at 390x844 (issue 26). */
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

const put = (p: string, content: string | Buffer) => t.gw.core.vfs.write(t.alice.session, 'docs', p, Readable.from([Buffer.from(content)]), { createParents: true });
const names = (page: Page) => page.$$eval('tbody tr td.col-name a', (as) => as.map((a) => a.textContent));
const row = (p: string) => `tr[data-path="${p}"]`;

async function select(page: Page, ...paths: string[]) {
  for (const p of paths) await page.check(`${row(p)} input[type=checkbox]`);
}

async function fill(page: Page, value: string, submit: string) {
  await page.fill('dialog[open] input[name=value]', value);
  await page.click(`dialog[open] button[type=submit]:has-text("${submit}")`);
  await page.waitForSelector('dialog[open]', { state: 'detached' });
}

/** A drop of files made in the page, as a drag from the desktop delivers them. */
async function dropFiles(page: Page, files: { name: string; text: string }[]) {
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([f.text], f.name, { type: 'text/plain' }));
    const target = document.querySelector('section.files')!;
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}

async function uploaded(page: Page, name: string) {
  await page.waitForSelector(`li.upload.done[data-name="${name}"]`, { timeout: 20_000 });
}

for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
  describe(`file manager at ${label} size`, () => {
    const phone = viewport === PHONE;
    const base = `${label}`;
    let w: WatchedPage;

    const fits = async (what: string) => {
      if (phone) await expectFitsPhone(w.page, what);
    };

    it('browses: natural sort with folders first, sortable columns, filter, empty folder, deep links, Back and reload', async () => {
      for (const [p, c] of [['file 10.txt', 'ten!!!!!!!'], ['file 2.txt', 'two'], ['Zeta.txt', 'z'], ['alpha.txt', 'aaaaaaaaaaaaaaaaaaaa']] as const) await put(`${base}/${p}`, c);
      await t.gw.core.vfs.mkdir(t.alice.session, 'docs', `${base}/b folder`);
      await t.gw.core.vfs.mkdir(t.alice.session, 'docs', `${base}/b folder/empty`);
      w = await watchedPage(browser, `files-${label}`, viewport);
      const { page } = w;
      await page.goto(`${t.url}/`);
      await page.waitForSelector('#login-form');
      await w.shot('login');
      await expectAccessible(page, 'login form');
      await fits('login');
      await login(page, `${t.url}/app/files/docs/${base}`, 'alice', 'alice-password');
      // The deep link survives the login.
      await page.waitForSelector(`${row(`${base}/alpha.txt`)}`);
      expect(await names(page)).toEqual(['b folder/', 'alpha.txt', 'file 2.txt', 'file 10.txt', 'Zeta.txt']);
      await w.shot('listing');
      await expectAccessible(page, 'listing');
      await fits('listing');
      await page.click('th.col-size button');
      expect(await names(page)).toEqual(['b folder/', 'Zeta.txt', 'file 2.txt', 'file 10.txt', 'alpha.txt']);
      await page.click('th.col-size button');
      expect(await names(page)).toEqual(['b folder/', 'alpha.txt', 'file 10.txt', 'file 2.txt', 'Zeta.txt']);
      await page.click('th.col-name button');
      await page.fill('input.filter', 'FILE');
      expect(await names(page)).toEqual(['file 2.txt', 'file 10.txt']);
      await page.fill('input.filter', 'nothing like it');
      await page.waitForSelector('text=No name contains');
      await page.fill('input.filter', '');
      // Keyboard only: Enter on a folder opens it, and focus lands on the new folder's heading.
      await page.focus(`a.dir:has-text("b folder")`);
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/app/files/docs/${base}/b%20folder`);
      await page.waitForSelector(row(`${base}/b folder/empty`));
      await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === 'b folder');
      await page.click(`a.dir:has-text("empty")`);
      await page.waitForSelector('.state.empty');
      expect(await page.textContent('.state.empty')).toContain('This folder is empty');
      await w.shot('empty-folder');
      await fits('empty folder');
      await page.goBack();
      await page.waitForURL(`**/app/files/docs/${base}/b%20folder`);
      await page.waitForSelector(row(`${base}/b folder/empty`));
      await page.reload();
      await page.waitForSelector(row(`${base}/b folder/empty`));
      expect(await page.textContent('h1')).toBe('b folder');
      await page.click(`.crumbs a:has-text("${base}")`);
      await page.waitForSelector(row(`${base}/alpha.txt`));
      w.clean();
    });

    it('new folder, upload by picker and by drop with progress, asks before replacing, pause/resume and cancel', async () => {
      const { page } = w;
      await page.click('button:has-text("New folder")');
      // The dialog takes the focus to its field (keyboard users type at once).
      await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.name === 'value');
      await w.shot('new-folder-dialog');
      await expectAccessible(page, 'new folder dialog');
      await fits('new folder dialog');
      await fill(page, 'uploads', 'Create');
      await page.click(`a.dir:has-text("uploads")`);
      await page.waitForSelector('.state.empty');
      const big = Buffer.alloc(1024 * 1024, 7);
      await page.setInputFiles('#pick-files', [
        { name: 'report ü.bin', mimeType: 'application/octet-stream', buffer: big },
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('first notes') },
      ]);
      await uploaded(page, 'report ü.bin');
      await uploaded(page, 'notes.txt');
      expect(await page.getAttribute('li.upload[data-name="report ü.bin"] progress', 'value')).toBe('100');
      await page.waitForSelector(row(`${base}/uploads/notes.txt`));
      await w.shot('uploaded');
      await fits('upload panel');
      expect((await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', `${base}/uploads/report ü.bin`)).stream)).equals(big)).toBe(true);

      // The same name again: the page asks; "Keep both" makes "notes (1).txt", "Replace" a new version.
      await page.setInputFiles('#pick-files', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('second notes') });
      await page.waitForSelector('dialog[open] >> text=already exists');
      await w.shot('replace-question');
      await expectAccessible(page, 'replace question');
      await fits('replace question');
      await page.click('dialog[open] button:has-text("Keep both")');
      await page.waitForSelector(row(`${base}/uploads/notes (1).txt`));
      await dropFiles(page, [{ name: 'notes.txt', text: 'dropped notes' }, { name: 'dropped.txt', text: 'from a drag' }]);
      await page.click('dialog[open] button:has-text("Replace")');
      await page.waitForSelector(row(`${base}/uploads/dropped.txt`));
      await page.waitForFunction(() => document.querySelectorAll('li.upload.done[data-name="notes.txt"]').length === 2);
      expect((await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', `${base}/uploads/notes.txt`)).stream)).toString()).toBe('dropped notes');
      expect((await t.gw.core.vfs.history(t.alice.session, 'docs', `${base}/uploads/notes.txt`)).length).toBe(2);
      await page.setInputFiles('#pick-files', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('never sent') });
      await page.click('dialog[open] button:has-text("Skip")');
      expect((await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', `${base}/uploads/notes.txt`)).stream)).toString()).toBe('dropped notes');

      // Pause while the bytes are held up, resume, and the file arrives whole; cancel leaves nothing.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/api/v1/uploads/*', async (route) => {
        if (route.request().method() === 'PATCH') await held;
        await route.fallback().catch(() => {});
      });
      await page.setInputFiles('#pick-files', { name: 'slow.bin', mimeType: 'application/octet-stream', buffer: big });
      await page.waitForSelector('li.upload.uploading[data-name="slow.bin"] button:has-text("Pause")');
      await page.click('li.upload[data-name="slow.bin"] button:has-text("Pause")');
      await page.waitForSelector('li.upload.paused[data-name="slow.bin"]');
      await w.shot('paused');
      release();
      await page.unroute('**/api/v1/uploads/*');
      await page.click('li.upload[data-name="slow.bin"] button:has-text("Resume")');
      await uploaded(page, 'slow.bin');
      expect((await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', `${base}/uploads/slow.bin`)).stream)).equals(big)).toBe(true);
      await page.route('**/api/v1/uploads/*', (route) => (route.request().method() === 'PATCH' ? new Promise(() => {}) : route.fallback()));
      await page.setInputFiles('#pick-files', { name: 'cancelled.bin', mimeType: 'application/octet-stream', buffer: big });
      await page.click('li.upload[data-name="cancelled.bin"] button:has-text("Cancel")');
      await page.waitForSelector('li.upload.cancelled[data-name="cancelled.bin"]');
      await page.unroute('**/api/v1/uploads/*');
      await expect(t.gw.core.vfs.stat(t.alice.session, 'docs', `${base}/uploads/cancelled.bin`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // A whole folder by the picker: its files keep their relative paths.
      const local = await mkdtemp(path.join(os.tmpdir(), 'syncgate-web-'));
      await mkdir(path.join(local, 'album', 'sub'), { recursive: true });
      await writeFile(path.join(local, 'album', 'a.txt'), 'photo a');
      await writeFile(path.join(local, 'album', 'sub', 'b.txt'), 'photo b');
      await page.setInputFiles('#pick-folder', path.join(local, 'album'));
      await uploaded(page, 'album/sub/b.txt');
      await uploaded(page, 'album/a.txt');
      await page.waitForSelector(row(`${base}/uploads/album`));
      expect((await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', `${base}/uploads/album/sub/b.txt`)).stream)).toString()).toBe('photo b');
      await rm(local, { recursive: true, force: true });
      await page.click('button:has-text("Clear finished")');
      w.clean(/Failed to load resource|net::ERR_FAILED/);
    });

    it('selects several, downloads a file and a folder as zip, renames, moves, copies, deletes and restores', async () => {
      const { page } = w;
      const [plain] = await Promise.all([page.waitForEvent('download'), page.click(`${row(`${base}/uploads/dropped.txt`)} a.file`)]);
      expect((await readFile((await plain.path())!)).toString()).toBe('from a drag');
      await page.click(`.crumbs a:has-text("${base}")`);
      await select(page, `${base}/uploads`);
      await w.shot('selected');
      await fits('selection toolbar');
      await expectAccessible(page, 'selection toolbar');
      const [zip] = await Promise.all([page.waitForEvent('download'), page.click('.selection button:has-text("Download")')]);
      expect(zip.suggestedFilename()).toBe('uploads.zip');
      expect((await readFile((await zip.path())!)).subarray(0, 2).toString()).toBe('PK');
      await page.uncheck(`${row(`${base}/uploads`)} input[type=checkbox]`);

      await select(page, `${base}/Zeta.txt`);
      await page.click('.selection button:has-text("Rename")');
      await fill(page, 'Omega.txt', 'Rename');
      await page.waitForSelector(row(`${base}/Omega.txt`));

      await select(page, `${base}/Omega.txt`, `${base}/file 2.txt`);
      expect(await page.textContent('.selection span')).toBe('2 selected');
      await page.click('.selection button:has-text("Move")');
      await page.click('dialog[open] .picker button:has-text("b folder/")');
      await page.waitForSelector(`dialog[open] .picker-path:has-text("${base}/b folder")`);
      await w.shot('move-picker');
      await fits('move dialog');
      await expectAccessible(page, 'move dialog');
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector(row(`${base}/Omega.txt`), { state: 'detached' });
      expect((await t.gw.core.vfs.list(t.alice.session, 'docs', `${base}/b folder`)).map((e) => e.name).sort()).toEqual(['Omega.txt', 'empty', 'file 2.txt']);

      await select(page, `${base}/alpha.txt`);
      await page.click('.selection button:has-text("Copy")');
      await page.click('dialog[open] .picker button:has-text("uploads/")');
      await page.waitForSelector(`dialog[open] .picker-path:has-text("${base}/uploads")`);
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector('#notice:has-text("copied")');
      expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', `${base}/uploads/alpha.txt`)).kind).toBe('file');

      await select(page, `${base}/alpha.txt`, `${base}/file 10.txt`);
      await page.click('.selection button:has-text("Delete")');
      await w.shot('delete-confirm');
      await page.click('dialog[open] button[type=submit]');
      await page.waitForSelector(row(`${base}/alpha.txt`), { state: 'detached' });
      await page.waitForSelector(row(`${base}/file 10.txt`), { state: 'detached' });

      if (phone) await page.click('button.menu-toggle');
      await page.click('a:has-text("Deleted files in docs")');
      await page.waitForSelector(`li[data-path="${base}/alpha.txt"]`);
      await w.shot('deleted-files');
      await fits('deleted files');
      await expectAccessible(page, 'deleted files');
      await page.click(`button[aria-label="Restore ${base}/alpha.txt"]`);
      await page.waitForSelector(`li[data-path="${base}/alpha.txt"]`, { state: 'detached' });
      expect((await readAll((await t.gw.core.vfs.read(t.alice.session, 'docs', `${base}/alpha.txt`)).stream)).toString()).toBe('aaaaaaaaaaaaaaaaaaaa');
      await page.goBack();
      await page.waitForSelector(row(`${base}/alpha.txt`));
      w.clean();
    });

    it('shows changes from other doors live, and leaves a folder deleted elsewhere for its nearest parent', async () => {
      const { page } = w;
      await put(`${base}/live.txt`, 'from WebDAV, say');
      await page.waitForSelector(row(`${base}/live.txt`));
      await t.gw.core.vfs.mkdir(t.alice.session, 'docs', `${base}/doomed/inner`, { createParents: true });
      await page.goto(`${t.url}/app/files/docs/${base}/doomed/inner`);
      await page.waitForSelector('.state.empty');
      await t.gw.core.vfs.delete(t.alice.session, 'docs', `${base}/doomed`);
      await page.waitForSelector('#notice:has-text("no longer exists")');
      await page.waitForURL(`**/app/files/docs/${base}`);
      await page.waitForSelector(row(`${base}/live.txt`));
      await w.shot('folder-gone');
      await fits('notice');
      w.clean();
      await w.close();
    });
  });
}
