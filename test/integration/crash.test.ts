/**
 * kill -9 at random moments: a child writes through the core in a loop (test/fixtures/crash-writer.ts)
 * and is killed with SIGKILL, several rounds on the same data folder. After each restart: the database
 * passes integrity_check, every live entry's file exists with the recorded size and hash, no torn file
 * is visible (every file on disk holds a whole content that was written), every blob is intact, and
 * every acknowledged content is the head or readable from history. Clocks stay gap-free.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCore, readAll } from '../helpers/core.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WRITER = path.join(ROOT, 'test/fixtures/crash-writer.ts');
const ROUNDS = 5;

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await walk(dir, r)));
    else out.push(r);
  }
  return out;
}

interface Ack {
  path: string;
  hash: string;
  version: number;
}

/** Runs the writer until a random moment after it is ready, kills it with SIGKILL, returns its lines. */
function runAndKill(dataDir: string, killAfterMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      if (!timer && buf.includes('READY\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own (${code}): ${err.slice(0, 2000)}`));
      // Only complete lines count: a line cut by the kill was never fully reported.
      resolve(buf.split('\n').slice(0, -1));
    });
  });
}

describe('crash safety (SIGKILL while writing)', () => {
  let dataDir = '';
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the store consistent and every acknowledged write after kill -9', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-crash-'));
    const init = await makeCore({ dir: dataDir, keepDir: true }); // user alice, root docs
    init.core.close();

    const anyTried = new Set<string>(); // every content hash ever tried
    const acked: Ack[] = [];
    const moves: { path: string; version: number }[] = [];
    let totalAcks = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const checkedBefore = round === ROUNDS - 1 ? 0 : acked.length; // the last round re-checks them all
      const lines = await runAndKill(dataDir, 200 + Math.floor(Math.random() * 1000));
      for (const line of lines) {
        const [kind, p, hash, version] = line.split('\t');
        if (kind === 'TRY') {
          anyTried.add(hash!);
        } else if (kind === 'MOV') {
          moves.push({ path: hash!, version: Number(version) }); // MOV from to version
        } else if (kind === 'ACK') {
          acked.push({ path: p!, hash: hash!, version: Number(version) });
          totalAcks += 1;
        }
      }

      const t = await makeCore({ dir: dataDir, keepDir: true }); // runs the start-up cleanup
      try {
        const { core, admin, rootDir } = t;
        const rootId = core.ctx.roots.byName('docs')!.id;
        expect(core.ctx.db.$client.pragma('integrity_check', { simple: true }), `round ${round}: integrity_check`).toBe('ok');

        // No torn file: every file on disk holds a content that was written for its path (or for
        // the original of a conflict copy). Checked before the scan, which would adopt anything.
        for (const rel of await walk(rootDir)) {
          const h = await hashFile(path.join(rootDir, rel));
          // Moves carry contents between paths, so any content ever tried is whole; a torn file is none.
          expect(anyTried.has(h), `round ${round}: ${rel} holds a whole content (one that was written)`).toBe(true);
        }
        // The staging folders were emptied by the start-up cleanup.
        expect(await walk(core.ctx.store.tempDir), `round ${round}: staging emptied`).toEqual([]);

        await core.diskEdits.scanRoot(rootId);

        // Every live entry's file exists with the recorded size and hash.
        for (const e of core.ctx.files.subtree(rootId, '')) {
          if (e.path === '' || e.kind !== 'file') continue;
          const abs = path.join(rootDir, e.path);
          const st = await stat(abs);
          expect(st.size, `round ${round}: size of ${e.path}`).toBe(e.size);
          expect(await hashFile(abs), `round ${round}: hash of ${e.path}`).toBe(e.hash);
        }

        // Every blob is intact (named by its own hash).
        const blobDir = core.ctx.store.blobDir;
        for (const rel of await walk(blobDir)) {
          expect(await hashFile(path.join(blobDir, rel)), `round ${round}: blob ${rel}`).toBe(path.basename(rel));
        }

        // Nothing acknowledged is lost: each acknowledged content is the head or in history, readable.
        for (const a of acked.slice(checkedBefore)) {
          const hist = await core.vfs.history(admin, 'docs', a.path);
          const v = hist.find((h) => h.version === a.version && h.path === a.path);
          expect(v?.hash, `round ${round}: ${a.path} v${a.version} recorded`).toBe(a.hash);
          const bytes = await readAll((await core.vfs.read(admin, 'docs', a.path, { version: a.version })).stream);
          expect(createHash('sha256').update(bytes).digest('hex'), `round ${round}: ${a.path} v${a.version} readable`).toBe(a.hash);
        }

        for (const m of moves) {
          const v = (await core.vfs.history(admin, 'docs', m.path)).find((h) => h.version === m.version && h.path === m.path);
          expect(v?.op, `round ${round}: move into ${m.path} v${m.version} recorded`).toBe('move-in');
        }

        // Clocks: the root's change feed is gap-free and each path's versions only grow (by one, or
        // past a moved file's own clock when it arrives: MOVE_CLOCK in files-repo.ts).
        const seqs: number[] = [];
        const paths = new Set<string>();
        for (let after = 0; ; ) {
          const page = await core.vfs.changes(admin, 'docs', after, 5000);
          for (const c of page.changes) {
            seqs.push(c.seq);
            paths.add(c.path);
          }
          after = page.cursor;
          if (!page.more) break;
        }
        expect(seqs, `round ${round}: gap-free seq`).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        for (const p of paths) {
          const versions = (await core.vfs.history(admin, 'docs', p)).filter((h) => h.path === p).map((h) => h.version);
          expect(versions, `round ${round}: versions of ${p}`).toEqual([...versions].sort((x, y) => y - x));
          expect(new Set(versions).size, `round ${round}: versions of ${p} distinct`).toBe(versions.length);
        }
      } finally {
        t.core.close();
      }
    }
    console.log(`crash test: ${ROUNDS} kills, ${totalAcks} acknowledged writes, ${anyTried.size} contents tried`);
    expect(totalAcks, 'the writer got work acknowledged').toBeGreaterThan(ROUNDS);
  }, 150_000); // about 25 s alone; child start-ups slow down a lot when the whole suite runs at once
});
