/**
 * `sync --watch`: an initial pass per linked folder, then real time: the folder's watcher and the
 * gateway's pushed changes (WebSocket) each schedule a pass. Without the socket the client pages
 * the feed on a timer; an unreachable gateway is retried with backoff, local edits kept meanwhile.
 */
import path from 'node:path';
import { watch } from 'chokidar';
import WebSocket from 'ws';
import { WS_PATH, isServerMessage, type ServerMessage } from '../sync-wire/index.js';
import { ApiError } from './api.js';
import type { LinkSync, PassReport } from './engine.js';
import { isInternal } from './local.js';

export interface WatchOptions {
  url: string;
  token: string;
  /** How long edits settle before a pass (ms). */
  debounceMs?: number;
  /** Paging interval while the socket is down, and the safety pass interval while it is up. */
  pollMs?: number;
  say: (line: string) => void;
  onPass?: (link: LinkSync, r: PassReport) => void;
}

export interface Watching {
  stop(): Promise<void>;
  /** Resolves once every link had its first pass. */
  ready: Promise<void>;
}

class Runner {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private backoff = 0;
  stopped = false;

  constructor(
    readonly sync: LinkSync,
    private readonly opts: WatchOptions,
  ) {}

  schedule(delay = this.opts.debounceMs ?? 25): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delay);
  }

  async run(): Promise<void> {
    this.timer = null;
    if (this.running || this.stopped) return;
    this.running = true;
    this.again = false;
    try {
      const r = await this.sync.syncOnce();
      this.backoff = 0;
      this.opts.onPass?.(this.sync, r);
      for (const c of r.conflicts) this.opts.say(`conflict: ${c} keeps the other version (${this.sync.link.dir})`);
      for (const e of r.errors) this.opts.say(`not synced: ${e}`);
    } catch (err) {
      const unreachable = err instanceof ApiError && err.code === 'UNREACHABLE';
      this.backoff = Math.min(30_000, this.backoff ? this.backoff * 2 : 1000);
      this.opts.say(unreachable ? `${(err as Error).message}; local edits are kept, retrying in ${this.backoff / 1000}s` : `sync failed: ${(err as Error).message}`);
      if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') {
        this.opts.say('this device was refused (revoked?): run `syncgate client login` again');
        this.stopped = true;
      } else this.again = true;
    } finally {
      this.running = false;
    }
    if (this.again) this.schedule(this.backoff || undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }
}

export function watchLinks(links: LinkSync[], opts: WatchOptions): Watching {
  const runners = links.map((l) => new Runner(l, opts));
  const byRoot = new Map<string, Runner[]>();
  for (const r of runners) byRoot.set(r.sync.link.root, [...(byRoot.get(r.sync.link.root) ?? []), r]);
  const watchers = runners.map((r) =>
    watch(r.sync.link.dir, { ignoreInitial: true, ignored: (p) => isInternal(path.basename(p)) }).on('all', () => r.schedule()),
  );
  const ready = Promise.all(runners.map((r) => r.run())).then(() => undefined);

  let ws: WebSocket | null = null;
  let closed = false;
  let wsBackoff = 0;
  let reconnect: NodeJS.Timeout | null = null;
  let socketUp = false;
  let ticks = 0;
  const poll = setInterval(() => {
    // Paging instead of pushes while the socket is down; a slow safety pass while it is up.
    ticks += 1;
    if (!socketUp || ticks % 12 === 0) for (const r of runners) r.schedule(0);
  }, opts.pollMs ?? 5000);
  const connect = () => {
    if (closed) return;
    const u = new URL(WS_PATH, opts.url.replace(/^http/, 'ws'));
    ws = new WebSocket(u, { headers: { authorization: `Bearer ${opts.token}` } });
    ws.on('open', () => {
      socketUp = true;
      wsBackoff = 0;
      for (const r of runners) ws!.send(JSON.stringify({ type: 'subscribe', root: r.sync.link.root, after: r.sync.link.cursor }));
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
      // No debounce for pushes: the gateway already has the whole change.
      if (m.type === 'changes' && m.changes.some((c) => runners.some((r) => r.sync.isForeign(c)))) for (const r of byRoot.get(m.root) ?? []) r.schedule(0);
      if (m.type === 'error' && m.code === 'STALE_CURSOR') for (const r of byRoot.get(m.root ?? '') ?? []) r.schedule(0);
    });
    ws.on('error', () => undefined); // 'close' follows
    ws.on('close', () => {
      socketUp = false;
      if (closed) return;
      wsBackoff = Math.min(30_000, wsBackoff ? wsBackoff * 2 : 500);
      reconnect = setTimeout(connect, wsBackoff);
    });
  };
  void ready.then(connect);
  return {
    ready,
    async stop() {
      closed = true;
      clearInterval(poll);
      if (reconnect) clearTimeout(reconnect);
      ws?.terminate();
      await Promise.all(watchers.map((w) => w.close()));
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}
