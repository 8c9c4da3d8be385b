/**
 * The one error type of the core. Each door maps every code in an exhaustive
 * Record<ErrorCode, ...> table, so a new code fails to compile until every door handles it.
 */
export const ERROR_CODES = [
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'NOT_A_DIRECTORY',
  'IS_A_DIRECTORY',
  'NOT_EMPTY',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'TOO_MANY_ATTEMPTS',
  'LOCKED',
  'CONFLICT',
  'INVALID_PATH',
  'INVALID_INPUT',
  'QUOTA_EXCEEDED',
  'PRECONDITION_FAILED',
  'RANGE_NOT_SATISFIABLE',
  'INSUFFICIENT_STORAGE',
  'ABORTED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class SyncgateError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SyncgateError';
  }
}

export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new SyncgateError(code, message, details);
}

export function isCoreError(err: unknown, code?: ErrorCode): err is SyncgateError {
  return err instanceof SyncgateError && (code === undefined || err.code === code);
}

/**
 * Whether `err` says the gateway's own storage is full: the disk (ENOSPC), a quota (EDQUOT), or the
 * metadata database (SQLITE_FULL: its disk, or its page cap). Each is INSUFFICIENT_STORAGE.
 */
export function isStorageFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** The one message for a full gateway disk: a user's words, no server path. */
export function storageFull(what: string): SyncgateError {
  return new SyncgateError('INSUFFICIENT_STORAGE', `the gateway's disk is full: no space left to store ${what}; nothing was recorded`);
}

/** Maps Node filesystem errors to core errors; anything unknown is rethrown untouched. */
export function fromFsError(err: unknown, what: string): never {
  if (isStorageFull(err)) throw storageFull(what);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      throw new SyncgateError('NOT_FOUND', `${what} does not exist`);
    case 'EEXIST':
      throw new SyncgateError('ALREADY_EXISTS', `${what} already exists`);
    case 'ENOTDIR':
      throw new SyncgateError('NOT_A_DIRECTORY', `a parent of ${what} is not a folder`);
    case 'EISDIR':
      throw new SyncgateError('IS_A_DIRECTORY', `${what} is a folder`);
    case 'ENOTEMPTY':
      throw new SyncgateError('NOT_EMPTY', `${what} is not empty`);
    case 'EACCES':
    case 'EPERM':
      throw new SyncgateError('PERMISSION_DENIED', `the server may not access ${what}`);
    default:
      throw err;
  }
}
