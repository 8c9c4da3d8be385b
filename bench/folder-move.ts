/**
 * CPU of a folder MOVE in the core, in-process, with the watcher on as `npm start` runs it (one
 * inotify watch per folder): a folder of BENCH_FILES files (default 1,000) moved to a new name
 * BENCH_REPS times (default 30), each move's CPU (process.cpuUsage: every thread of this process)
 * and wall time, and the CPU spent in each phase (the disk pre-check, the statements, the commit
 * and syncs, the change events), medians. Steadier than the WebDAV bench's wall time on a shared
 * machine. Usage: npx tsx bench/folder-move.ts   (BENCH_WALK=1: every move walks its folder first, as
 * before the watcher could vouch for a tree; BENCH_FILLER=N: N more files recorded in the root first, as
 * the WebDAV bench's root holds a 10,000-entry folder and the earlier rounds' copies;
 * BENCH_PER_STATEMENT=1: each statement's wall time per move too)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeCore } from '../test/helpers/core.js';
import { startWatcher } from '../src/core/watcher.js';
import { median } from './lib/measure.js';

const FILES = Number(process.env.BENCH_FILES ?? 1000);
const REPS = Number(process.env.BENCH_REPS ?? 30);

const t = await makeCore();
const { core } = t;
const rootId = core.ctx.roots.byName('docs')!.id;
await mkdir(path.join(t.rootDir, 'a'), { recursive: true });
for (let i = 0; i < FILES; i += 1) await writeFile(path.join(t.rootDir, 'a', `entry-${String(i).padStart(5, '0')}.txt`), `entry ${i}\n`);
const FILLER = Number(process.env.BENCH_FILLER ?? 0);
for (let i = 0; i < FILLER; i += 1) {
  if (i % 1000 === 0) await mkdir(path.join(t.rootDir, 'filler', `f${i / 1000}`), { recursive: true });
  await writeFile(path.join(t.rootDir, 'filler', `f${Math.floor(i / 1000)}`, `entry-${i}.txt`), `entry ${i}\n`);
}
await core.diskEdits.scanRoot(rootId);
// SQL statements run per move (every better-sqlite3 statement's run, get, all and iterate).
let statementsRun = 0;
const perStatement = new Map<string, number>();
const Statement = Object.getPrototypeOf(core.ctx.db.$client.prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>;
for (const m of ['run', 'get', 'all', 'iterate']) {
  const orig = Statement[m]!;
  Statement[m] = function (this: unknown, ...a: unknown[]) {
    statementsRun += 1;
    if (!process.env.BENCH_PER_STATEMENT) return orig.apply(this, a);
    const t0 = performance.now();
    try {
      return orig.apply(this, a);
    } finally {
      const key = String((this as { source: string }).source).replace(/\s+/g, ' ').slice(0, 70);
      perStatement.set(key, (perStatement.get(key) ?? 0) + performance.now() - t0);
    }
  };
}
const watcher = await startWatcher(core, { maxWatchedFiles: 0 });
// BENCH_WALK=1: the watcher vouches for nothing, every move walks its folder first (the build before).
if (process.env.BENCH_WALK === '1') core.ctx.diskWatch = null;

// Phase timers: wrapped methods add their wall time to the phase of the move under way.
const phases: Record<string, number> = {};
const wrap = <T extends object>(obj: T, name: keyof T & string, phase: string) => {
  const orig = (obj[name] as unknown as (...a: unknown[]) => unknown).bind(obj);
  (obj as Record<string, unknown>)[name] = (...a: unknown[]) => {
    // CPU of the whole process while the phase runs (an async phase: whatever else ran meanwhile too).
    const c0 = process.cpuUsage();
    const add = () => {
      const c = process.cpuUsage(c0);
      phases[phase] = (phases[phase] ?? 0) + (c.user + c.system) / 1000;
    };
    const out = orig(...a);
    if (out instanceof Promise) return out.finally(add);
    add();
    return out;
  };
};
const reconciler = (core.writer as unknown as { reconciler: object }).reconciler;
wrap(reconciler as { scan: () => void }, 'scan', 'pre-check (scan)');
wrap(core.ctx.files, 'recordTreeMove', 'statements');
wrap(core.ctx.bus, 'publish', 'change events (bus)');
wrap(reconciler as { publishedFolder: () => void }, 'publishedFolder', 'change events (made lazily)');
wrap(core.ctx.store, 'renameLive', 'rename');
const flush = core.ctx.durable as unknown as { commit: () => void };
wrap(flush, 'commit', 'commit');

const rows: Array<{ cpuMs: number; wallMs: number; statements: number; phases: Record<string, number> }> = [];
// A new name each time, as the WebDAV bench does: a tree moved away is hidden from the watcher at
// its old name for a moment (OwnChanges.expectTree), so moving it straight back could not be vouched for.
let from = 'a';
for (let rep = 0; rep <= REPS; rep += 1) {
  const to = `m${rep}`;
  await watcher.idle();
  for (const k of Object.keys(phases)) delete phases[k];
  const s0 = statementsRun;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await core.vfs.move(t.admin, 'docs', from, to);
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (rep > 0) rows.push({ cpuMs: (c.user + c.system) / 1000, wallMs, statements: statementsRun - s0, phases: { ...phases } });
  from = to;
}
const page = await core.vfs.changes(t.admin, 'docs', 0, 10);
if (page.changes.length === 0) throw new Error('no changes recorded');
console.log(`folder MOVE of ${FILES} files (${FILLER} more in the root), in-process, watcher on (folders), ${REPS} moves, medians; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`  CPU per move ${median(rows.map((r) => r.cpuMs)).toFixed(1)} ms, wall ${median(rows.map((r) => r.wallMs)).toFixed(1)} ms, SQL statements ${median(rows.map((r) => r.statements))}`);
for (const k of Object.keys(rows[0]!.phases)) console.log(`  ${k.padEnd(20)} ${median(rows.map((r) => r.phases[k] ?? 0)).toFixed(2)} ms`);
console.log(`  moves the watcher vouched for (then one readdir per folder instead of the walk): ${watcher.counts().vouched} of ${REPS + 1}`);
for (const [k, v] of [...perStatement].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${(v / (REPS + 1)).toFixed(2).padStart(6)} ms/move  ${k}`);
await watcher.close();
await t.close();
