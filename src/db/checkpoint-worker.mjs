// Worker thread of Checkpointer (checkpointer.ts): copies the metadata WAL back into the database
// file, with its own connection, whenever another connection committed since the last look.
// Plain JS so that it runs unchanged under node, tsx and vitest.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
// Changes whenever another connection commits (not for this one's own checkpoints). The first turn
// always looks: commits made while this thread started are in the WAL too.
const dataVersion = db.prepare('PRAGMA data_version').pluck();
let seen = -1;

const timer = setInterval(() => {
  const now = dataVersion.get();
  if (now === seen) return;
  seen = now;
  try {
    // PASSIVE: never waits for, nor blocks, the gateway's writers; what it cannot copy yet, the next turn does.
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r.log > 0) parentPort.postMessage({ frames: r.log, copied: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String(err) });
  }
}, workerData.intervalMs);

parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
