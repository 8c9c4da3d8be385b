/**
 * The linked folder on disk: ignore patterns (defaults and .syncgateignore: ignore-rules.ts), file
 * hashing, and writes that never leave a torn file (temporary file in the same folder, fsync,
 * rename). Temporary files start with '.syncgate-', which both sides ignore.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, readFile, rename, rm, rmdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { HashedSink } from '../lib/hashed-sink.js';
import { folderChanged } from './folder-sync.js';
import type { Kind } from '../sync-wire/index.js';
import { hashFile as hashFileOnDisk } from '../lib/hash-file.js';
import { IgnoreRules } from './ignore-rules.js';

export const IGNORE_FILE = '.syncgateignore';
const TEMP_PREFIX = '.syncgate-';

export interface LocalEntry {
  path: string;
  kind: Kind;
  size: number;
  mtimeMs: number;
  ino: number;
}

export async function loadIgnore(dir: string): Promise<IgnoreRules> {
  const text = await readFile(path.join(dir, IGNORE_FILE), 'utf8').catch(() => ''); // none: defaults only
  return new IgnoreRules(text);
}

/** True for names never synced: our temporary files and the ignore file itself. */
export function isInternal(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) || name === IGNORE_FILE;
}

/**
 * Whether `rel` is left out. `known`: whether the gateway holds it (a state row here, or a change
 * from it): then a default pattern does not leave it out, only the user's own (ignore-rules.ts).
 */
export function ignored(ig: IgnoreRules, rel: string, kind: Kind, known: () => boolean = () => false): boolean {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  if (isInternal(name)) return true;
  return ig.byUser(rel, kind) || (ig.byDefault(rel, kind) && !known());
}

/**
 * The name to sync a folder entry under. The gateway keeps names in NFC, so a name written in another
 * Unicode form (NFD, as macOS and files copied from it write them) came back from the gateway as a
 * second file beside it. As Syncthing's scanner does on systems that keep forms apart, the entry is
 * renamed here to its NFC form; when that name is taken too, it is not synced (null: reported).
 */
export async function nfcName(dir: string, rel: string, name: string, siblings: readonly string[]): Promise<string | null> {
  const nfc = name.normalize('NFC');
  if (nfc === name) return name;
  if (siblings.includes(nfc)) return null;
  const to = path.join(dir, rel, nfc);
  if (await lstat(to).then(() => true, () => false)) return null;
  return rename(path.join(dir, rel, name), to).then(() => nfc, () => null);
}

export async function statEntry(dir: string, rel: string): Promise<LocalEntry | null> {
  const st = await lstat(path.join(dir, rel)).catch(() => null);
  return st ? entryFromStats(rel, st) : null;
}

/** `rel` as a LocalEntry from its lstat: null for anything but a file or a folder (symlinks, devices). */
export function entryFromStats(rel: string, st: Stats): LocalEntry | null {
  if (!st.isFile() && !st.isDirectory()) return null;
  const kind: Kind = st.isDirectory() ? 'dir' : 'file';
  return { path: rel, kind, size: kind === 'file' ? st.size : 0, mtimeMs: Math.trunc(st.mtimeMs), ino: st.ino };
}

export function sameFingerprint(a: { size: number; mtimeMs: number; ino: number }, b: { size: number; mtimeMs: number; ino: number }): boolean {
  return a.size === b.size && Math.trunc(a.mtimeMs) === Math.trunc(b.mtimeMs) && a.ino === b.ino;
}

/** Files up to this size are read in one piece (hashed, sent) instead of streamed. */
export const SMALL_FILE = 256 * 1024;

/** A file's SHA-256 (hex); `sizeHint`: the size the scan saw (a small file is read whole). */
export async function hashFile(abs: string, sizeHint?: number): Promise<string> {
  return (await hashFileOnDisk(abs, sizeHint)).hash;
}

/** A temporary file beside `rel` (same folder, so the rename is atomic). */
export async function tempBeside(dir: string, rel: string): Promise<string> {
  const parent = path.dirname(path.join(dir, rel));
  await mkdir(parent, { recursive: true });
  return path.join(parent, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * The part file of a resumable download of content `sha256` for `rel` (same name after a crash).
 * Named after the file too: files of one content in one folder, downloaded side by side, each need
 * their own.
 */
export async function partBeside(dir: string, rel: string, sha256: string): Promise<string> {
  const abs = path.join(dir, partOf(rel, sha256));
  await mkdir(path.dirname(abs), { recursive: true });
  return abs;
}

/** The path (relative, like `rel`) of the part file of a download of content `sha256` for `rel`. */
export function partOf(rel: string, sha256: string): string {
  const name = createHash('sha256').update(path.posix.basename(rel)).digest('hex').slice(0, 8);
  const parent = path.posix.dirname(rel);
  return `${parent === '.' ? '' : `${parent}/`}${TEMP_PREFIX}dl-${sha256.slice(0, 24)}-${name}.part`;
}

/**
 * Whether a name is one this client makes for a download: a temporary file (tempBeside), a part
 * file (partBeside), or the part file of a client before aff8bb2 (`dl-<hash>.part`, no name: the
 * clients since never resume it). Anything else starting with '.syncgate-' is not ours to remove.
 */
export function isDownloadTemp(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && /^\.syncgate-(?:[0-9a-f]{12}\.tmp|dl-[0-9a-f]{24}(?:-[0-9a-f]{8})?\.part)$/.test(name);
}

/**
 * Writes `body` to a temp file, fsyncs it, and returns its SHA-256 (the caller renames it into
 * place). `volatile`: each chunk's memory is reused once the next is asked for (patchChunks).
 */
export async function writeTemp(temp: string, body: AsyncIterable<Uint8Array>, volatile = false): Promise<{ sha256: string; size: number }> {
  const sink = await HashedSink.open(temp, { volatile });
  try {
    for await (const chunk of body) await sink.write(chunk);
    return { sha256: await sink.finish(), size: sink.size };
  } finally {
    await sink.close();
  }
}

/** Renames a finished temp file over `rel` with the given mtime; returns the new fingerprint. */
export async function install(dir: string, temp: string, rel: string, mtimeMs: number): Promise<LocalEntry> {
  const t = new Date(mtimeMs);
  await utimes(temp, t, t);
  await rename(temp, path.join(dir, rel));
  folderChanged(path.dirname(path.join(dir, rel)));
  return (await statEntry(dir, rel))!;
}

export async function discard(temp: string): Promise<void> {
  await rm(temp, { force: true });
}

export async function removeLocal(dir: string, rel: string, kind: Kind): Promise<void> {
  const abs = path.join(dir, rel);
  if (kind === 'dir') await rmdir(abs).catch(() => undefined); // left in place while it holds unsynced files
  else await rm(abs, { force: true });
  folderChanged(path.dirname(abs));
}

export async function makeLocalDir(dir: string, rel: string): Promise<LocalEntry> {
  await mkdir(path.join(dir, rel), { recursive: true });
  folderChanged(path.dirname(path.join(dir, rel)));
  return (await statEntry(dir, rel))!;
}

export async function moveLocal(dir: string, from: string, to: string): Promise<LocalEntry> {
  await mkdir(path.dirname(path.join(dir, to)), { recursive: true });
  await rename(path.join(dir, from), path.join(dir, to));
  folderChanged(path.dirname(path.join(dir, from)));
  folderChanged(path.dirname(path.join(dir, to)));
  return (await statEntry(dir, to))!;
}
