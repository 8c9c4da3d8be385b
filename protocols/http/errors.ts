import { isCoreError, type ErrorCode } from '../../src/core/index.js';
import { wantsChallenge, type HttpMiddleware } from './context.js';

/** Every core error code and the HTTP status it answers with (exhaustive: a new code fails to compile). */
export const STATUS_OF: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  NOT_A_DIRECTORY: 409,
  IS_A_DIRECTORY: 409,
  NOT_EMPTY: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  TOO_MANY_ATTEMPTS: 429,
  LOCKED: 423,
  CONFLICT: 409,
  INVALID_PATH: 400,
  INVALID_INPUT: 400,
  QUOTA_EXCEEDED: 413,
  PRECONDITION_FAILED: 412,
  RANGE_NOT_SATISFIABLE: 416,
  INSUFFICIENT_STORAGE: 507,
  ABORTED: 400,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Only these detail fields are safe and useful for clients (never paths on the server). */
const PUBLIC_DETAILS = ['retryAfterSec', 'missingParent', 'version', 'size', 'passwordRequired', 'reason'];

/**
 * The outermost middleware: turns core errors into `{"error":{"code","message"}}` with the mapped
 * status; anything else is logged once with the request id and answered with a generic 500.
 */
export const errorMiddleware: HttpMiddleware = async (ctx, next) => {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined && ctx.path.startsWith('/api/')) {
      ctx.status = 404;
      ctx.body = { error: { code: 'NOT_FOUND', message: 'no such route' } } satisfies ErrorBody;
    } else if (ctx.status === 405 && ctx.path.startsWith('/api/')) {
      ctx.body = { error: { code: 'INVALID_INPUT', message: 'method not allowed' } } satisfies ErrorBody;
    }
  } catch (err) {
    if (ctx.headerSent || !ctx.writable) {
      ctx.state.log?.warn({ err: isCoreError(err) ? err.code : err }, 'error after the response started');
      ctx.req.socket.destroy();
      return;
    }
    // Headers set by the handler (Content-Type, ETag, ...) do not belong to the error answer.
    for (const h of ['content-type', 'content-length', 'content-disposition', 'etag', 'last-modified', 'content-range', 'accept-ranges']) ctx.remove(h);
    // Refused before its body was all read (a full disk, say): that connection cannot carry another
    // request (see the sync door's error handler), so it closes after this answer.
    if (!ctx.req.complete) ctx.set('Connection', 'close');
    if (isCoreError(err)) {
      ctx.status = STATUS_OF[err.code];
      const details: Record<string, unknown> = {};
      for (const k of PUBLIC_DETAILS) if (err.details[k] !== undefined) details[k] = err.details[k];
      if (err.code === 'TOO_MANY_ATTEMPTS') ctx.set('Retry-After', String(Number(err.details.retryAfterSec ?? 60)));
      if (err.code === 'RANGE_NOT_SATISFIABLE' && typeof err.details.size === 'number') ctx.set('Content-Range', `bytes */${err.details.size}`);
      if (err.code === 'UNAUTHENTICATED' && !ctx.response.get('WWW-Authenticate') && ctx.path.startsWith('/api/') && wantsChallenge(ctx)) {
        ctx.set('WWW-Authenticate', 'Basic realm="syncgate", charset="UTF-8"');
      }
      ctx.body = { error: { code: err.code, message: err.message, ...(Object.keys(details).length ? { details } : {}) } } satisfies ErrorBody;
    } else {
      ctx.state.log?.error({ err }, 'internal error');
      ctx.status = 500;
      ctx.body = { error: { code: 'INTERNAL', message: 'internal server error' } } satisfies ErrorBody;
    }
  }
};
