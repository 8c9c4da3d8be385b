import type { ErrorCode } from '../../src/core/index.js';

/** An HTTP answer decided by the door itself (bad header, body too large, ...). */
export class DavError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Optional DAV:error precondition element name (RFC 4918 section 16). */
    readonly condition?: string,
  ) {
    super(message);
  }
}

/**
 * Every core error code as an HTTP status. Handlers override a few where WebDAV gives the same
 * code another meaning (ALREADY_EXISTS is 405 for MKCOL, 412 for COPY/MOVE with Overwrite: F;
 * INVALID_INPUT is 403 for a COPY/MOVE of a collection into itself or over a collection holding
 * the source, as Apache mod_dav answers).
 * INVALID_INPUT is the client's mistake (a time no file can have, say): 400, as at the REST and
 * sync doors (FTP: 501).
 */
export const STATUS_OF: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  ALREADY_EXISTS: 405,
  NOT_A_DIRECTORY: 409,
  IS_A_DIRECTORY: 405,
  NOT_EMPTY: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  TOO_MANY_ATTEMPTS: 429,
  LOCKED: 423,
  CONFLICT: 409,
  INVALID_PATH: 400,
  INVALID_INPUT: 400,
  QUOTA_EXCEEDED: 507,
  PRECONDITION_FAILED: 412,
  RANGE_NOT_SATISFIABLE: 416,
  INSUFFICIENT_STORAGE: 507,
  ABORTED: 400,
};

export const REASON: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  207: 'Multi-Status',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  423: 'Locked',
  424: 'Failed Dependency',
  507: 'Insufficient Storage',
};

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${REASON[status] ?? 'Unknown'}`;
}
