import { lstatSync, type Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { normalizeRelPath, underDir, UnsafePathError } from '../lib/paths.js';
import { openForReadNoFollow, type OpenedFile } from '../storage/file-sender.js';
import { fail } from './errors.js';
import type { RootHandle } from './roots.js';
import type { Session } from './session.js';

/** Normalises a client path or refuses it with INVALID_PATH: the one gate for every door. */
export function safePath(raw: string): string {
  try {
    return normalizeRelPath(raw);
  } catch (err) {
    if (err instanceof UnsafePathError) fail('INVALID_PATH', `invalid path: ${err.message}`);
    throw err;
  }
}

/** The range of a JavaScript Date: a time past it cannot be set on a file (utimes: EINVAL). */
const MTIME_LIMIT_MS = 8.64e15;

/**
 * Refuses a modification time a file cannot have (NaN, infinite, past the Date range) with
 * INVALID_INPUT, before any byte is stored: every door takes one from its client (X-OC-Mtime,
 * ?mtimeMs, tus metadata, the sync door's mtime, FTP MFMT), and the failed utimes came after the
 * whole body, as an internal error.
 */
export function checkMtime(mtimeMs: number | undefined): void {
  if (mtimeMs !== undefined && !(Number.isFinite(mtimeMs) && Math.abs(mtimeMs) <= MTIME_LIMIT_MS)) fail('INVALID_INPUT', 'the modification time is not a date a file can have');
}

/** The longest path a system call takes: PATH_MAX (4096) with its terminating NUL. */
const PATH_MAX_BYTES = 4095;

/**
 * `rel` under the root's folder, refused with INVALID_PATH when the whole is longer than the kernel
 * takes: a path within the 4096-byte limit of normalizeRelPath may not be once the root's own
 * folder is in front, and the system call's ENAMETOOLONG came out as an interrupted upload or a 500.
 */
export function diskPath(root: RootHandle, rel: string): string {
  const abs = underDir(root.dir, rel);
  // At most 3 bytes per UTF-16 unit: a short path needs no count.
  if (abs.length * 3 > PATH_MAX_BYTES && Buffer.byteLength(abs) > PATH_MAX_BYTES) fail('INVALID_PATH', "invalid path: too long for the folder this root is in");
  return abs;
}

/**
 * The absolute disk path of `rel` in a root, refusing any path whose existing part resolves
 * (through symlinks) outside the root.
 */
export async function livePath(root: RootHandle, rel: string): Promise<string> {
  const abs = diskPath(root, rel);
  if (rel === '') return abs;
  // The root folder is already real: only a symlink below it can lead out. An lstat per existing
  // component finds one, cheaper than realpath(3) of the whole path (a readlink per component).
  // rel is in normal form, so each component's path is a prefix of abs: no join per component.
  for (let end = abs.indexOf('/', abs.length - rel.length); ; end = abs.indexOf('/', end + 1)) {
    const probe = end < 0 ? abs : abs.slice(0, end);
    const st = await lstatOrNull(root, probe);
    if (!st) return abs; // the rest does not exist yet: nothing to follow
    if (st.isSymbolicLink()) return resolvedInside(root, abs);
    if (end < 0) return abs;
  }
}

/**
 * The file at `rel` of a root in the data folder (RootHandle.local), opened for reading on the
 * calling thread with livePath's rule: each folder above it lstat'ed, the file itself opened with
 * O_NOFOLLOW, so a symlink there fails the open instead of costing every read an lstat first.
 * 'slow' where livePath and openForRead must decide (a symlink on the way, a root elsewhere); null
 * when nothing is there. A read's first byte waits for no trip through the thread pool and no
 * promise on the way.
 */
export function openLiveForRead(root: RootHandle, rel: string): OpenedFile | null | 'slow' {
  if (!root.local || rel === '') return 'slow';
  const abs = diskPath(root, rel);
  for (let end = abs.indexOf('/', abs.length - rel.length); end >= 0; end = abs.indexOf('/', end + 1)) {
    const st = lstatHere(abs.slice(0, end));
    if (!st) return null;
    if (st.isSymbolicLink()) return 'slow';
  }
  const file = openForReadNoFollow(abs);
  return file === 'symlink' ? 'slow' : file;
}

async function lstatOrNull(root: RootHandle, p: string): Promise<Stats | null> {
  // In the data folder, a direct call (microseconds); elsewhere through the pool (RootHandle.local).
  if (root.local) return lstatHere(p);
  try {
    return await lstat(p);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function lstatHere(p: string): Stats | null {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A path with a symlink in it: where its existing part really leads must be inside the root. */
async function resolvedInside(root: RootHandle, abs: string): Promise<string> {
  let probe = abs;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (real !== root.dir && !real.startsWith(root.dir + path.sep)) fail('INVALID_PATH', 'the path leads out of the root');
      return abs;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const up = path.dirname(probe);
      if (up === probe || up.length < root.dir.length) return abs;
      probe = up;
    }
  }
}

export type ScopeNeed = 'read' | 'write' | 'create';

/** Share-link sessions are confined to a subtree; upload-only ones may only create files. */
export function checkScope(session: Session, rel: string, need: ScopeNeed): void {
  const scope = session.scope;
  if (!scope) return;
  const inside = scope.path === '' || rel === scope.path || rel.startsWith(`${scope.path}/`);
  if (!inside) fail('NOT_FOUND', 'no such file');
  if (scope.mode === 'read' && need !== 'read') fail('PERMISSION_DENIED', 'this link is read-only');
  if (scope.mode === 'upload' && need !== 'create') fail('PERMISSION_DENIED', 'this link only accepts uploads');
}
