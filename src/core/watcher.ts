import type { Core } from './index.js';

export interface WatcherOptions {
  maxWatchedFiles: number;
}

export interface RootWatcher {
  close(): Promise<void>;
}

/** Placeholder: replaced by the chokidar watcher. */
export async function startWatcher(_core: Core, _opts: WatcherOptions): Promise<RootWatcher> {
  return { close: async () => {} };
}
