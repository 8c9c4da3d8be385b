import type { Session } from './session.js';
import type { Vfs } from './vfs.js';

/** 'ended': the shared file or folder was deleted, and the link with it. */
export type ShareState = 'active' | 'expired' | 'exhausted' | 'revoked' | 'ended';

export interface ShareLinkInfo {
  id: number;
  root: string;
  path: string;
  /** Last path segment ('' for a whole root: the root's name is shown instead). */
  name: string;
  kind: 'file' | 'dir';
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  hasPassword: boolean;
  maxDownloads: number | null;
  downloads: number;
  uploadOnly: boolean;
  revokedAt: number | null;
  /** When the shared entry was deleted (the link ended with it). */
  endedAt: number | null;
  state: ShareState;
}

export interface ShareAccessInfo {
  at: number;
  action: string;
  address: string | null;
  userAgent: string | null;
  bytes: number;
  path: string | null;
}

export interface CreateShareInput {
  root: string;
  path: string;
  /** Epoch ms; null/absent = never. */
  expiresAt?: number | null;
  /** Instead of expiresAt: this many seconds from now, on the core's clock. */
  expiresInSec?: number;
  password?: string | null;
  /** Downloads allowed (uploads, for a drop link); null/absent = unlimited. */
  maxDownloads?: number | null;
  uploadOnly?: boolean;
}

export interface AccessMeta {
  address?: string | null;
  userAgent?: string | null;
  requestId?: string;
}

/** What a door gets for a valid token: the link and a restricted session acting as its creator. */
export interface OpenedShare {
  link: ShareLinkInfo;
  root: string;
  session: Session;
}

export interface ShareLinksOptions {
  /** How long a password cookie stays valid (the link itself is checked on every request anyway). */
  cookieTtlMs?: number;
  now?: () => number;
  /** Largest file an anonymous visitor may drop through a link (bytes; 0 = only the caller's cap). */
  dropMaxFileBytes?: number;
  /** Files a drop link accepts when its creator set no limit (0 = unlimited). */
  dropMaxFiles?: number;
  /** Drop uploads in progress at once through one link (one client address holds at most half, at least 1). */
  dropMaxOpenUploads?: number;
  /** Where drops are written (the core's Vfs); drop() needs it. */
  vfs?: Vfs;
  /** Entries of one link's access log kept, the newest (10,000: as many as the log is ever shown). */
  accessLogKeep?: number;
}

/**
 * One counted use of a link: a download that sends content, or a drop upload. Counted when it
 * starts, so two requests cannot both take the last one; given back by cancel() when the use did
 * not happen after all (a server-side failure, a refused upload).
 */
export interface ShareUse {
  /** Idempotent; a use that sent content to a client who then went away is not cancelled. */
  cancel(): void;
}

export interface DropOptions extends AccessMeta {
  /** The size the sender announced (HTTP Content-Length): refused at once when over the cap. */
  declaredSize?: number;
  /** The door's own cap (e.g. the server's largest upload), applied with the link's. */
  maxSize?: number;
}
