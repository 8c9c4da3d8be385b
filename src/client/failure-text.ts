/**
 * What the client says about a file it could not sync, when the cause is one the user can act on:
 * a full disk on either side. Anything else keeps its own message (the gateway's, or the system's).
 */
import { ApiError } from './api.js';

/** ENOSPC or EDQUOT from this computer's filesystem (a download, a temp file, a folder). */
export function isLocalDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return !(err instanceof ApiError) && (code === 'ENOSPC' || code === 'EDQUOT');
}

export function failureText(err: unknown, dir: string): string {
  if (err instanceof ApiError && err.code === 'INSUFFICIENT_STORAGE') return "the gateway's disk is full: free space there; your edit is kept and will be sent again";
  if (isLocalDiskFull(err)) return `this computer's disk is full: free space in ${dir}; it will be fetched on the next sync`;
  return (err as Error).message;
}
