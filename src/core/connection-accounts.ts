import type { Accounts, UserInfo } from './accounts.js';
import type { CoreContext } from './context.js';
import type { DeviceCursorInfo, DeviceInfo, Devices } from './devices.js';
import { fail } from './errors.js';
import type { LoginGuard } from './guard.js';
import type { Locks } from './locks.js';
import type { Properties } from './properties.js';
import type { Retention } from './retention.js';
import { parseConflictPolicy, parseRetention, type Roots } from './roots.js';
import { assertPasswordSession, assertPasswordSessionToGrant, type Session } from './session.js';
import type { ShareLinks } from './shares.js';
import type { AdminRootInfo, RetentionPolicy, RootInfo } from './types.js';
import type { ResumableUploads } from './uploads.js';
import type { VfsReader } from './vfs-read.js';
import type { VfsRestore } from './vfs-restore.js';
import type { VfsWriter } from './vfs-write.js';

/** The services a connection binds to its session; built once per core, shared by every connection. */
export interface CoreServices {
  ctx: CoreContext;
  roots: Roots;
  accounts: Accounts;
  guard: LoginGuard;
  locks: Locks;
  properties: Properties;
  retention: Retention;
  shares: ShareLinks;
  reader: VfsReader;
  writer: VfsWriter;
  restorer: VfsRestore;
  uploads: ResumableUploads;
  devices: Devices;
  now: () => number;
}

export interface TokenInfo {
  id: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/**
 * The account side of a connection: roots and their grants, the user's own tokens and devices,
 * and the admin operations. Every method checks the session itself; see connection.ts.
 */
export class AccountConnection {
  constructor(
    protected readonly core: CoreServices,
    readonly session: Session,
  ) {}

  /**
   * Refuses anyone but an admin (a share-link session never is one, whoever created the link).
   * Public: a door asks it for what is its own but an admin's only (the gateway's metrics, a route
   * group), instead of reading the session's flag itself.
   */
  requireAdmin(what = 'do this'): void {
    if (!this.session.user.isAdmin || this.session.scope) fail('PERMISSION_DENIED', `only an admin may ${what}`);
  }

  /** Refuses a share-link session: it stays inside its link and manages nothing. */
  protected requireAccount(): void {
    if (this.session.scope) fail('PERMISSION_DENIED', 'a share link cannot do this');
  }

  // Roots

  /** The roots the session may see. */
  roots(): RootInfo[] {
    return this.core.roots.list(this.session);
  }

  /**
   * Admin: every root with its owner, grants and retention, to manage them (grants, retention)
   * without access to their files: that still takes ownership or a grant.
   */
  adminRoots(): AdminRootInfo[] {
    this.requireAdmin();
    return this.core.roots.adminList(this.session);
  }

  async root(name: string): Promise<RootInfo> {
    const h = await this.core.roots.open(this.session, name, 'read');
    return this.core.roots.info(h.row, h.access);
  }

  /**
   * Admin: a new root over a server folder, owned by `owner` (the admin when absent). Another
   * owner is given that folder: a password session only (assertPasswordSessionToGrant).
   */
  async createRoot(name: string, dir: string, owner?: string, retention?: RetentionPolicy): Promise<RootInfo> {
    this.requireAdmin();
    const ownerId = owner === undefined ? this.session.user.id : this.core.accounts.user(owner).id;
    if (ownerId !== this.session.user.id) assertPasswordSessionToGrant(this.session, 'creating a root for another user');
    const row = await this.core.roots.create(name, dir, ownerId, retention);
    return this.core.roots.info(row, 'owner');
  }

  removeRoot(name: string): void {
    this.requireAdmin();
    this.core.roots.remove(name);
  }

  /** How long a root keeps old versions: an admin sets it for every root, visible to them or not; anyone else must own it. */
  async setRetention(name: string, policy: unknown): Promise<RootInfo> {
    await this.requireRootManager(name, 'the retention policy');
    this.core.roots.setRetention(name, policy);
    return this.managedRootInfo(name);
  }

  /** What an outdated base does in a root (ConflictPolicy): the same people as the retention decide it. */
  async setConflictPolicy(name: string, policy: unknown): Promise<RootInfo> {
    await this.requireRootManager(name, 'the conflict policy');
    this.core.roots.setConflictPolicy(name, policy);
    return this.managedRootInfo(name);
  }

  /** Several settings at once: each is checked before any is stored, so a bad one changes nothing. */
  async updateRoot(name: string, settings: { conflictPolicy?: unknown; retention?: unknown }): Promise<RootInfo> {
    await this.requireRootManager(name, "the root's settings");
    if (settings.retention !== undefined) parseRetention(settings.retention);
    if (settings.conflictPolicy !== undefined) parseConflictPolicy(settings.conflictPolicy);
    if (settings.retention !== undefined) this.core.roots.setRetention(name, settings.retention);
    if (settings.conflictPolicy !== undefined) this.core.roots.setConflictPolicy(name, settings.conflictPolicy);
    return this.managedRootInfo(name);
  }

  /**
   * A root's settings are its owner's or an admin's (an admin also for roots it cannot open).
   * Public so a door can refuse (404/403) before it reads a request body.
   */
  async requireRootManager(name: string, what = "the root's settings"): Promise<void> {
    this.requireAccount();
    if (this.session.user.isAdmin) return;
    const h = await this.core.roots.open(this.session, name, 'read');
    if (h.access !== 'owner') fail('PERMISSION_DENIED', `only the owner or an admin sets ${what}`);
  }

  private managedRootInfo(name: string): RootInfo {
    const row = this.core.ctx.roots.byName(name) ?? fail('NOT_FOUND', `root ${name} does not exist`);
    const access = row.ownerId === this.session.user.id ? 'owner' : (this.core.roots.accessOf(this.session, row) ?? 'write');
    return this.core.roots.info(row, access);
  }

  // Grants: only the root's owner or an admin. Giving or changing one needs a password session
  // (the grantee keeps it after a leaked token is revoked); taking one away does not.

  grants(root: string): Promise<{ user: string; mode: 'read' | 'write' }[]> {
    return this.core.roots.grants(this.session, root);
  }
  async grant(root: string, user: string, mode: 'read' | 'write'): Promise<{ user: string; mode: 'read' | 'write' }> {
    this.requireAccount();
    assertPasswordSessionToGrant(this.session, 'sharing a root with a user');
    return this.core.roots.grant(this.session, root, user, mode);
  }
  revokeGrant(root: string, user: string): Promise<void> {
    return this.core.roots.revokeGrant(this.session, root, user);
  }

  // The session's own account

  /** Changes the session user's password; the current one is checked first (counted by the guard). */
  async changePassword(current: string, next: string): Promise<void> {
    this.requireAccount();
    const s = this.session;
    await this.core.accounts.authenticate(s.user.name, current, { address: s.address, protocol: s.protocol });
    await this.core.accounts.setPassword(s.user.name, next);
  }

  /** A login session (web page cookie or bearer) for the session's user; its secret is returned once. */
  openLoginSession(ttlMs: number): { token: string; expiresAt: number } {
    this.requireAccount();
    assertPasswordSession(this.session, 'logging in to the web page or API');
    return this.core.accounts.openLoginSession(this.session.user, ttlMs, this.session.address ?? null);
  }
  closeLoginSession(token: string): void {
    this.core.accounts.closeLoginSession(token);
  }

  tokens(): TokenInfo[] {
    this.requireAccount();
    return this.core.accounts.tokens(this.session.user.id);
  }
  /** A new API token; its secret is returned once. */
  createToken(name: string): { id: number; name: string; token: string } {
    this.requireAccount();
    assertPasswordSession(this.session, 'creating an API token');
    return this.core.accounts.createToken(this.session.user.id, name);
  }
  revokeToken(id: number): void {
    this.requireAccount();
    this.core.accounts.revokeToken(this.session.user.id, id);
  }

  // Devices (companion clients). Pairing and per-root cursors belong to src/core/devices.ts.

  devices(): DeviceInfo[] {
    this.requireAccount();
    return this.core.devices.list(this.session.user.id);
  }
  /** A one-time code (short-lived, single use) a new companion client of this user logs in with. */
  pairDevice(): { code: string; expiresAt: number } {
    this.requireAccount();
    assertPasswordSession(this.session, 'creating a pairing code');
    return this.core.devices.pair(this.session.user.id);
  }
  /** Records how far this session's device applied a root's feed (the sync door, after each pass). */
  setDeviceCursor(root: string, cursor: number): Promise<DeviceCursorInfo> {
    return this.core.devices.setCursor(this.session, root, cursor);
  }
  /** Registers (or renames) the device with this uuid; its token is returned once. */
  registerDevice(uuid: string, name: string): { id: number; uuid: string; name: string; token: string } {
    this.requireAccount();
    // The companion client logs in with a password, an API token (`client login --token`) or a
    // pairing code; a device's own token never makes another device's.
    if (this.session.credential === 'device') fail('PERMISSION_DENIED', 'registering a device needs a password, an API token or a pairing code: a device token cannot make another');
    return this.core.accounts.registerDevice(this.session.user, uuid, name, this.session.address ?? null, this.session.tokenId ?? null);
  }
  revokeDevice(id: number): void {
    this.requireAccount();
    this.core.accounts.revokeDevice(this.session.user.id, id);
  }

  // Admin: users

  users(): UserInfo[] {
    this.requireAdmin();
    return this.core.accounts.users();
  }
  user(name: string): UserInfo {
    this.requireAdmin();
    return this.core.accounts.user(name);
  }
  /** A new account (an admin one too) would outlive a leaked admin token: a password session only. */
  createUser(name: string, password: string, isAdmin = false): Promise<UserInfo> {
    this.requireAdmin();
    assertPasswordSessionToGrant(this.session, 'creating a user');
    return this.core.accounts.createUser(name, password, isAdmin);
  }
  setUserDisabled(name: string, disabled: boolean): UserInfo {
    this.checkUserUpdate(name, { disabled });
    this.core.accounts.setDisabled(name, disabled);
    return this.core.accounts.user(name);
  }
  async setUserPassword(name: string, password: string): Promise<UserInfo> {
    this.checkUserUpdate(name, { password });
    await this.core.accounts.setPassword(name, password);
    return this.core.accounts.user(name);
  }
  /** Several changes at once: every check is made before any is stored, so a refused one changes nothing. */
  async updateUser(name: string, change: { disabled?: boolean; password?: string }): Promise<UserInfo> {
    this.checkUserUpdate(name, change);
    if (change.disabled !== undefined) this.core.accounts.setDisabled(name, change.disabled);
    if (change.password !== undefined) await this.core.accounts.setPassword(name, change.password);
    return this.core.accounts.user(name);
  }
  /**
   * An admin cannot disable their own account: nobody might be left to undo it. Setting a password
   * or enabling an account hands it to whoever knows the password: a password session only, so a
   * leaked admin token keeps no account; disabling one takes access away and stays open to tokens.
   */
  private checkUserUpdate(name: string, change: { disabled?: boolean; password?: string }): void {
    this.requireAdmin();
    this.core.accounts.user(name);
    if (change.password !== undefined) assertPasswordSessionToGrant(this.session, "setting a user's password");
    if (change.disabled === false) assertPasswordSessionToGrant(this.session, 'enabling a user');
    if (change.disabled && name === this.session.user.name) fail('INVALID_INPUT', 'you cannot disable yourself');
  }
  deleteUser(name: string): void {
    this.requireAdmin();
    if (name === this.session.user.name) fail('INVALID_INPUT', 'you cannot delete yourself');
    this.core.accounts.deleteUser(name);
  }
}
