import { fail } from './errors.js';

/** Who acts, from where. Doors build one per request/connection and hand it to the core. */
export type Protocol = 'webdav' | 'ftp' | 'rest' | 'share' | 'sync' | 'local' | 'cli' | 'core';

export interface SessionUser {
  id: number;
  name: string;
  isAdmin: boolean;
}

export interface SessionDevice {
  id: number;
  name: string;
}

/**
 * A restriction to one root and one subtree, used by share links: `mode` 'read' allows reads,
 * 'write' reads and writes, 'upload' only creating new files (a drop box).
 */
export interface SessionScope {
  rootId: number;
  path: string;
  mode: 'read' | 'write' | 'upload';
  /** The share link the session was opened through (its uses are counted and logged against it). */
  linkId?: number;
}

/**
 * What opened the session. Only a password (or a login session it opened) shows the account holder
 * is there: an API token, a device token or a pairing code may have leaked, and what it could make
 * would outlive its revocation. So new secrets (API tokens, pairing codes, login sessions) need a
 * password session, as Nextcloud refuses app passwords making app passwords (mayMakeSecrets). So
 * does handing out access that another account keeps (creating users, setting or resetting another
 * user's password, enabling one, grants, a root for another owner): a leaked admin token could
 * otherwise leave an account of its own behind.
 */
export type SessionCredential = 'password' | 'login-session' | 'token' | 'device' | 'pairing-code';

export interface Session {
  user: SessionUser;
  /**
   * Set by authenticate() for every session a door opens; absent only for sessions the process
   * builds for itself (the admin CLI, the disk watcher, tests), which no secret stands behind.
   */
  credential?: SessionCredential;
  /** The API token that opened it (credential 'token'): a device it registers is revoked with it. */
  tokenId?: number;
  device: SessionDevice | null;
  protocol: Protocol;
  requestId: string;
  scope?: SessionScope;
  /** Lock tokens the client presented (WebDAV If: header); writes to locked paths need one. */
  lockTokens?: string[];
  address?: string;
}

/** The actor for edits made directly on disk by other programs. */
export const LOCAL_USER: SessionUser = { id: 0, name: 'local', isAdmin: true };

export function systemSession(protocol: Protocol = 'core', requestId = 'system'): Session {
  return { user: LOCAL_USER, device: null, protocol, requestId };
}

/** Refuses (PERMISSION_DENIED) `what` to a session a token or pairing code opened: see SessionCredential. */
export function assertPasswordSession(session: Session, what: string, because = 'make new secrets'): void {
  const c = session.credential;
  if (c === 'token' || c === 'device' || c === 'pairing-code') {
    fail('PERMISSION_DENIED', `${what} needs a password login (user name and password, or the web page): a session opened by ${CREDENTIAL_NAMES[c]} cannot ${because}`);
  }
}

/** The same refusal for giving an account access: it would outlive the token's revocation. */
export function assertPasswordSessionToGrant(session: Session, what: string): void {
  assertPasswordSession(session, what, 'give access that would outlive it');
}

const CREDENTIAL_NAMES = { token: 'an API token', device: 'a device token', 'pairing-code': 'a pairing code' } as const;

/** Name used in conflict copies: the device when there is one, else user and door. */
export function actorLabel(session: Session): string {
  return session.device?.name ?? `${session.user.name} via ${session.protocol}`;
}
