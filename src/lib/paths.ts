/**
 * Relative paths inside a root: '' is the root itself, otherwise 'a/b/c' (NFC, '/' separated,
 * no empty, '.' or '..' segments). Every door hands raw client paths to the core, which calls
 * normalizeRelPath once; nothing else in the code base splits or joins client paths by hand.
 */
export class UnsafePathError extends Error {}

const CONTROL = /[\u0000-\u001f\u007f]/;

export function normalizeRelPath(raw: string): string {
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
    if (part.length > 255) throw new UnsafePathError('path segment longer than 255 characters');
  }
  const out = parts.join('/').normalize('NFC');
  if (out.length > 4096) throw new UnsafePathError('path longer than 4096 characters');
  return out;
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
