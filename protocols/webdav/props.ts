import { once } from 'node:events';
import type { DeadProperty, EntryInfo, LockInfo } from '../../src/core/index.js';
import { DavError, statusLine } from './errors.js';
import { activeLockXml } from './locking.js';
import { contentTypeOf } from '../common/content-type.js';
import { applyIfHeader, header, checkConditions, hrefOf, isAppleDouble, readXml, sendXml, type DavContext } from './request.js';
import { child, DAV, elements, escapeXml, innerXml, isDav, propertyXml, type XmlElement } from './xml.js';

const LIVE = ['creationdate', 'displayname', 'getcontentlength', 'getcontenttype', 'getetag', 'getlastmodified', 'resourcetype', 'lockdiscovery', 'supportedlock'];
const SUPPORTED_LOCK =
  '<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>' +
  '<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>';
/** Windows Explorer sets these after every upload; answered with success, not stored. */
const MS_NS = 'urn:schemas-microsoft-com:';

type Request = { mode: 'allprop'; include: { ns: string; name: string }[] } | { mode: 'propname' } | { mode: 'prop'; names: { ns: string; name: string }[] };

interface Resource {
  entry: EntryInfo;
  href: string;
  locks: LockInfo[];
  dead: DeadProperty[];
}

function parsePropfind(body: XmlElement | null): Request {
  if (!body) return { mode: 'allprop', include: [] };
  if (!isDav(body, 'propfind')) throw new DavError(400, 'expected DAV:propfind');
  const first = elements(body)[0];
  if (!first) throw new DavError(400, 'empty DAV:propfind');
  if (isDav(first, 'propname')) return { mode: 'propname' };
  if (isDav(first, 'allprop')) {
    const inc = child(body, DAV, 'include');
    return { mode: 'allprop', include: inc ? elements(inc).map((e) => ({ ns: e.ns, name: e.name })) : [] };
  }
  if (isDav(first, 'prop')) return { mode: 'prop', names: elements(first).map((e) => ({ ns: e.ns, name: e.name })) };
  throw new DavError(400, 'expected DAV:prop, DAV:allprop or DAV:propname');
}

/** Formatted dates by second, per response: thousands of files share a few seconds. */
type Dates = Map<number, [iso: string, http: string]>;

function datesOf(dates: Dates, ms: number): [string, string] {
  const sec = Math.floor(ms / 1000);
  let d = dates.get(sec);
  if (!d) {
    const date = new Date(sec * 1000);
    d = [date.toISOString().replace('.000Z', 'Z'), date.toUTCString()];
    if (dates.size > 10_000) dates.clear();
    dates.set(sec, d);
  }
  return d;
}

function liveValue(r: Resource, name: string, prefix: string, dates: Dates): string | null {
  const e = r.entry;
  const dir = e.kind === 'dir';
  switch (name) {
    case 'creationdate':
      return datesOf(dates, e.mtimeMs)[0];
    case 'displayname':
      return escapeXml(e.name);
    case 'getcontentlength':
      return dir ? null : String(e.size);
    case 'getcontenttype':
      return dir ? null : contentTypeOf(e.name);
    case 'getetag':
      return escapeXml(e.etag);
    case 'getlastmodified':
      return datesOf(dates, e.mtimeMs)[1];
    case 'resourcetype':
      return dir ? '<D:collection/>' : '';
    case 'lockdiscovery':
      return r.locks.map((l) => activeLockXml(l, prefix, e.root)).join('');
    case 'supportedlock':
      return SUPPORTED_LOCK;
    default:
      return null;
  }
}

const OK = `<D:status>${statusLine(200)}</D:status>`;

function responseXml(r: Resource, req: Request, prefix: string, dates: Dates): string {
  if (req.mode === 'allprop' && r.locks.length === 0 && r.dead.length === 0) {
    // The common listing, built in one template.
    const e = r.entry;
    const [iso, http] = datesOf(dates, e.mtimeMs);
    const file = e.kind === 'file';
    return (
      `<D:response><D:href>${escapeXml(r.href)}</D:href><D:propstat><D:prop><D:creationdate>${iso}</D:creationdate>` +
      `<D:displayname>${escapeXml(e.name)}</D:displayname>` +
      (file ? `<D:getcontentlength>${e.size}</D:getcontentlength><D:getcontenttype>${contentTypeOf(e.name)}</D:getcontenttype>` : '') +
      `<D:getetag>${escapeXml(e.etag)}</D:getetag><D:getlastmodified>${http}</D:getlastmodified>` +
      `<D:resourcetype>${file ? '' : '<D:collection/>'}</D:resourcetype><D:lockdiscovery/><D:supportedlock>${SUPPORTED_LOCK}</D:supportedlock>` +
      `</D:prop>${OK}</D:propstat></D:response>\n`
    );
  }
  const found: string[] = [];
  const missing: string[] = [];
  const live = (name: string) => {
    const v = liveValue(r, name, prefix, dates);
    if (v !== null) found.push(propertyXml(DAV, name, v));
    return v !== null;
  };
  if (req.mode === 'propname') {
    for (const n of LIVE) if (liveValue(r, n, prefix, dates) !== null) found.push(propertyXml(DAV, n, null));
    for (const p of r.dead) found.push(propertyXml(p.namespace, p.name, null));
  } else if (req.mode === 'allprop') {
    for (const n of LIVE) live(n);
    for (const p of r.dead) found.push(propertyXml(p.namespace, p.name, p.value));
  } else {
    for (const { ns, name } of req.names) {
      if (ns === DAV && LIVE.includes(name)) {
        if (!live(name)) missing.push(propertyXml(ns, name, null));
        continue;
      }
      const d = r.dead.find((p) => p.namespace === ns && p.name === name);
      if (d) found.push(propertyXml(ns, name, d.value));
      else missing.push(propertyXml(ns, name, null));
    }
  }
  let out = `<D:response><D:href>${escapeXml(r.href)}</D:href>`;
  if (found.length) out += `<D:propstat><D:prop>${found.join('')}</D:prop><D:status>${statusLine(200)}</D:status></D:propstat>`;
  if (missing.length) out += `<D:propstat><D:prop>${missing.join('')}</D:prop><D:status>${statusLine(404)}</D:status></D:propstat>`;
  if (!found.length && !missing.length) out += `<D:propstat><D:prop/><D:status>${statusLine(200)}</D:status></D:propstat>`;
  return `${out}</D:response>\n`;
}

const OPEN = '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">\n';
const CHUNK = 100;

/**
 * PROPFIND, answered from the core's metadata: the listing read a page at a time, one query for the
 * locks and one for the dead properties of the whole folder, each page written when the socket takes
 * it, other requests running in between (Depth infinity is treated as 1, as SabreDAV does).
 */
export async function propfind(ctx: DavContext): Promise<void> {
  const { conn, target, res, prefix, req } = ctx;
  const request = parsePropfind(await readXml(ctx));
  const depth = (header(req, 'depth') ?? 'infinity').toLowerCase();
  if (depth !== '0' && depth !== '1' && depth !== 'infinity') throw new DavError(400, 'invalid Depth');
  if (isAppleDouble(ctx)) throw new DavError(404, 'not found');
  // Always yield after a page: on loopback a 'drain' comes on the next tick, which alone would
  // never let the event loop accept another connection until the whole listing was written.
  const dates: Dates = new Map();
  const write = async (chunk: string) => {
    if (!res.write(chunk)) await once(res, 'drain');
    await new Promise((r) => setImmediate(r));
  };
  if (target.root === null) {
    const self: EntryInfo = { root: '', path: '', name: '', kind: 'dir', size: 0, mtimeMs: 0, hash: '', version: 1, deleted: false, seq: 0, etag: '"roots"' };
    const resources: Resource[] = [{ entry: self, href: `${prefix}/`, locks: [], dead: [] }];
    if (depth !== '0') {
      for (const r of conn.roots()) {
        const entry = await conn.stat(r.name, '');
        resources.push({ entry: { ...entry, name: r.name }, href: hrefOf(prefix, r.name, '', true), locks: [], dead: [] });
      }
    }
    return sendXml(res, 207, `<D:multistatus xmlns:D="DAV:">\n${resources.map((r) => responseXml(r, request, prefix, dates)).join('')}</D:multistatus>\n`);
  }
  const root = target.root;
  const entry = await conn.stat(root, target.path);
  const listing = entry.kind === 'dir' && depth !== '0';
  const locksOf = await conn.lockCoverage(root);
  const wantDead = !(request.mode === 'prop' && request.names.every((n) => n.ns === DAV));
  const dead = !wantDead
    ? new Map<string, DeadProperty[]>()
    : listing
      ? await conn.propertiesOfChildren(root, entry.path)
      : new Map([[entry.path, await conn.properties(root, entry.path)]]);
  const selfHref = hrefOf(prefix, root, entry.path, entry.kind === 'dir');
  const parentHref = hrefOf(prefix, root, entry.path, true);
  const xmlOf = (e: EntryInfo): string =>
    responseXml(
      {
        entry: e.path === '' ? { ...e, name: root } : e,
        href: e.path === entry.path ? selfHref : `${parentHref}${encodeURIComponent(e.name).replace(/'/g, '%27')}${e.kind === 'dir' ? '/' : ''}`,
        locks: locksOf(e.path),
        dead: dead.get(e.path) ?? [],
      },
      request,
      prefix,
      dates,
    );
  // The listing is read from the metadata a page at a time; small folders go out in one piece.
  const pages = listing ? conn.listPages(root, entry.path, CHUNK) : null;
  const firstPage = (pages && (await pages.next()).value) || { entries: [], last: true };
  const first = xmlOf(entry) + firstPage.entries.map(xmlOf).join('');
  res.statusCode = 207;
  if (firstPage.last) return sendXml(res, 207, `<D:multistatus xmlns:D="DAV:">\n${first}</D:multistatus>\n`);
  res.setHeader('Content-Type', 'application/xml; charset=utf-8');
  await write(OPEN + first);
  for await (const page of pages!) {
    if (res.destroyed) return; // leaving the loop closes the generator
    await write(page.entries.map(xmlOf).join(''));
  }
  res.end('</D:multistatus>\n');
}

/**
 * PROPPATCH: sets and removes applied in document order (the last instruction for a property
 * wins), all or nothing, dead properties kept in SQLite by the core. Live DAV: properties are
 * protected (403, the rest 424); Windows' Win32* times are answered with success.
 */
export async function proppatch(ctx: DavContext): Promise<void> {
  const { conn, target, req } = ctx;
  const body = await readXml(ctx);
  if (!body || !isDav(body, 'propertyupdate')) throw new DavError(400, 'expected DAV:propertyupdate');
  if (target.root === null) throw new DavError(403, 'the list of roots has no properties');
  const ops: { set: boolean; ns: string; name: string; value: string }[] = [];
  for (const instr of elements(body)) {
    if (!isDav(instr, 'set') && !isDav(instr, 'remove')) throw new DavError(400, 'expected DAV:set or DAV:remove');
    for (const prop of elements(instr).filter((e) => isDav(e, 'prop'))) {
      for (const p of elements(prop)) ops.push({ set: instr.name === 'set', ns: p.ns, name: p.name, value: innerXml(p) });
    }
  }
  const href = hrefOf(ctx.prefix, target.root, target.path, false);
  if (isAppleDouble(ctx)) return sendXml(ctx.res, 207, multistatus(href, ops.map((o) => ({ ...o, status: 200 }))));
  const entry = await conn.stat(target.root, target.path);
  await applyIfHeader(ctx);
  checkConditions(req, entry, false);
  const final = new Map<string, { set: boolean; ns: string; name: string; value: string; status: number }>();
  for (const op of ops) {
    const isProtected = op.ns === DAV;
    const ignored = op.ns === MS_NS && op.name.startsWith('Win32');
    final.set(`${op.ns}\u0000${op.name}`, { ...op, status: isProtected ? 403 : ignored ? -200 : 200 });
  }
  const results = [...final.values()];
  const failed = results.some((r) => r.status === 403);
  for (const r of results) r.status = failed ? (r.status === 403 ? 403 : 424) : Math.abs(r.status);
  if (!failed) {
    const store = results.filter((r) => !(r.ns === MS_NS && r.name.startsWith('Win32')));
    // The core checks write access and the locks (a refusal fails the whole PROPPATCH).
    await conn.patchProperties(
      target.root,
      entry.path,
      store.filter((r) => r.set).map((r) => ({ namespace: r.ns, name: r.name, value: r.value })),
      store.filter((r) => !r.set).map((r) => ({ namespace: r.ns, name: r.name })),
    );
  }
  sendXml(ctx.res, 207, multistatus(hrefOf(ctx.prefix, target.root, entry.path, entry.kind === 'dir'), results));
}

function multistatus(href: string, results: { ns: string; name: string; status: number }[]): string {
  const byStatus = new Map<number, string[]>();
  for (const r of results) {
    const list = byStatus.get(r.status) ?? [];
    list.push(propertyXml(r.ns, r.name, null));
    byStatus.set(r.status, list);
  }
  const stats = [...byStatus].map(([s, props]) => `<D:propstat><D:prop>${props.join('')}</D:prop><D:status>${statusLine(s)}</D:status></D:propstat>`).join('');
  return `<D:multistatus xmlns:D="DAV:"><D:response><D:href>${escapeXml(href)}</D:href>${stats}</D:response></D:multistatus>`;
}
