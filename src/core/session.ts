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

export interface Session {
  user: SessionUser;
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

/** Name used in conflict copies: the device when there is one, else user and door. */
export function actorLabel(session: Session): string {
  return session.device?.name ?? `${session.user.name} via ${session.protocol}`;
}
