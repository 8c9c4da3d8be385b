import type { Stats } from 'node:fs';

/** What the store reports of a path on disk. */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ino: number;
  ctimeMs: number;
  kind: 'file' | 'dir' | 'symlink' | 'other';
}

/** The disk fingerprint recorded with an entry: if any of it changed, the file may have. */
export function fingerprint(st: FileStat): { mtimeMs: number; ino: number; ctimeMs: number } {
  return { mtimeMs: st.mtimeMs, ino: st.ino, ctimeMs: st.ctimeMs };
}

/** Whether the file on disk still has the fingerprint (and size) recorded for it. */
export function fingerprintMatches(recorded: { size: number; mtimeMs: number; ino: number; ctimeMs: number }, st: FileStat): boolean {
  // Entries recorded before ctime kept its fraction hold whole milliseconds: compare those as such,
  // or an upgrade would re-hash every file of every root.
  const ctime = Number.isInteger(recorded.ctimeMs) ? Math.floor(st.ctimeMs) : st.ctimeMs;
  return recorded.size === st.size && recorded.mtimeMs === st.mtimeMs && recorded.ino === st.ino && recorded.ctimeMs === ctime;
}

export function toFileStat(st: Stats): FileStat {
  const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  // ctime keeps its fraction (Node gives it to about a microsecond): an in-place edit that puts the
  // old mtime back (rsync --inplace -t) within the same millisecond as our own write must still show.
  return { size: st.size, mtimeMs: Math.floor(st.mtimeMs), ino: st.ino, ctimeMs: st.ctimeMs, kind };
}
