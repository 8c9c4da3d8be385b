import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDb, openDb, txUnsynced, type Db } from './index.js';

describe('metadata database transactions', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'syncgate-db-'));
    db = openDb(path.join(dir, 'meta.db'));
  });
  afterEach(() => {
    closeDb(db);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs an unsynced transaction nested in another, even as the first one of the connection', () => {
    // Its PRAGMAs used to be prepared on first use, which SQLite refuses inside a transaction.
    const insert = () => db.$client.prepare("INSERT INTO roots (name, dir) VALUES ('r', '/x')").run();
    db.$client.transaction(() => txUnsynced(db, insert))();
    expect(db.$client.prepare('SELECT count(*) AS n FROM roots').get()).toEqual({ n: 1 });
    expect(db.$client.pragma('synchronous', { simple: true })).toBe(2); // FULL again outside
  });

  it('rolls back an unsynced transaction whole when it throws', () => {
    expect(() =>
      txUnsynced(db, () => {
        db.$client.prepare("INSERT INTO roots (name, dir) VALUES ('r', '/x')").run();
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(db.$client.prepare('SELECT count(*) AS n FROM roots').get()).toEqual({ n: 0 });
  });
});
