import type { Logger } from 'pino';
import { commitUnsynced, walFileOf, type Db } from '../db/index.js';
import { ConflictsRepo } from '../db/conflicts-repo.js';
import { FilesRepo } from '../db/files-repo.js';
import { HistoryRepo } from '../db/history-repo.js';
import { RootsRepo } from '../db/roots-repo.js';
import { AccountsRepo } from '../db/accounts-repo.js';
import type { ContentStore } from '../storage/content-store.js';
import { Durability } from './durability.js';
import { ChangeBus } from './events.js';

/** What every core service shares; built once per gateway by the composition root. */
export interface CoreContext {
  db: Db;
  files: FilesRepo;
  history: HistoryRepo;
  conflicts: ConflictsRepo;
  roots: RootsRepo;
  accounts: AccountsRepo;
  store: ContentStore;
  bus: ChangeBus;
  /** One queue per root (commits of a root never interleave), and the group commit that makes them durable. */
  durable: Durability;
  log: Logger;
  /** Names matched by this are neither recorded nor listed (AppleDouble, our own temp files). */
  isIgnoredName: (name: string) => boolean;
  /** The core's clock (CoreOptions.now): expiries of locks, retention ages, link ends; tests set it. */
  now: () => number;
  /** The watcher while it runs (core/watcher.ts): what it can vouch for saves a walk of the disk. */
  diskWatch: DiskWatch | null;
}

/** What the running watcher offers the core. */
export interface DiskWatch {
  /**
   * True when every edit made on disk at or below `rel` before this call is already recorded or is
   * left to nobody: every folder of that tree is watched, the events the kernel queued have been
   * read, and none of them is still waiting for its reconcile: then the live folders recorded at or
   * below `rel` (each one watched), which the caller checks further without reading them again.
   * Null whenever it cannot tell.
   */
  vouchesFor(rootId: number, rel: string): Promise<string[] | null>;
}

export function createContext(db: Db, store: ContentStore, log: Logger, ignoredNames: string[] = [], now: () => number = Date.now): CoreContext {
  const ignored = new Set(ignoredNames);
  const bus = new ChangeBus();
  return {
    db,
    files: new FilesRepo(db),
    history: new HistoryRepo(db),
    conflicts: new ConflictsRepo(db),
    roots: new RootsRepo(db),
    accounts: new AccountsRepo(db),
    store,
    bus,
    durable: new Durability(() => commitUnsynced(db), walFileOf(db), store, bus, log),
    log,
    now,
    diskWatch: null,
    isIgnoredName: (name) => name.startsWith('.syncgate-') || ignored.has(name) || (ignored.has('._*') && name.startsWith('._')),
  };
}
