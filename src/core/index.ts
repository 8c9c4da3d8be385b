import type { Logger } from 'pino';
import { openDb, closeDb } from '../db/index.js';
import { LoginFailuresRepo } from '../db/guard-repo.js';
import { ContentStore } from '../storage/content-store.js';
import type { KdfCost } from '../lib/kdf.js';
import { Accounts } from './accounts.js';
import { authenticate, type AuthMeta, type Credential } from './authenticate.js';
import { Connection } from './connection.js';
import type { CoreServices } from './connection-accounts.js';
import { createContext, type CoreContext } from './context.js';
import { Devices } from './devices.js';
import { LoginGuard, type GuardOptions } from './guard.js';
import { Locks } from './locks.js';
import { Properties } from './properties.js';
import { Reconciler } from './reconcile.js';
import { Retention } from './retention.js';
import { Roots } from './roots.js';
import { ShareLinks, type AccessMeta, type OpenedShare, type ShareLinksOptions } from './shares.js';
import { VfsReader } from './vfs-read.js';
import { Vfs } from './vfs.js';
import { VfsWriter } from './vfs-write.js';
import { DiskEdits } from './disk-edits.js';
import { VfsRestore } from './vfs-restore.js';
import { ResumableUploads, type UploadLimits } from './uploads.js';
import { startCore, type StartOptions } from './start.js';
import type { Session } from './session.js';

export interface CoreOptions {
  dataDir: string;
  dbFile: string;
  log: Logger;
  kdf: KdfCost;
  guard: GuardOptions;
  /** File names neither stored nor listed (e.g. '.DS_Store', '._*'). */
  ignoredNames?: string[];
  /** Folders inside which the API may make roots; empty: only inside the data folder. */
  allowedRootParents?: string[];
  /**
   * An admin command beside a running gateway (the CLI): it must not drop the gateway's staging
   * files, which a start-up otherwise clears as leftovers of a crash.
   */
  beside?: boolean;
  /** Limits of share links (drop caps); see ShareLinksOptions. */
  shares?: Pick<ShareLinksOptions, 'dropMaxFileBytes' | 'dropMaxFiles' | 'dropMaxOpenUploads'>;
  /** The largest file any door may write (bytes; 0 = no cap). */
  maxFileBytes?: number;
  /** Limits of resumable uploads; see UploadLimits. */
  uploads?: UploadLimits;
  /** The clock of expiries (share links, uploads, locks, login bans, sessions) and the change feed's access checks; tests set it. */
  now?: () => number;
  /** How the core waits on that clock (the login guard's slow-down); tests pass one that moves their clock. */
  sleep?: (ms: number) => Promise<void>;
  /** A login session (cookie or bearer) unused this long ends; 12 hours when absent. */
  sessionIdleMs?: number;
}

/** What a door gets: the connection, authentication, share links, and the core's life. */
export interface Core {
  /** The one way in for a door: every rule, bound to the session (see connection.ts). */
  connect(session: Session): Connection;
  /** Checks any credential (counted by the login guard) and returns the session to connect with. */
  authenticate(cred: Credential, meta: AuthMeta): Promise<Session>;
  /** Opens a share link by its token: the link and a session confined to it. */
  openShare(token: string, auth: { password?: string; cookie?: string }, meta?: AccessMeta): Promise<OpenedShare>;
  /** Start-up restorer before any door opens: see start.ts. */
  start(opts?: StartOptions): Promise<void>;
  close(): void;
}

/**
 * The core with its services in reach: for the composition root (src/app), the admin CLI and
 * tests. Doors are handed the narrow `Core`, so none of these is reachable from protocols/.
 */
export interface CoreParts extends Core {
  ctx: CoreContext;
  vfs: Vfs;
  roots: Roots;
  accounts: Accounts;
  locks: Locks;
  properties: Properties;
  retention: Retention;
  guard: LoginGuard;
  shares: ShareLinks;
  devices: Devices;
  writer: VfsWriter;
  reader: VfsReader;
  /** Edits made on disk by other programs: the watcher's and start-up's way in. */
  diskEdits: DiskEdits;
}

/** Builds the core over a data folder: metadata database, content store, services. */
export async function createCore(opts: CoreOptions): Promise<CoreParts> {
  const store = new ContentStore(opts.dataDir);
  await store.init({ dropStaging: !opts.beside });
  const db = openDb(opts.dbFile);
  const now = opts.now ?? Date.now;
  const ctx = createContext(db, store, opts.log.child({ category: 'core' }), opts.ignoredNames, now);
  const roots = new Roots(ctx, opts.allowedRootParents);
  const guard = new LoginGuard(opts.guard, new LoginFailuresRepo(db), now, opts.sleep);
  const accounts = new Accounts(ctx, guard, opts.kdf, { now, sessionIdleMs: opts.sessionIdleMs });
  const locks = new Locks(ctx);
  const properties = new Properties(ctx);
  const retention = new Retention(ctx);
  const reconciler = new Reconciler(ctx);
  const reader = new VfsReader(ctx, roots, reconciler);
  const writer = new VfsWriter(ctx, roots, reconciler, locks, properties, retention, opts.maxFileBytes);
  const diskEdits = new DiskEdits(ctx, roots, reconciler, writer);
  const restorer = new VfsRestore(ctx, roots, reconciler, locks, reader, writer);
  const vfs = new Vfs(reader, writer, restorer);
  const shares = new ShareLinks(ctx, roots, accounts, guard, { now, ...opts.shares, vfs });
  const uploads = new ResumableUploads(store.uploadDir, roots, writer, now, undefined, opts.uploads);
  const devices = new Devices(ctx, accounts, roots, guard, now);
  const services: CoreServices = { ctx, roots, accounts, guard, locks, properties, retention, shares, reader, writer, restorer, uploads, devices, now };
  return {
    connect: (session) => new Connection(services, session),
    authenticate: (cred, meta) => authenticate(accounts, devices, cred, meta),
    openShare: (token, auth, meta) => shares.open(token, auth, meta),
    start: (startOpts) => startCore({ ctx, roots, diskEdits, retention, log: opts.log }, startOpts),
    ctx, vfs, roots, accounts, locks, properties, retention, guard, shares, devices, writer, reader, diskEdits, close: () => {
      store.close();
      ctx.durable.close();
      closeDb(db);
    },
  };
}

export * from './errors.js';
export * from './session.js';
export * from './types.js';
export type { Vfs } from './vfs.js';
export type { ReadResult, ReadOptions, ChangePage } from './vfs-read.js';
export type { WriteOptions, MoveOptions, CopyOptions } from './vfs-write.js';
export type { LockRow, LockRequest } from './locks.js';
export type { DeadProperty } from './properties.js';
export type { UserInfo } from './accounts.js';
export type { RootHandle } from './roots.js';
export type { DeviceCursorInfo, DeviceCredentials, DeviceInfo } from './devices.js';
export type { BriefListPage, Connection, ListPage, LockInfo } from './connection.js';
export type { StartOptions } from './start.js';
export type { TokenInfo } from './connection-accounts.js';
export type { Follower, FollowOptions } from './follower.js';
export type { NewUpload, UploadInfo, AppendResult } from './uploads.js';
export type { ShareLinkInfo, ShareAccessInfo, OpenedShare, CreateShareInput, AccessMeta, ShareUse, DropOptions } from './shares.js';
export type { Credential, AuthMeta } from './authenticate.js';
