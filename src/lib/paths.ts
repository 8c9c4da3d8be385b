/**
 * Relative paths inside a root: '' is the root itself, otherwise 'a/b/c' (NFC, '/' separated,
 * no empty, '.' or '..' segments). Every door hands raw client paths to the core, which calls
 * normalizeRelPath once; nothing else in the code base splits or joins client paths by hand.
 */
export class UnsafePathError extends Error {}

const CONTROL = /[\u0000-\u001f\u007f]/;
/**
 * A path already in normal form the quick way: segments of 1-255 printable ASCII characters (as many bytes) without
 * '%' or '\\', joined by single slashes (NFC leaves ASCII as it is). The core checks every path
 * two or three times per write (the door's path, then each one it settles), and the full check
 * below cost about 1 µs a call; this one about a tenth. Anything else takes the full check.
 */
const PLAIN = /^[\x20-\x24\x26-\x2e\x30-\x5b\x5d-\x7e]{1,255}(?:\/[\x20-\x24\x26-\x2e\x30-\x5b\x5d-\x7e]{1,255})*$/;
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

export function normalizeRelPath(raw: string): string {
  if (typeof raw === 'string' && raw.length <= 4096 && PLAIN.test(raw) && !DOT_SEGMENT.test(raw)) return raw;
  return normalizeRelPathFully(raw);
}

/** normalizeRelPath without the quick way (its test holds the quick way to this). */
export function normalizeRelPathFully(raw: string): string {
  if (typeof raw !== 'string') throw new UnsafePathError('path must be a string');
  if (raw.includes('\u0000')) throw new UnsafePathError('path contains NUL');
  if (raw.includes('\\')) throw new UnsafePathError('path contains a backslash');
  if (/%2e|%2f|%5c|%00/i.test(raw)) throw new UnsafePathError('path contains an encoded dot, slash or NUL');
  if (CONTROL.test(raw)) throw new UnsafePathError('path contains a control character');
  const trimmed = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  const parts = trimmed.split('/');
  for (const part of parts) {
    if (part === '') throw new UnsafePathError('path contains an empty segment');
    if (part === '.' || part === '..') throw new UnsafePathError('path contains a dot segment');
    if (part.length > 255) throw new UnsafePathError('path segment longer than 255 bytes');
  }
  const out = parts.join('/').normalize('NFC');
  // File systems count a name's bytes (NAME_MAX 255), not its characters: 150 x 'é' is 300 bytes
  // in UTF-8, which passed the count above and then failed the system call (ENAMETOOLONG: a 500).
  if (out.length !== Buffer.byteLength(out)) {
    for (const part of out.split('/')) if (Buffer.byteLength(part) > 255) throw new UnsafePathError('path segment longer than 255 bytes');
  }
  if (Buffer.byteLength(out) > 4096) throw new UnsafePathError('path longer than 4096 bytes');
  return out;
}

/**
 * The disk path of `rel` (normal form, as normalizeRelPath gives it; '' for `dir` itself) under the
 * absolute folder `dir` (normalised, as realpath gives it): what path.join makes, without its
 * normalising pass over the whole string (about 1 µs a call, several per write).
 */
export function underDir(dir: string, rel: string): string {
  if (rel === '') return dir;
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

export function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** True when `path` is `ancestor` itself or lies below it. */
export function isWithin(path: string, ancestor: string): boolean {
  return ancestor === '' || path === ancestor || path.startsWith(`${ancestor}/`);
}

/** Splits 'report.final.pdf' into ['report.final', '.pdf']; dot-files keep their name. */
export function splitExtension(name: string): [string, string] {
  const i = name.lastIndexOf('.');
  return i <= 0 ? [name, ''] : [name.slice(0, i), name.slice(i)];
}
