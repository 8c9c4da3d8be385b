import { fail, type EntryInfo } from '../../../src/core/index.js';
import { evaluatePreconditions, headerOf, ifMatchBase } from '../../common/conditional.js';
import type { HttpContext } from '../context.js';

/**
 * The REST door's reading of protocols/common/conditional.ts: a failed precondition is the core's
 * PRECONDITION_FAILED (412 with a JSON body), and If-Match on a write names the base version.
 */

/** GET/HEAD: true when the client's copy is current (answer 304); a failed If-Match throws 412. */
export function notModified(ctx: HttpContext, e: EntryInfo): boolean {
  const verdict = evaluatePreconditions(ctx.headers, e, { read: true });
  if (verdict.outcome === 'precondition-failed') fail('PRECONDITION_FAILED', verdict.reason);
  return verdict.outcome === 'not-modified';
}

/**
 * The base version of a write: ?baseVersion, else the one If-Match names (an ETag from a GET), else
 * undefined (last writer wins). `If-Match: *` only requires the file to exist (its version is the
 * base). If-Unmodified-Since and If-None-Match are judged against the current file (412); the
 * current file is looked up only when one of them is sent.
 */
export async function baseVersionOf(ctx: HttpContext, current: () => Promise<EntryInfo | null>, fromQuery?: number): Promise<number | undefined> {
  const base = ifMatchBase(ctx.headers);
  if (base.kind === 'several') fail('INVALID_INPUT', 'If-Match takes exactly one entity tag from this server');
  if (base.kind === 'foreign') fail('PRECONDITION_FAILED', 'If-Match does not name a version of this server');
  let now: EntryInfo | null = null;
  // If-Match's version is compared by the core, atomically with the write: no lookup for it here.
  const judged = base.kind === 'any' || headerOf(ctx.headers, 'if-none-match') !== undefined || (base.kind === 'none' && headerOf(ctx.headers, 'if-unmodified-since') !== undefined);
  if (judged) {
    now = await current();
    if (base.kind === 'any' && !now) fail('PRECONDITION_FAILED', 'the file does not exist (If-Match: *)');
    const verdict = evaluatePreconditions(ctx.headers, now, { read: false, ifMatchIsBase: true });
    if (verdict.outcome === 'precondition-failed') fail('PRECONDITION_FAILED', verdict.reason);
  }
  if (fromQuery !== undefined) return fromQuery;
  if (base.kind === 'version') return base.version;
  return base.kind === 'any' ? now!.version : undefined;
}
