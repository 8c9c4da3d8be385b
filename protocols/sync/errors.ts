import { DeltaError } from '../../src/delta/index.js';
import { isCoreError, type ErrorCode } from '../../src/core/index.js';
import type { ErrorBody, SyncErrorCode } from '../../src/sync-wire/index.js';

/** Every core error code, its HTTP status and its wire code (exhaustive: a new code fails to compile). */
export const WIRE_OF: Record<ErrorCode, [number, SyncErrorCode]> = {
  NOT_FOUND: [404, 'NOT_FOUND'],
  ALREADY_EXISTS: [409, 'ALREADY_EXISTS'],
  NOT_A_DIRECTORY: [409, 'NOT_A_DIRECTORY'],
  IS_A_DIRECTORY: [409, 'IS_A_DIRECTORY'],
  NOT_EMPTY: [409, 'NOT_EMPTY'],
  PERMISSION_DENIED: [403, 'PERMISSION_DENIED'],
  UNAUTHENTICATED: [401, 'UNAUTHENTICATED'],
  TOO_MANY_ATTEMPTS: [429, 'TOO_MANY_ATTEMPTS'],
  LOCKED: [423, 'LOCKED'],
  CONFLICT: [409, 'CONFLICT'],
  INVALID_PATH: [400, 'INVALID_PATH'],
  INVALID_INPUT: [400, 'INVALID_INPUT'],
  QUOTA_EXCEEDED: [413, 'QUOTA_EXCEEDED'],
  PRECONDITION_FAILED: [412, 'PRECONDITION_FAILED'],
  RANGE_NOT_SATISFIABLE: [416, 'RANGE_NOT_SATISFIABLE'],
  INSUFFICIENT_STORAGE: [507, 'INSUFFICIENT_STORAGE'],
  ABORTED: [400, 'ABORTED'],
};

/** An error in the protocol's own terms, beyond the core's codes. */
export class SyncError extends Error {
  constructor(
    readonly status: number,
    readonly code: SyncErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const PUBLIC_DETAILS = ['version', 'size', 'seq', 'offset', 'retryAfterSec', 'missingParent', 'reason'];

/** Status and body for any error; null when it is an internal one (logged, answered generically). */
export function wireError(err: unknown): { status: number; body: ErrorBody } | null {
  if (err instanceof SyncError) return { status: err.status, body: { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } } };
  if (err instanceof DeltaError) return { status: 400, body: { error: { code: 'CORRUPT_DELTA', message: `the delta or signature cannot be read: ${err.message}` } } };
  if (isCoreError(err)) {
    const [status, code] = WIRE_OF[err.code];
    const details = Object.fromEntries(Object.entries(err.details).filter(([k]) => PUBLIC_DETAILS.includes(k)));
    return { status, body: { error: { code, message: err.message, ...(Object.keys(details).length ? { details } : {}) } } };
  }
  return null;
}
