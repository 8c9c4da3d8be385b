/**
 * `sync --watch`: a full pass per link at start, then real time. A local edit names its path (the
 * folder watcher) and only those paths are looked at, after a short settle (debounceMs); a change
 * pushed by the gateway (WebSocket) is applied from the push itself, with no round trip and no
 * scan. A full pass again only after a reconnect, when the watcher lost events, or every
 * fullEveryMs as a safety net. While the socket is down, the feed is paged every pollMs. An
 * unreachable gateway keeps local edits (they wait in the pending set) and retries with backoff.
 */
import WebSocket from 'ws';
import { WS_PATH, isServerMessage, type ServerMessage, type WireChange } from '../sync-wire/index.js';
import { ApiError } from './api.js';
import { printable } from './failure-text.js';
import { FULL, type LinkSync, type PassReport, type Scope } from './engine.js';
import { watchFolder, type FolderWatch } from './folder-watch.js';
import { tellConflict, type Notifier } from './notify.js';

export interface WatchOptions {
  url: string;
  token: string;
  /** How long local edits settle before a pass (ms). */
  debounceMs?: number;
  /** Paging interval while the socket is down. */
  pollMs?: number;
  /** A full pass this often even when nothing was missed (ms). */
  fullEveryMs?: number;
  say: (line: string) => void;
  /** Desktop notifications of conflicts (none by default). */
  notifier?: Notifier;
  onPass?: (link: LinkSync, r: PassReport) => void;
}

export interface Watching {
  stop(): Promise<void>;
  /** Resolves once every link had its first pass. */
  ready: Promise<void>;
}

/**
 * How long a path that could not be synced waits before the next try: 2 s, doubled after each pass
 * that failed again, at most 5 minutes. Without it a big upload to a gateway whose disk is full went
 * up again every 2 s.
 */
export function nextRetryMs(previousMs: number): number {
  return previousMs ? Math.min(300_000, previousMs * 2) : 2_000;
}

class Runner {
  private running = false;
  /** The wait before retrying what the last passes could not sync (0: the last pass had no error). */
  private retryMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private backoff = 0;
  private pending = new Set<string>();
  private full = true;
  /** Changes pushed since the subscription from `pushFrom` (null: no socket, the feed is paged). */
  private pushed: WireChange[] = [];
  private pushedCursor = 0;
  private pushFrom: number | null = null;
  private cursorSave: NodeJS.Timeout | null = null;
  private savedCursor: number;
  stopped = false;
  /**
   * The 'not synced' lines said in this run: each pass meets a refused name again (its retry, every
   * full pass) and was refused the same way, so it is said once, as a one-shot sync says it once.
   * A full pass without it forgets it: refused again later, it is said again.
   */
  private said = new Set<string>();
  /** The gateway was unreachable at the last pass (the next that works says it is back). */
  private away = false;
  firstPass: Promise<void>;
  private firstDone!: () => void;

  constructor(
    readonly sync: LinkSync,
    private readonly opts: WatchOptions,
  ) {
    this.savedCursor = sync.link.cursor;
    this.firstPass = new Promise((r) => (this.firstDone = r));
  }

  touch(rel: string): void {
    this.pending.add(rel);
    this.schedule(this.opts.debounceMs ?? 5);
  }

  needFull(): void {
    this.full = true;
    this.schedule(0);
  }

  subscribed(from: number | null): void {
    this.pushFrom = from;
    this.pushed = [];
  }

  push(changes: WireChange[], cursor: number): void {
    if (this.pushFrom === null) return;
    for (const c of changes) if (c.seq > this.sync.link.cursor) this.pushed.push(c);
    this.pushedCursor = cursor;
    // A change of another device starts a pass at once; our own echoes only move the cursor, lazily.
    this.schedule(changes.some((c) => this.sync.isForeign(c)) ? 0 : 250);
  }

  schedule(delay: number): void {
    if (this.stopped) return;
    const at = Date.now() + delay;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => void this.run(), delay);
  }

  private scope(): Scope {
    const live = this.pushFrom !== null && this.sync.link.cursor >= this.pushFrom;
    if (this.full) return FULL;
    const local = this.pending;
    this.pending = new Set();
    return { local, remote: live ? { changes: this.pushed, cursor: this.pushedCursor } : 'fetch' };
  }

  async run(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    if (this.running) {
      this.schedule(5); // after the pass under way
      return;
    }
    this.running = true;
    const wasFull = this.full;
    const scope = this.scope();
    this.full = false;
    try {
      const r = await this.sync.pass(scope);
      // After 'unreachable ... retrying' lines, say that it is over (else the last word is the failure).
      if (this.away) this.opts.say(`the gateway at ${this.opts.url} is reachable again: ${r.uploaded} up, ${r.downloaded} down, ${r.deleted} deleted, ${r.moved} moved`);
      this.backoff = 0;
      this.away = false;
      this.pushed = this.pushed.filter((c) => c.seq > this.sync.link.cursor);
      this.opts.onPass?.(this.sync, r);
      for (const note of r.conflictNotes) {
        this.opts.say(`conflict in ${this.sync.link.dir}: ${printable(note)}`);
        tellConflict(this.opts.notifier, this.sync.link.dir, note);
      }
      for (const e of r.errors) if (!this.said.has(e)) this.opts.say(`not synced: ${printable(e)}`);
      if (wasFull) this.said = new Set(r.errors);
      else for (const e of r.errors) this.said.add(e);
      // What could not be synced is tried again later, each time later (the same error would repeat):
      // the local paths named again, a remote change from the cursor that stayed before it.
      this.retryMs = r.errors.length ? nextRetryMs(this.retryMs) : 0;
      if (r.errors.length) setTimeout(() => {
        for (const p of r.failed) this.pending.add(p);
        this.schedule(0);
      }, this.retryMs).unref();
      this.saveCursorSoon();
    } catch (err) {
      // Nothing is lost: the paths wait, and the next pass (a full one) finds everything again.
      if (scope.local !== 'all') for (const p of scope.local) this.pending.add(p);
      this.full = this.full || wasFull || (err instanceof ApiError && err.code === 'STALE_CURSOR');
      const unreachable = err instanceof ApiError && err.code === 'UNREACHABLE';
      this.away ||= unreachable;
      this.backoff = Math.min(30_000, this.backoff ? this.backoff * 2 : 1000);
      this.opts.say(unreachable ? `${(err as Error).message}; local edits are kept, retrying in ${this.backoff / 1000}s` : `sync failed: ${(err as Error).message}`);
      if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') {
        this.opts.say('this device was refused (revoked?): run `syncgate client login` again');
        this.stopped = true;
      } else this.schedule(this.backoff);
    } finally {
      this.running = false;
      if (wasFull) this.firstDone();
    }
  }

  private saveCursorSoon(): void {
    if (this.cursorSave || this.sync.link.cursor === this.savedCursor) return;
    this.cursorSave = setTimeout(() => {
      this.cursorSave = null;
      const c = this.sync.link.cursor;
      void this.sync.saveCursor().then(() => (this.savedCursor = c), () => undefined);
    }, 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.cursorSave) clearTimeout(this.cursorSave);
    while (this.running) await new Promise((r) => setTimeout(r, 10));
    if (this.sync.link.cursor !== this.savedCursor) await this.sync.saveCursor().catch(() => undefined);
  }
}

export function watchLinks(links: LinkSync[], opts: WatchOptions): Watching {
  const runners = links.map((l) => new Runner(l, opts));
  const byRoot = new Map<string, Runner[]>();
  for (const r of runners) byRoot.set(r.sync.link.root, [...(byRoot.get(r.sync.link.root) ?? []), r]);
  let closed = false;
  const folders: FolderWatch[] = [];
  const watching = Promise.all(
    runners.map((r) =>
      watchFolder(r.sync.link.dir, (rel) => r.touch(rel), (why) => {
        opts.say(`the folder watcher lost track (${why}): a full pass follows`);
        r.needFull();
      }).then((w) => (closed ? w.close() : folders.push(w))),
    ),
  );
  // The watches are in place before the first pass: nothing made meanwhile is missed.
  const ready = watching.then(async () => {
    for (const r of runners) r.schedule(0);
    await Promise.all(runners.map((r) => r.firstPass));
  });

  let ws: WebSocket | null = null;
  let wsBackoff = 0;
  let reconnect: NodeJS.Timeout | null = null;
  let socketUp = false;
  let everUp = false;
  const poll = setInterval(() => {
    if (!socketUp) for (const r of runners) r.schedule(0); // paging instead of pushes
  }, opts.pollMs ?? 5000);
  const safety = setInterval(() => {
    for (const r of runners) r.needFull();
  }, opts.fullEveryMs ?? 10 * 60_000);
  const connect = () => {
    if (closed) return;
    const u = new URL(WS_PATH, opts.url.replace(/^http/, 'ws'));
    ws = new WebSocket(u, { headers: { authorization: `Bearer ${opts.token}` } });
    ws.on('open', () => {
      socketUp = true;
      wsBackoff = 0;
      for (const [root, rs] of byRoot) {
        const after = Math.min(...rs.map((r) => r.sync.link.cursor));
        for (const r of rs) {
          r.subscribed(after);
          if (everUp) r.needFull(); // what happened while the socket was down
        }
        ws!.send(JSON.stringify({ type: 'subscribe', root, after }));
      }
      everUp = true;
    });
    ws.on('message', (data) => {
      let m: ServerMessage;
      try {
        const v: unknown = JSON.parse(String(data));
        if (!isServerMessage(v)) return;
        m = v;
      } catch {
        return;
      }
      if (m.type === 'changes') for (const r of byRoot.get(m.root) ?? []) r.push(m.changes, m.cursor);
      if (m.type === 'error' && m.code === 'STALE_CURSOR') for (const r of byRoot.get(m.root ?? '') ?? []) r.needFull();
    });
    ws.on('error', () => undefined); // 'close' follows
    ws.on('close', () => {
      socketUp = false;
      for (const r of runners) r.subscribed(null);
      if (closed) return;
      wsBackoff = Math.min(30_000, wsBackoff ? wsBackoff * 2 : 500);
      reconnect = setTimeout(connect, wsBackoff);
    });
  };
  connect();
  return {
    ready,
    async stop() {
      closed = true;
      clearInterval(poll);
      clearInterval(safety);
      if (reconnect) clearTimeout(reconnect);
      ws?.terminate();
      await watching;
      for (const f of folders) f.close();
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}
