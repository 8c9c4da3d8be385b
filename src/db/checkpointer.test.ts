import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Checkpointer } from './checkpointer.js';
import { closeDb, openDb, type Db } from './index.js';

const log = pino({ level: 'silent' });

/** 300 commits of a row with 4 KiB of text: about 600 WAL pages, under SQLite's own threshold. */
function writeRows(db: Db): void {
  db.$client.exec('CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body TEXT)');
  const insert = db.$client.prepare('INSERT INTO filler (body) VALUES (?)');
  for (let i = 0; i < 300; i += 1) insert.run('x'.repeat(4096));
}

describe('Checkpointer', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'syncgate-ckpt-'));
    db = openDb(path.join(dir, 'meta.db'));
  });
  afterEach(() => {
    closeDb(db);
    rmSync(dir, { recursive: true, force: true });
  });
  const dbBytes = () => statSync(path.join(dir, 'meta.db')).size;

  it('copies the WAL back on its own thread; the gateway connection no longer checkpoints every 1,000 pages', async () => {
    const checkpointer = new Checkpointer(db, log, 20);
    try {
      expect(db.$client.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
      const before = dbBytes();
      writeRows(db);
      await vi.waitFor(() => expect((checkpointer.last?.copied ?? 0) > 0 && dbBytes() > before + 1_000_000).toBe(true), { timeout: 5000, interval: 20 });
      expect(checkpointer.last!.copied).toBeLessThanOrEqual(checkpointer.last!.frames);
    } finally {
      await checkpointer.close();
    }
    expect(db.$client.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('without it nothing is copied back below the threshold (what the test above measures)', async () => {
    db.$client.pragma('wal_autocheckpoint = 10000');
    const before = dbBytes();
    writeRows(db);
    await new Promise((r) => setTimeout(r, 200));
    expect(dbBytes()).toBe(before);
  });

  it('rests while nothing is committed, and close waits for the thread', async () => {
    const checkpointer = new Checkpointer(db, log, 20);
    // Its first turn copies what the migrations wrote; on a loaded machine that turn comes late.
    await vi.waitFor(() => expect(checkpointer.last).not.toBeNull(), { timeout: 5000, interval: 20 });
    checkpointer.last = null;
    await new Promise((r) => setTimeout(r, 150));
    expect(checkpointer.last).toBeNull();
    await checkpointer.close();
    await checkpointer.close(); // twice is harmless
  });

  it('closes at once when its thread already died (the gateway\'s close must not hang on it)', async () => {
    const checkpointer = new Checkpointer(db, log, 20);
    await checkpointer['worker'].terminate();
    const closed = await Promise.race([checkpointer.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('hung'), 2000))]);
    expect(closed).toBe('closed');
    expect(db.$client.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });
});
