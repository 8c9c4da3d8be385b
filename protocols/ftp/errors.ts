import { isCoreError, type ErrorCode } from '../../src/core/index.js';

export interface FtpReply {
  code: number;
  message: string;
  /** Close the control connection after this reply. */
  close?: boolean;
}

/**
 * Every core error code as an FTP reply (RFC 959 / 3659). Messages are fixed text: never the
 * core's message, never a server path.
 */
export const FTP_ERRORS: Record<ErrorCode, FtpReply> = {
  NOT_FOUND: { code: 550, message: 'No such file or folder' },
  ALREADY_EXISTS: { code: 550, message: 'Already exists' },
  NOT_A_DIRECTORY: { code: 550, message: 'Not a folder' },
  IS_A_DIRECTORY: { code: 550, message: 'Is a folder' },
  NOT_EMPTY: { code: 550, message: 'Folder is not empty' },
  PERMISSION_DENIED: { code: 550, message: 'Permission denied' },
  UNAUTHENTICATED: { code: 530, message: 'Login incorrect' },
  TOO_MANY_ATTEMPTS: { code: 421, message: 'Too many failed logins, try again later', close: true },
  LOCKED: { code: 450, message: 'File is locked' },
  CONFLICT: { code: 450, message: 'File busy, try again' },
  INVALID_PATH: { code: 553, message: 'File name not allowed' },
  INVALID_INPUT: { code: 501, message: 'Invalid argument' },
  QUOTA_EXCEEDED: { code: 552, message: 'Exceeded storage allocation' },
  PRECONDITION_FAILED: { code: 450, message: 'File changed meanwhile, try again' },
  RANGE_NOT_SATISFIABLE: { code: 554, message: 'Requested action not taken: invalid REST parameter' },
  INSUFFICIENT_STORAGE: { code: 452, message: 'Insufficient storage space' },
  ABORTED: { code: 426, message: 'Connection closed; transfer aborted' },
};

/** A command's own replies for some core errors (CommandSpec.errors); the rest come from FTP_ERRORS. */
export type FtpErrorReplies = Partial<Record<ErrorCode, FtpReply>>;

export const INTERNAL_ERROR: FtpReply = { code: 451, message: 'Local error in processing' };

/** Errors the door itself raises (data connection, protocol state). */
export class FtpReplyError extends Error {
  constructor(readonly reply: FtpReply) {
    super(reply.message);
  }
}

export function replyError(code: number, message: string): FtpReplyError {
  return new FtpReplyError({ code, message });
}

/** The reply for any error; `internal` is true when it must be logged (not a known outcome). */
export function ftpReplyFor(err: unknown, replies?: FtpErrorReplies): { reply: FtpReply; internal: boolean } {
  if (err instanceof FtpReplyError) return { reply: err.reply, internal: false };
  if (isCoreError(err)) return { reply: replies?.[err.code] ?? FTP_ERRORS[err.code], internal: false };
  return { reply: INTERNAL_ERROR, internal: true };
}
