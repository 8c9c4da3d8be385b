import { fail, type EntryInfo } from '../../../src/core/index.js';
import type { HttpContext } from '../context.js';

/** The version an entity tag names (`"v12-abcdef..."`), or null for a foreign tag. */
export function versionOfEtag(tag: string): number | null {
  const m = /^(?:W\/)?"v(\d+)-[^"]*"$/.exec(tag.trim());
  return m ? Number(m[1]) : null;
}

function tags(header: string): string[] {
  return header.split(',').map((t) => t.trim()).filter(Boolean);
}

/**
 * The base version a write names with If-Match (an ETag from a GET, or `"v<N>"` style tags), or
 * undefined without If-Match. `If-Match: *` only requires the file to exist (base = its version).
 */
export function baseVersionOf(ctx: HttpContext, current: () => Promise<EntryInfo | null>): Promise<number | undefined> {
  const h = ctx.get('if-match');
  if (!h) return Promise.resolve(undefined);
  return (async () => {
    if (h.trim() === '*') {
      const e = await current();
      if (!e) fail('PRECONDITION_FAILED', 'the file does not exist (If-Match: *)');
      return e.version;
    }
    const list = tags(h);
    if (list.length !== 1) fail('INVALID_INPUT', 'If-Match takes exactly one entity tag from this server');
    const v = versionOfEtag(list[0]!);
    if (v === null) fail('PRECONDITION_FAILED', 'If-Match does not name a version of this server');
    return v;
  })();
}

/** RFC 9110 If-None-Match / If-Modified-Since on a GET or HEAD: true when 304 applies. */
export function notModified(ctx: HttpContext, e: EntryInfo): boolean {
  const inm = ctx.get('if-none-match');
  if (inm) {
    if (inm.trim() === '*') return true;
    const weak = (t: string) => t.replace(/^W\//, '');
    return tags(inm).some((t) => weak(t) === weak(e.etag));
  }
  const ims = ctx.get('if-modified-since');
  if (ims) {
    const since = Date.parse(ims);
    if (!Number.isNaN(since)) return Math.floor(e.mtimeMs / 1000) * 1000 <= since;
  }
  return false;
}

/** If-Match on a GET: 412 when the current entity does not match. */
export function checkIfMatchRead(ctx: HttpContext, e: EntryInfo): void {
  const im = ctx.get('if-match');
  if (!im || im.trim() === '*') return;
  if (!tags(im).includes(e.etag)) fail('PRECONDITION_FAILED', 'the file changed (If-Match)');
}
