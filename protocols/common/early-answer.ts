import type { IncomingMessage } from 'node:http';

/** A body up to this size is read to its end after an early answer; a larger one closes the connection. */
export const DRAIN_MAX_BYTES = 16 << 20;

/**
 * For an error answered before the request's body was all read (a full disk's 507, say). Left as
 * it was, the rest of the body blocked the kept-alive connection: the client's next request there
 * hung until the server timed it out (ECONNRESET after about 16 s). Closing it instead resets a
 * client still sending, which then sees EPIPE instead of the answer. So a body of a size worth
 * it is read and dropped (the connection stays usable), and only a larger one is cut.
 * Returns true when the connection must close (the caller sets `Connection: close`).
 */
export function settleUnreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const declared = Number(req.headers['content-length']);
  if (!Number.isFinite(declared) || declared > DRAIN_MAX_BYTES || req.destroyed) return true;
  req.resume();
  return false;
}
