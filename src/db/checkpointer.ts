import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Db } from './index.js';

/** WAL pages after which the gateway's own connection checkpoints anyway (the worker fell behind). */
const FALLBACK_PAGES = 10_000;

/** How often the worker looks for commits to copy back (ms). */
const INTERVAL_MS = 300;

/**
 * Checkpoints the metadata WAL on a worker thread. SQLite otherwise checkpoints inside the commit
 * that passes 1,000 WAL pages, on the event loop: about every 110 small writes here, each time an
 * fsync of the WAL and of the database file (1-1.5 ms) during which no request of any door moved.
 *
 * Not more often than every INTERVAL_MS: after each checkpoint that caught up, the gateway's next
 * commit starts the WAL over, and SQLite syncs the new WAL header right there, on the event loop
 * (unavoidable in WAL mode, whatever the synchronous level). Every 100 ms that was about 15 such
 * syncs per 1,000 small PUTs at 8 in flight, each a journal commit that held up every request
 * (0.3 ms on a quiet disk, up to 95 ms among other writers' syncs). Each checkpoint also syncs the
 * WAL and the database file: a third as many journal commits competing with the writes' own. At
 * 1,600 small PUTs a second the WAL then holds about 2,200 frames (9 MB) at most, far from
 * FALLBACK_PAGES.
 *
 * The gateway's connection keeps a far threshold (FALLBACK_PAGES) in case the worker cannot keep
 * up or dies: the WAL stays bounded either way. Checkpoints change no data, so nothing waits for them.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;
  /** Settles when the thread ends, however it ends: close() must not wait for an exit that already happened. */
  private readonly exited: Promise<void>;
  /** The last checkpoint's result, for tests and metrics: WAL frames, and how many were copied back. */
  last: { frames: number; copied: number } | null = null;

  constructor(
    private readonly db: Db,
    log: Logger,
    intervalMs = INTERVAL_MS,
  ) {
    this.worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData: { file: db.$client.name, intervalMs } });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (m: { frames: number; copied: number } | { error: string }) => {
      if ('error' in m) log.warn({ error: m.error }, 'background checkpoint failed; the next one tries again');
      else this.last = m;
    });
    const fallBack = (reason: unknown) => {
      if (this.stopped || !db.$client.open) return;
      log.error({ err: reason }, 'checkpoint thread stopped; the gateway checkpoints its WAL itself again');
      db.$client.pragma('wal_autocheckpoint = 1000');
    };
    this.worker.on('error', fallBack);
    this.worker.on('exit', (code) => fallBack(`exit code ${code}`));
    db.$client.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
  }

  /** Stops the thread (before the database closes); the gateway's connection checkpoints as usual again. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage('stop');
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timer);
    if (this.db.$client.open) this.db.$client.pragma('wal_autocheckpoint = 1000');
  }
}
