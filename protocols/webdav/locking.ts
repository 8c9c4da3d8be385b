import { randomUUID } from 'node:crypto';
import { isCoreError, type LockInfo } from '../../src/core/index.js';
import { DavError } from './errors.js';
import { parseIfHeader, submittedTokens } from './if-header.js';
import { applyIfHeader, header, hrefOf, isAppleDouble, readXml, sendXml, statOrNull, type DavContext } from './request.js';
import { child, DAV, escapeXml, innerXml, isDav } from './xml.js';

const DEFAULT_TIMEOUT = 3600;
const INFINITE = 7 * 24 * 3600;

/**
 * The first alternative understood (RFC 4918 10.7: `Second-N` or `Infinite`); others are passed
 * over. A header with none is 400: taken as absent, the lock lasted an hour nobody asked for.
 */
function parseTimeout(header: string | undefined): number {
  if (header === undefined) return DEFAULT_TIMEOUT;
  for (const part of header.split(',').map((s) => s.trim().toLowerCase())) {
    if (part === 'infinite') return INFINITE;
    const m = /^second-(\d+)$/.exec(part);
    if (m) return Math.max(1, Math.min(Number(m[1]), INFINITE));
  }
  throw new DavError(400, 'Timeout must be Second-N or Infinite');
}

export function activeLockXml(l: Pick<LockInfo, 'token' | 'scope' | 'depth' | 'owner' | 'secondsLeft' | 'path'>, prefix: string, root: string): string {
  const left = l.secondsLeft;
  return (
    `<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:${l.scope}/></D:lockscope>` +
    `<D:depth>${l.depth === '0' ? '0' : 'infinity'}</D:depth>` +
    (l.owner ? `<D:owner>${l.owner}</D:owner>` : '') +
    `<D:timeout>Second-${left}</D:timeout><D:locktoken><D:href>${escapeXml(l.token)}</D:href></D:locktoken>` +
    `<D:lockroot><D:href>${escapeXml(hrefOf(prefix, root, l.path, false))}</D:href></D:lockroot></D:activelock>`
  );
}

function lockAnswer(ctx: DavContext, status: number, lock: Parameters<typeof activeLockXml>[0], root: string): void {
  ctx.res.setHeader('Lock-Token', `<${lock.token}>`);
  ctx.res.setHeader('Timeout', `Second-${lock.secondsLeft}`);
  sendXml(ctx.res, status, `<D:prop xmlns:D="DAV:"><D:lockdiscovery>${activeLockXml(lock, ctx.prefix, root)}</D:lockdiscovery></D:prop>`);
}

/**
 * LOCK: a new lock (exclusive or shared, depth 0 or infinity) or, without a body, a refresh of
 * the lock named in the If header. Locks live in the core's SQLite table and bind every door.
 * A LOCK on an unmapped URL creates an empty file, as RFC 4918 (7.3) asks.
 */
export async function lock(ctx: DavContext): Promise<void> {
  const { req, conn, target } = ctx;
  if (target.root === null) throw new DavError(405, 'the list of roots cannot be locked');
  const root = target.root;
  const body = await readXml(ctx);
  const timeoutSec = parseTimeout(header(req, 'timeout'));
  const depthHeader = (header(req, 'depth') ?? 'infinity').toLowerCase();
  if (depthHeader !== '0' && depthHeader !== 'infinity') throw new DavError(400, 'LOCK Depth must be 0 or infinity');
  if (isAppleDouble(ctx)) {
    const fake = { token: `urn:uuid:${randomUUID()}`, scope: 'exclusive' as const, depth: '0' as const, owner: '', secondsLeft: timeoutSec, path: target.path };
    return lockAnswer(ctx, 200, fake, root);
  }
  const entry = await statOrNull(ctx);
  const path = entry?.path ?? target.path;
  if (!body) {
    const ifHeader = header(req, 'if');
    if (!ifHeader) throw new DavError(400, 'a lock refresh needs an If header with the lock token');
    const tokens = submittedTokens(parseIfHeader(ifHeader));
    const refreshed = await conn.refreshLock(root, path, tokens, timeoutSec).catch((err: unknown) => {
      if (isCoreError(err, 'PRECONDITION_FAILED')) throw new DavError(412, 'no lock named in the If header covers this resource');
      throw err;
    });
    return lockAnswer(ctx, 200, refreshed, root);
  }
  if (!isDav(body, 'lockinfo')) throw new DavError(400, 'expected DAV:lockinfo');
  const scopeEl = child(body, DAV, 'lockscope');
  const scope = scopeEl && child(scopeEl, DAV, 'shared') ? 'shared' : scopeEl && child(scopeEl, DAV, 'exclusive') ? 'exclusive' : null;
  const typeEl = child(body, DAV, 'locktype');
  if (!scope || !typeEl || !child(typeEl, DAV, 'write')) throw new DavError(400, 'a lock needs a lockscope and a write locktype');
  const ownerEl = child(body, DAV, 'owner');
  await applyIfHeader(ctx);
  // A new path gets its empty file under the lock, or neither (one core operation).
  const { lock: row, created } = await conn.lock(root, path, { scope, depth: depthHeader === '0' ? '0' : 'infinity', timeoutSec, owner: ownerEl ? innerXml(ownerEl) : '' }).catch((err: unknown) => {
    if (!entry && ((isCoreError(err, 'NOT_FOUND') && err.details.missingParent) || isCoreError(err, 'NOT_A_DIRECTORY'))) throw new DavError(409, 'the parent collection does not exist');
    throw err;
  });
  lockAnswer(ctx, created ? 201 : 200, row, root);
}

export async function unlock(ctx: DavContext): Promise<void> {
  const { req, conn, target, res } = ctx;
  if (target.root === null) throw new DavError(405, 'the list of roots cannot be locked');
  // RFC 4918 10.5 asks for a Coded-URL (`<opaquelocktoken:...>`); the `webdav` npm client sends the
  // bare URI, so a token without brackets is taken too (a token never holds spaces or brackets).
  const m = /^\s*<([^<>\s]+)>\s*$/.exec(header(req, 'lock-token') ?? '') ?? /^\s*([a-z][a-z0-9+.-]*:[^<>\s]+)\s*$/i.exec(header(req, 'lock-token') ?? '');
  if (!m) throw new DavError(400, 'UNLOCK needs a Lock-Token header');
  if (isAppleDouble(ctx)) {
    res.statusCode = 204;
    res.end();
    return;
  }
  const entry = await statOrNull(ctx);
  await conn.unlock(target.root, entry?.path ?? target.path, m[1]!);
  res.statusCode = 204;
  res.end();
}
