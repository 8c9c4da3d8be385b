import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { RootRow } from '../db/roots-repo.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import type { Session } from './session.js';
import { revokeLinksOfCreator } from './shares.js';
import { CONFLICT_POLICIES, type AdminRootInfo, type ConflictPolicy, type RetentionPolicy, type RootInfo } from './types.js';

export type Need = 'read' | 'write';

export interface RootHandle {
  row: RootRow;
  /** Real (symlink-free) absolute path of the root folder. */
  dir: string;
  /** In the data folder, on its disk: metadata calls there are made directly (ContentStore.isLocal). */
  local: boolean;
  access: 'owner' | 'read' | 'write';
}

export const retentionSchema: z.ZodType<RetentionPolicy> = z.union([
  z.object({ mode: z.literal('all') }),
  z.object({ mode: z.literal('count'), keep: z.number().int().min(1) }),
  z.object({ mode: z.literal('days'), days: z.number().positive() }),
  z.object({ mode: z.literal('staggered'), maxAgeDays: z.number().positive() }),
]);

export function parseRetention(policy: unknown): RetentionPolicy {
  const parsed = retentionSchema.safeParse(policy);
  if (!parsed.success) fail('INVALID_INPUT', `not a retention policy: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

export function parseConflictPolicy(policy: unknown): ConflictPolicy {
  if (!CONFLICT_POLICIES.includes(policy as ConflictPolicy)) fail('INVALID_INPUT', `not a conflict policy: use one of ${CONFLICT_POLICIES.join(', ')}`);
  return policy as ConflictPolicy;
}

const ROOT_NAME = /^[\p{L}\p{N}][\p{L}\p{N}._ -]{0,63}$/u;

export interface CreateRootOptions {
  /**
   * Made by the operator on the machine (the CLI, the configured default root at first start):
   * anywhere the overlap rules allow. Everything else (the API) only inside the allowed parents.
   */
  operator?: boolean;
}

/** Roots, and who may do what in them. Every core operation starts with `open`. */
export class Roots {
  private realDirs = new Map<number, { dir: string; local: boolean }>();

  /**
   * `allowedParents`: the folders (absolute) inside which the API may make roots; empty means
   * only inside the data folder. A stolen admin credential must not turn any host folder
   * (/etc, a home directory) into a root it can then read and write (issue 22).
   */
  constructor(
    private readonly ctx: CoreContext,
    private readonly allowedParents: readonly string[] = [],
  ) {}

  async create(name: string, dir: string, ownerId: number | null, retention: RetentionPolicy = { mode: 'all' }, opts: CreateRootOptions = {}): Promise<RootRow> {
    if (!ROOT_NAME.test(name)) fail('INVALID_INPUT', 'a root name is 1-64 letters, digits, spaces, dots, dashes or underscores');
    if (this.ctx.roots.byName(name)) fail('ALREADY_EXISTS', `root ${name} already exists`);
    const abs = path.resolve(dir);
    await this.refuseOverlap(abs);
    if (!opts.operator) await this.refuseOutsideAllowed(abs);
    await mkdir(abs, { recursive: true });
    return this.ctx.roots.create(name, abs, ownerId, JSON.stringify(retentionSchema.parse(retention)));
  }

  /** Symlinks resolved on both sides: a link inside an allowed parent pointing elsewhere is outside. */
  private async refuseOutsideAllowed(abs: string): Promise<void> {
    const real = await realpathLoose(abs);
    const parents = this.allowedParents.length > 0 ? this.allowedParents : [this.ctx.store.dataDir];
    for (const parent of parents) if (within(real, await realpathLoose(path.resolve(parent)))) return;
    fail('PERMISSION_DENIED', 'roots may only be made inside the folders the operator allows (roots.allowedParents)');
  }

  /**
   * A root holding the data folder would expose the database and every root's history to its
   * users; nested roots would let one root's users change another's files outside its grants.
   */
  private async refuseOverlap(abs: string): Promise<void> {
    const real = await realpathLoose(abs);
    const store = this.ctx.store;
    if (within(await realpathLoose(store.dataDir), real)) fail('INVALID_INPUT', 'a root folder may not contain the data folder');
    for (const internal of [store.blobDir, store.tempDir, store.uploadDir]) {
      if (within(real, await realpathLoose(internal))) fail('INVALID_INPUT', 'a root folder may not lie inside the data folder\'s internal folders');
    }
    for (const other of this.ctx.roots.all()) {
      const o = await realpathLoose(other.dir);
      if (within(real, o) || within(o, real)) fail('INVALID_INPUT', `the folder overlaps the folder of root ${other.name}`);
    }
  }

  remove(name: string): void {
    const row = this.ctx.roots.byName(name) ?? fail('NOT_FOUND', `root ${name} does not exist`);
    this.ctx.roots.remove(row.id);
    this.realDirs.delete(row.id);
  }

  accessOf(session: Session, row: RootRow): 'owner' | 'read' | 'write' | null {
    const own = session.user.id === 0 || row.ownerId === session.user.id ? 'owner' : (this.ctx.roots.grantOf(row.id, session.user.id)?.mode ?? null);
    if (!session.scope) return own;
    // A share link acts as its creator: it never outlives nor exceeds the creator's own access.
    if (session.scope.rootId !== row.id || own === null) return null;
    return session.scope.mode === 'read' || own === 'read' ? 'read' : 'write';
  }

  /**
   * Resolves a root by name for a session; an invisible root is reported as not found. Not async:
   * once the root's folder is known the handle comes back as a value (callers await it either way,
   * and a refusal thrown here rejects their async function just the same).
   */
  open(session: Session, name: string, need: Need): RootHandle | Promise<RootHandle> {
    const row = this.ctx.roots.byName(name.normalize('NFC'));
    const access = row ? this.accessOf(session, row) : null;
    if (!row || !access) fail('NOT_FOUND', `root ${name} does not exist`);
    if (need === 'write' && access === 'read') fail('PERMISSION_DENIED', `read-only access to root ${name}`);
    return this.handle(row, access);
  }

  async openById(rootId: number): Promise<RootHandle> {
    const row = this.ctx.roots.byId(rootId) ?? fail('NOT_FOUND', 'root does not exist');
    return this.handle(row, 'owner');
  }

  /**
   * Without a wait once the root's folder is known: every request of every door opens its root, and
   * an async step here (an await, then a promise returned from the caller's async function) cost
   * each one three more microtask hops.
   */
  private handle(row: RootRow, access: RootHandle['access']): RootHandle | Promise<RootHandle> {
    const known = this.realDirs.get(row.id);
    if (known) return { row, dir: known.dir, local: known.local, access };
    return this.realDir(row).then(({ dir, local }) => ({ row, dir, local, access }));
  }

  list(session: Session): RootInfo[] {
    const out: RootInfo[] = [];
    for (const row of this.ctx.roots.all()) {
      const access = this.accessOf(session, row);
      if (!access) continue;
      out.push(this.info(row, access));
    }
    return out;
  }

  info(row: RootRow, access: RootInfo['access']): RootInfo {
    const owner = row.ownerId === null ? null : (this.ctx.accounts.userById(row.ownerId)?.name ?? null);
    return { id: row.id, name: row.name, owner, access, retention: JSON.parse(row.retention) as RetentionPolicy, conflictPolicy: row.conflictPolicy, seq: this.ctx.files.lastSeq(row.id) };
  }

  /** The users a root is shared with; only its owner or an admin sees them. */
  async grants(session: Session, name: string): Promise<{ user: string; mode: 'read' | 'write' }[]> {
    const row = await this.owned(session, name);
    return this.ctx.roots.grantsOfRoot(row.id).map((g) => ({ user: g.userName, mode: g.mode }));
  }

  async grant(session: Session, name: string, userName: string, mode: 'read' | 'write'): Promise<{ user: string; mode: 'read' | 'write' }> {
    const row = await this.owned(session, name);
    const user = this.ctx.accounts.userByName(userName) ?? fail('NOT_FOUND', `user ${userName} does not exist`);
    if (user.id === row.ownerId) fail('INVALID_INPUT', 'the owner already has full access');
    // Managing a root is not reading it: an admin does not hand itself access to others' files.
    if (user.id === session.user.id) fail('PERMISSION_DENIED', 'you cannot share a root with yourself');
    this.ctx.roots.grant(row.id, user.id, mode);
    if (mode !== 'write') revokeLinksOfCreator(this.ctx, row.id, user.id);
    return { user: user.name, mode };
  }

  async revokeGrant(session: Session, name: string, userName: string): Promise<void> {
    const row = await this.owned(session, name);
    const user = this.ctx.accounts.userByName(userName) ?? fail('NOT_FOUND', `user ${userName} does not exist`);
    if (!this.ctx.roots.grantOf(row.id, user.id)) fail('NOT_FOUND', `root ${row.name} is not shared with ${user.name}`);
    this.ctx.roots.revoke(row.id, user.id);
    revokeLinksOfCreator(this.ctx, row.id, user.id);
  }

  /**
   * Every root with its owner, grants and retention, for an admin managing them: no file of any
   * root is opened here, and managing a root gives the admin no access to its files (least
   * privilege: reading them still needs ownership or a grant). The caller checks the admin.
   */
  adminList(session: Session): AdminRootInfo[] {
    return this.ctx.roots.all().map((row) => {
      const owner = row.ownerId === null ? null : (this.ctx.accounts.userById(row.ownerId)?.name ?? null);
      const grants = this.ctx.roots.grantsOfRoot(row.id).map((g) => ({ user: g.userName, mode: g.mode }));
      return { name: row.name, owner, access: this.accessOf(session, row), retention: JSON.parse(row.retention) as RetentionPolicy, conflictPolicy: row.conflictPolicy, grants };
    });
  }

  /**
   * Only the owner (or an admin) decides who a root is shared with; a share link never does. An
   * admin manages every root, also those it cannot open (and is not given access to them by it).
   */
  private async owned(session: Session, name: string): Promise<RootRow> {
    if (session.scope) fail('PERMISSION_DENIED', 'a share link cannot share a root');
    if (session.user.isAdmin) return this.ctx.roots.byName(name.normalize('NFC')) ?? fail('NOT_FOUND', `root ${name} does not exist`);
    const h = await this.open(session, name, 'read');
    if (h.access !== 'owner') fail('PERMISSION_DENIED', 'only the owner shares a root');
    return h.row;
  }

  setRetention(name: string, policy: unknown): void {
    const row = this.ctx.roots.byName(name) ?? fail('NOT_FOUND', `root ${name} does not exist`);
    this.ctx.roots.setRetention(row.id, JSON.stringify(parseRetention(policy)));
  }

  setConflictPolicy(name: string, policy: unknown): void {
    const row = this.ctx.roots.byName(name) ?? fail('NOT_FOUND', `root ${name} does not exist`);
    this.ctx.roots.setConflictPolicy(row.id, parseConflictPolicy(policy));
  }

  private async realDir(row: RootRow): Promise<{ dir: string; local: boolean }> {
    let known = this.realDirs.get(row.id);
    if (!known) {
      await mkdir(row.dir, { recursive: true });
      const dir = await realpath(row.dir);
      known = { dir, local: this.ctx.store.isLocal(dir + path.sep) };
      this.realDirs.set(row.id, known);
    }
    return known;
  }
}

function within(p: string, ancestor: string): boolean {
  return p === ancestor || p.startsWith(ancestor.endsWith(path.sep) ? ancestor : ancestor + path.sep);
}

/** realpath of the longest existing prefix, plus the rest: for folders that may not exist yet. */
async function realpathLoose(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(await realpath(cur), ...rest.reverse());
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return p;
      rest.push(path.basename(cur));
      cur = up;
    }
  }
}
