import { EventEmitter } from 'node:events';
import type { Change } from './types.js';

export type ChangeListener = (change: Change) => void;

/**
 * The in-process event stream: every committed change, per root, in sequence order.
 * Subscribers (SSE, sync push, watchers of tests) must not throw; a throwing listener is dropped.
 */
export class ChangeBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  subscribe(rootId: number, listener: ChangeListener): () => void {
    const key = `root:${rootId}`;
    const safe = (change: Change) => {
      try {
        listener(change);
      } catch {
        this.emitter.off(key, safe);
      }
    };
    this.emitter.on(key, safe);
    return () => this.emitter.off(key, safe);
  }

  publish(rootId: number, change: Change): void {
    this.emitter.emit(`root:${rootId}`, change);
  }
}
