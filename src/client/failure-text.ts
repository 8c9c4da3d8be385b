/**
 * What the client says about a file it could not sync, when the cause is one the user can act on:
 * a full disk on either side, a file or folder this user may not read. Anything else keeps its own message (the gateway's, or the system's).
 */
import { ApiError } from './api.js';

/** ENOSPC or EDQUOT from this computer's filesystem (a download, a temp file, a folder). */
export function isLocalDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return !(err instanceof ApiError) && (code === 'ENOSPC' || code === 'EDQUOT');
}

/** An entry of the linked folder this client could not read: what it means, and what to do. */
export function unreadableText(code: string): string {
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code;
  return `cannot be read here (${why}): not synced, and nothing in it is deleted on the gateway; give this user access to it, or name it in .syncgateignore`;
}

export function failureText(err: unknown, dir: string): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (!(err instanceof ApiError) && (code === 'EACCES' || code === 'EPERM')) return 'permission denied on this computer: give this user access to it (and its folder), or name it in .syncgateignore';
  if (err instanceof ApiError && err.code === 'INSUFFICIENT_STORAGE') return "the gateway's disk is full: free space there; your edit is kept and will be sent again";
  if (err instanceof ApiError && err.code === 'INVALID_PATH') return `${err.message}: the gateway takes no such name; rename it here, or name it in .syncgateignore`;
  if (isLocalDiskFull(err)) return `this computer's disk is full: free space in ${dir}; it will be fetched on the next sync`;
  return (err as Error).message;
}

/**
 * A line about paths, fit for a terminal: a name may hold a line break, a carriage return (which
 * drew the rest of the line over its start: `carret.txt` for `car\rret.txt`), an escape sequence,
 * or a bidirectional override that shows a name backwards. Those are shown escaped, as `ls -b` does.
 */
export function printable(line: string): string {
  return line.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
