import { randomInt } from 'node:crypto';
import { DevicesRepo } from '../db/devices-repo.js';
import { sha256Hex } from '../lib/ids.js';
import type { Accounts } from './accounts.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import type { LoginGuard } from './guard.js';
import type { Roots } from './roots.js';
import type { Session, SessionUser } from './session.js';

/** Pairing codes avoid letters people confuse (0/O, 1/I/L); 10 of 31 symbols: about 50 bits. */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_LENGTH = 10;
export const PAIRING_TTL_MS = 10 * 60_000;

export interface DeviceCursorInfo {
  root: string;
  /** The last seq of the root's feed the device applied. */
  cursor: number;
  /** The root's seq now: `behind` = seq - cursor changes to go. */
  seq: number;
  behind: number;
  updatedAt: number;
}

export interface DeviceInfo {
  id: number;
  uuid: string;
  name: string;
  lastAddress: string | null;
  lastSeenAt: number | null;
  revoked: boolean;
  roots: DeviceCursorInfo[];
}

export interface DeviceLogin {
  uuid: string;
  name: string;
  address: string | null;
}

export type DeviceCredentials = { user: string; password: string } | { pairingCode: string };

/**
 * Companion client devices: pairing codes, login (password, API token or pairing code) to a device
 * token, and each device's cursor per root. Tokens are kept hashed by Accounts.
 */
export class Devices {
  private readonly repo: DevicesRepo;

  constructor(
    private readonly ctx: CoreContext,
    private readonly accounts: Accounts,
    private readonly roots: Roots,
    private readonly guard: LoginGuard,
    private readonly now: () => number = Date.now,
  ) {
    this.repo = new DevicesRepo(ctx.db);
  }

  /** A one-time code a new device logs in with, valid for `ttlMs` (printed once, only its hash kept). */
  pair(userId: number, ttlMs = PAIRING_TTL_MS): { code: string; expiresAt: number } {
    if (!this.ctx.accounts.userById(userId)) fail('NOT_FOUND', 'the user does not exist');
    let code = '';
    for (let i = 0; i < CODE_LENGTH; i += 1) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    const expiresAt = this.now() + ttlMs;
    this.repo.addPairingCode(userId, sha256Hex(normalizeCode(code)), expiresAt);
    return { code: `${code.slice(0, 5)}-${code.slice(5)}`, expiresAt };
  }

  /** Registers (or re-registers) a device; the token is returned once. */
  async login(creds: DeviceCredentials, device: DeviceLogin): Promise<{ id: number; uuid: string; name: string; token: string; user: string }> {
    let userId: number;
    let tokenId: number | undefined;
    if ('pairingCode' in creds) {
      userId = this.redeemPairingCode(creds.pairingCode, device.address).id;
    } else {
      const as = await this.accounts.authenticateAs(creds.user, creds.password, { address: device.address ?? undefined, protocol: 'sync' });
      userId = as.user.id;
      tokenId = as.tokenId;
    }
    const u = this.ctx.accounts.userById(userId);
    if (!u || u.disabled) fail('UNAUTHENTICATED', 'the account is disabled');
    const d = this.accounts.registerDevice({ id: u.id, name: u.name, isAdmin: u.isAdmin }, device.uuid, device.name, device.address, tokenId ?? null);
    return { ...d, user: u.name };
  }

  /** The user a one-time pairing code was made for; the code is used up (counted by the login guard when wrong). */
  redeemPairingCode(code: string, address: string | null | undefined): SessionUser {
    this.guard.check(address ?? undefined, undefined);
    const used = this.repo.consumePairingCode(sha256Hex(normalizeCode(code)), this.now());
    if (used === undefined) {
      this.guard.failed(address ?? undefined, undefined);
      fail('UNAUTHENTICATED', 'unknown, used or expired pairing code');
    }
    const u = this.ctx.accounts.userById(used);
    if (!u || u.disabled) fail('UNAUTHENTICATED', 'the account is disabled');
    return { id: u.id, name: u.name, isAdmin: u.isAdmin };
  }

  /** Records how far the session's device applied a root's feed. */
  async setCursor(session: Session, root: string, cursor: number): Promise<DeviceCursorInfo> {
    if (!session.device) fail('PERMISSION_DENIED', 'only a device has a cursor');
    if (!Number.isSafeInteger(cursor) || cursor < 0) fail('INVALID_INPUT', 'a cursor is a non-negative integer');
    const h = await this.roots.open(session, root, 'read');
    const seq = this.ctx.files.lastSeq(h.row.id);
    if (cursor > seq) fail('PRECONDITION_FAILED', `cursor ${cursor} is beyond the root's feed (${seq}): rescan`, { reason: 'stale-cursor', seq });
    this.repo.setCursor(session.device.id, h.row.id, cursor);
    return { root: h.row.name, cursor, seq, behind: seq - cursor, updatedAt: this.now() };
  }

  /** A user's devices, each with its cursor per root and how many changes it is behind. */
  list(userId: number): DeviceInfo[] {
    return this.ctx.accounts.devicesOf(userId).map((d) => ({
      id: d.id,
      uuid: d.uuid,
      name: d.name,
      lastAddress: d.lastAddress,
      lastSeenAt: d.lastSeenAt,
      revoked: d.revokedAt !== null,
      roots: this.repo.cursorsOf(d.id).flatMap((c) => {
        const row = this.ctx.roots.byId(c.rootId);
        if (!row) return [];
        const seq = this.ctx.files.lastSeq(row.id);
        return [{ root: row.name, cursor: c.cursor, seq, behind: Math.max(0, seq - c.cursor), updatedAt: c.updatedAt }];
      }),
    }));
  }

  revoke(userId: number, id: number): void {
    this.accounts.revokeDevice(userId, id);
  }
}

function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[^0-9A-Z]/g, '');
}
