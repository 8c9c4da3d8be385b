import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium driven by playwright-core, with the checks every web page test makes. */
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test/artifacts/web');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs the Debian package chromium`);
  await mkdir(ARTIFACTS, { recursive: true });
  // launch() runs Chromium on a fresh temporary profile of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records console errors, page errors, and every request that leaves 127.0.0.1. */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  problems: string[];
  foreign: string[];
  /** Bytes of every response body, by URL (the page-weight budget). */
  bytes: Map<string, number>;
  shot(name: string): Promise<void>;
  /** Console errors, page errors and foreign requests so far must be none. */
  clean(allow?: RegExp): void;
  close(): Promise<void>;
}

export async function watchedPage(browser: Browser, label: string, viewport = DESKTOP): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  const foreign: string[] = [];
  const bytes = new Map<string, number>();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname !== '127.0.0.1' && u.protocol !== 'data:' && u.protocol !== 'blob:') {
      foreign.push(u.href);
      return route.abort();
    }
    return route.fallback();
  });
  page.on('response', async (r) => {
    const body = await r.body().catch(() => null);
    if (body) bytes.set(r.url(), body.length);
  });
  let n = 0;
  return {
    context,
    page,
    problems,
    foreign,
    bytes,
    async shot(name) {
      n += 1;
      await page.screenshot({ path: path.join(ARTIFACTS, `${label}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
    },
    clean(allow) {
      expect(problems.filter((p) => !allow || !allow.test(p))).toEqual([]);
      expect(foreign).toEqual([]);
    },
    close: () => context.close(),
  };
}

let axeSource: string | null = null;

/** axe-core on the page as it is now: no serious or critical finding. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  if (!(await page.evaluate('typeof window.axe'))?.toString().includes('object')) await page.evaluate(axeSource);
  const found = (await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, {
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  })) as { id: string; impact: string; nodes: string[] }[];
  expect(found.filter((v) => v.impact === 'serious' || v.impact === 'critical'), what).toEqual([]);
}

/** Nothing is wider than the viewport (no sideways scroll) and every visible control is at least 40 px. */
export async function expectFitsPhone(page: Page, what: string): Promise<void> {
  const r = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scroll = document.documentElement.scrollWidth;
    const small: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('button, a[href], input:not([type=hidden]), select, label.hit')) {
      const b = el.getBoundingClientRect();
      if (b.width === 0 || b.height === 0) continue;
      if (el.tagName === 'INPUT' && (el as HTMLInputElement).type === 'checkbox') continue; // its label.hit is the target
      if (el.closest('.crumbs') && el.tagName === 'A' && b.height >= 40) continue;
      if (b.height < 40 || b.width < 40) small.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}" ${Math.round(b.width)}x${Math.round(b.height)}`);
    }
    return { width, scroll, small };
  });
  expect(r.scroll, `${what}: page ${r.scroll}px wide in a ${r.width}px viewport`).toBeLessThanOrEqual(r.width);
  expect(r.small, `${what}: touch targets under 40 px`).toEqual([]);
}

export async function login(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(url);
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#logout');
}
