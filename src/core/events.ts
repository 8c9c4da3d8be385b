import { EventEmitter } from 'node:events';
import type { Change } from './types.js';

export type ChangeListener = (change: Change) => void;

/**
 * Changes published together and made only when a listener asks: a folder's move or delete is one
 * record of up to thousands of per-path changes (FOLDER_RECORD, db/schema/files.ts), and a listener
 * that wants folders only (the watcher, which watches folders) should not cost the making of them all.
 * Each list is made at most once, in seq order.
 */
export class ChangeBatch {
  private every: Change[] | undefined;
  private folders: Change[] | undefined;

  constructor(
    /** The seq of its first change. */
    readonly firstSeq: number,
    private readonly read: (foldersOnly: boolean) => Change[],
  ) {}

  all(): Change[] {
    return (this.every ??= this.read(false));
  }

  /** Its changes of folders only (from `all` if that was made already). */
  dirs(): Change[] {
    return (this.folders ??= this.every ? this.every.filter((c) => c.kind === 'dir') : this.read(true));
  }
}

export interface SubscribeOptions {
  /** The listener looks at changes of folders only: a batch gives it those alone (others may still come). */
  dirsOnly?: boolean;
}

/**
 * The in-process event stream: every committed change, per root, in sequence order.
 * Subscribers (SSE, sync push, watchers of tests) must not throw; a throwing listener is dropped.
 */
export class ChangeBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  subscribe(rootId: number, listener: ChangeListener, opts: SubscribeOptions = {}): () => void {
    const key = `root:${rootId}`;
    const safe = (event: Change | ChangeBatch) => {
      try {
        if (!(event instanceof ChangeBatch)) return listener(event);
        for (const change of opts.dirsOnly ? event.dirs() : event.all()) listener(change);
      } catch {
        this.emitter.off(key, safe);
      }
    };
    this.emitter.on(key, safe);
    return () => this.emitter.off(key, safe);
  }

  publish(rootId: number, change: Change | ChangeBatch): void {
    this.emitter.emit(`root:${rootId}`, change);
  }
}
