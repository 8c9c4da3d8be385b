/**
 * kill -9 at each step of a change, not at a random moment (crash.test.ts): a child makes one change
 * through the core and kills itself at a named step (test/fixtures/crash-step.ts). Then a start-up
 * (staging cleared, roots scanned) must leave: an intact database, no file in staging, the live tree
 * and the records agreeing, every acknowledged content readable at its version, a delete that was
 * recorded not coming back, and nothing torn.
 *
 * Steps of a delete whose content is kept already (its live name renamed into staging, unlinked by
 * the flush while its syncs run): before and after the rename, once the record is committed (the
 * flush, before the unlink), after the unlink, after the answer. Of a small write (a spare staging
 * file taken, written with O_DSYNC or synced later, renamed into place, recorded): each of those.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeCore, readAll } from '../helpers/core.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = path.join(ROOT, 'test/fixtures/crash-step.ts');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function files(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await files(dir, r)));
    else out.push(r);
  }
  return out;
}

/** Runs the child to its step; resolves with its complete lines once it died of SIGKILL. */
function runToStep(dataDir: string, scenario: string, step: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, scenario, step], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (buf += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL' || !buf.includes('SETUP\n')) return reject(new Error(`child did not die at ${step} (${code} ${signal}): ${err.slice(0, 2000)}`));
      resolve(buf.split('\n').slice(0, -1));
    });
  });
}

interface Outcome {
  acked: Array<{ path: string; hash: string; version: number }>;
  deleted: Array<{ path: string; version: number }>;
}

/** Starts a core on the folder the child left, checks what must hold after any kill, returns nothing. */
async function restartAndCheck(dataDir: string, lines: string[], label: string, extra: (t: Awaited<ReturnType<typeof makeCore>>, o: Outcome) => Promise<void>): Promise<void> {
  const o: Outcome = { acked: [], deleted: [] };
  for (const line of lines) {
    const [kind, p, a, b] = line.split('\t');
    if (kind === 'ACK') o.acked.push({ path: p!, hash: a!, version: Number(b) });
    if (kind === 'DEL') o.deleted.push({ path: p!, version: Number(a) });
  }
  const t = await makeCore({ dir: dataDir, keepDir: true });
  try {
    const { core, admin, rootDir } = t;
    await core.start({ unclean: true });
    expect(core.ctx.db.$client.pragma('integrity_check', { simple: true }), `${label}: integrity`).toBe('ok');
    expect(await files(core.ctx.store.tempDir), `${label}: staging emptied`).toEqual([]);
    const rootId = core.ctx.roots.byName('docs')!.id;
    const live = new Map(core.ctx.files.subtree(rootId, '').filter((e) => e.kind === 'file' && !e.deleted).map((e) => [e.path, e.hash]));
    const onDisk = new Map<string, string>();
    for (const rel of await files(rootDir)) onDisk.set(rel, sha(await readFile(path.join(rootDir, rel))));
    expect(onDisk, `${label}: the live tree is what the records say`).toEqual(live);
    for (const a of o.acked) {
      const bytes = await readAll((await core.vfs.read(admin, 'docs', a.path, { version: a.version })).stream);
      expect(sha(bytes), `${label}: ${a.path} v${a.version} readable`).toBe(a.hash);
    }
    for (const d of o.deleted) {
      const v = (await core.vfs.history(admin, 'docs', d.path)).find((h) => h.version === d.version);
      expect(v?.op, `${label}: delete of ${d.path} recorded`).toBe('delete');
      expect(live.has(d.path), `${label}: ${d.path} stays deleted`).toBe(false);
    }
    await extra(t, o);
  } finally {
    t.core.close();
  }
}

async function crashAt(scenario: string, step: string, extra: (t: Awaited<ReturnType<typeof makeCore>>, o: Outcome) => Promise<void> = async () => {}): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-crash-step-'));
  try {
    const init = await makeCore({ dir: dataDir, keepDir: true }); // user alice, root docs
    init.core.close();
    const lines = await runToStep(dataDir, scenario, step);
    await restartAndCheck(dataDir, lines, `${scenario} killed at ${step}`, extra);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('kill -9 at each step of a change', () => {
  describe('a delete of content kept already (set aside in staging)', () => {
    for (const step of ['before-set-aside', 'set-aside', 'committed', 'unlinked', 'acked']) {
      it(`killed at ${step}`, async () => {
        await crashAt('delete-kept', step, async ({ core, admin }) => {
          // Content A stays readable at every version that held it, whichever way the delete went.
          const hist = await core.vfs.history(admin, 'docs', 'k.txt');
          for (const v of hist.filter((h) => !h.deleted && h.hash === sha('content A'))) {
            expect(v.available, `v${v.version} of content A available`).toBe(true);
            const bytes = await readAll((await core.vfs.read(admin, 'docs', 'k.txt', { version: v.version })).stream);
            expect(bytes.toString()).toBe('content A');
          }
          // Once recorded, the delete holds: no file comes back from staging or elsewhere.
          if (step === 'committed' || step === 'unlinked' || step === 'acked') {
            expect((await core.vfs.stat(admin, 'docs', 'k.txt').catch(() => null))).toBeNull();
          }
        });
      }, 120_000);
    }
  });

  for (const scenario of ['put-new', 'put-over']) {
    describe(`a small write (${scenario === 'put-new' ? 'to a new path' : 'over a file'})`, () => {
      for (const step of ['spare', 'spare-taken', 'staged', 'installed', 'committed', 'flushing', 'acked']) {
        it(`killed at ${step}`, async () => {
          await crashAt(scenario, step, async ({ core, admin }) => {
            const p = scenario === 'put-new' ? 'n.txt' : 'o.txt';
            const head = await core.vfs.stat(admin, 'docs', p).catch(() => null);
            // Whole or not there: the head is one of the contents written, never a torn or empty file.
            if (head) expect([sha('the new content'), sha('the old content')]).toContain(head.hash);
            if (step === 'acked') expect(head?.hash).toBe(sha('the new content'));
            if (scenario === 'put-over') expect(head, 'the file written before stays').not.toBeNull();
          });
        }, 120_000);
      }
    });
  }
});
