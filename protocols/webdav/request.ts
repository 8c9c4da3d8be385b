import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isCoreError, type Connection, type EntryInfo, type Session } from '../../src/core/index.js';
import { DavError } from './errors.js';
import { evaluateIf, parseIfHeader, submittedTokens, type ResourceState } from './if-header.js';
import { entityTags, evaluatePreconditions, headerOf } from '../common/conditional.js';
import type { WebdavOptions } from './options.js';
import { parseXml, XmlError, type XmlElement } from './xml.js';

/** A resource named by a URL under the door's prefix: `/dav/` (root null) or `/dav/<root>/<path>`. */
export interface DavTarget {
  root: string | null;
  /** Decoded path inside the root, '' for the root itself, NFC like the core keeps it. */
  path: string;
}

export interface DavContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The core, bound to `session` (which it reads on each call: the If header adds lock tokens). */
  conn: Connection;
  opts: WebdavOptions;
  prefix: string;
  /** The gateway's configured public URL, if any (see protocols/common/own-host.ts). */
  publicUrl?: string;
  session: Session;
  requestId: string;
  log: Logger;
  target: DavTarget;
}

/** Maps a request URL (origin form or absolute) to a target; refuses what cannot name a resource. */
export function parseTarget(prefix: string, rawUrl: string): DavTarget {
  let pathname = rawUrl;
  if (!rawUrl.startsWith('/')) {
    try {
      pathname = new URL(rawUrl).pathname;
    } catch {
      throw new DavError(400, 'invalid URL');
    }
  }
  if (pathname.includes('#')) throw new DavError(400, 'a request URI has no fragment');
  pathname = pathname.replace(/[?#].*$/s, '');
  if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) throw new DavError(502, 'the URL is not on this server');
  const segments: string[] = [];
  for (const raw of pathname.slice(prefix.length).split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      throw new DavError(400, 'invalid percent-encoding in the URL');
    }
    if (seg.includes('/') || seg.includes('\\') || seg.includes('\u0000')) throw new DavError(400, 'invalid path');
    segments.push(seg.normalize('NFC'));
  }
  if (segments.length === 0) return { root: null, path: '' };
  return { root: segments[0]!, path: segments.slice(1).join('/') };
}

function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/'/g, '%27');
}

export function hrefOf(prefix: string, root: string | null, path: string, dir: boolean): string {
  if (root === null) return `${prefix}/`;
  const p = path === '' ? '' : `/${path.split('/').map(encodeSegment).join('/')}`;
  return `${prefix}/${encodeSegment(root)}${p}${dir ? '/' : ''}`;
}

let lastDate = { sec: Number.NaN, text: '' };
/** An HTTP date (whole seconds). The last one is kept: a burst of small PUTs answers the same second. */
export function httpDate(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== lastDate.sec) lastDate = { sec, text: new Date(sec * 1000).toUTCString() };
  return lastDate.text;
}

/** Reads a non-PUT body up to the configured bound; past it the answer is 413. */
export async function readBody(ctx: DavContext): Promise<Buffer> {
  const max = ctx.opts.maxXmlBytes;
  const declared = Number(ctx.req.headers['content-length'] ?? 0);
  if (declared > max) throw new DavError(413, 'request body too large');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) throw new DavError(413, 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function hasBody(req: IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/** The XML body, or null when there is none; malformed XML is a 400. */
export async function readXml(ctx: DavContext): Promise<XmlElement | null> {
  const body = await readBody(ctx);
  const text = body.toString('utf8');
  if (text.trim() === '') return null;
  try {
    return parseXml(text);
  } catch (err) {
    if (err instanceof XmlError) throw new DavError(400, `malformed XML body: ${err.message}`);
    throw err;
  }
}

/** The entry at a target, or null when it does not exist. */
export async function statOrNull(ctx: DavContext, target: DavTarget = ctx.target): Promise<EntryInfo | null> {
  if (target.root === null) return null;
  try {
    return await ctx.conn.stat(target.root, target.path);
  } catch (err) {
    if (isCoreError(err, 'NOT_FOUND') || isCoreError(err, 'NOT_A_DIRECTORY')) return null;
    throw err;
  }
}

/**
 * Evaluates the If header (RFC 4918 10.4): false -> 412. The lock tokens it names become the
 * session's lock tokens, which the core checks on every write.
 */
export async function applyIfHeader(ctx: DavContext): Promise<void> {
  const header = ctx.req.headers.if;
  if (header === undefined) return;
  const lists = parseIfHeader(Array.isArray(header) ? header.join(' ') : header);
  const stateOf = async (resource: string | null): Promise<ResourceState> => {
    let target = ctx.target;
    if (resource !== null) {
      try {
        target = parseTarget(ctx.prefix, resource);
      } catch {
        return { etag: null, lockTokens: [] };
      }
    }
    if (target.root === null) return { etag: null, lockTokens: [] };
    const entry = await statOrNull(ctx, target);
    let lockTokens: string[] = [];
    try {
      lockTokens = (await ctx.conn.locksOn(target.root, entry?.path ?? target.path)).map((l) => l.token);
    } catch (err) {
      if (!isCoreError(err)) throw err;
    }
    return { etag: entry?.etag ?? null, lockTokens };
  };
  if (!(await evaluateIf(lists, stateOf))) throw new DavError(412, 'the If header does not match');
  ctx.session.lockTokens = submittedTokens(lists);
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * HTTP preconditions (RFC 9110 13.2.2, judged in protocols/common/conditional.ts) against the
 * current entry: 412 for a failed one, 'not-modified' for a GET/HEAD whose copy is fresh.
 */
export function checkConditions(req: IncomingMessage, entry: EntryInfo | null, read: boolean): 'ok' | 'not-modified' {
  const verdict = evaluatePreconditions(req.headers, entry, { read });
  if (verdict.outcome === 'precondition-failed') throw new DavError(412, verdict.reason);
  return verdict.outcome === 'not-modified' ? 'not-modified' : 'ok';
}

/** The version an If-Match matched (checkConditions passed), for the core to re-check atomically (onConflict 'fail'). */
export function baseVersionFor(req: IncomingMessage, entry: EntryInfo | null): number | undefined {
  const ifMatch = headerOf(req.headers, 'if-match');
  if (ifMatch === undefined || entry === null || entityTags(ifMatch) === '*') return undefined;
  return entry.version;
}

export function send(res: ServerResponse, status: number, body = '', type = 'text/plain; charset=utf-8'): void {
  res.statusCode = status;
  if (body !== '') res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendXml(res: ServerResponse, status: number, xml: string): void {
  send(res, status, `<?xml version="1.0" encoding="utf-8"?>\n${xml}`, 'application/xml; charset=utf-8');
}

/** Names macOS writes beside real files: dropped when the door is configured to ignore them. */
export function isAppleDouble(ctx: DavContext, target: DavTarget = ctx.target): boolean {
  if (ctx.opts.appleDouble !== 'ignore' || target.path === '') return false;
  const name = target.path.slice(target.path.lastIndexOf('/') + 1);
  return name === '.DS_Store' || name.startsWith('._');
}
