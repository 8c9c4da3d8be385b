/**
 * The five doors as a conformance test reaches them: each with a real client (the core's
 * connection, the `webdav` package, basic-ftp, fetch on the REST API, the companion client's Api
 * on the sync protocol), behind one small interface. Paths are relative to root 'docs' of alice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { createClient } from 'webdav';
import { Api } from '../../src/client/api.js';
import type { WireChange } from '../../src/sync-wire/index.js';
import { body, readAll } from '../helpers/core.js';
import { basicAuth, type TestGateway } from '../helpers/gateway.js';

/** What a door shows of one entry; null where the door has no way to show it. */
export interface DoorStat {
  kind: 'file' | 'dir';
  size: number;
  mtimeMs: number;
  version: number | null;
  /** The first 12 hex digits of the SHA-256 (WebDAV's entity tag carries no more). */
  hash12: string | null;
}

/** What a test needs from a door: plain file operations through a real client. */
export interface DoorClient {
  put(path: string, data: Buffer): Promise<void>;
  get(path: string): Promise<Buffer>;
  /** Names in a folder. */
  list(dir: string): Promise<string[]>;
  stat(path: string): Promise<DoorStat>;
  mkdir(path: string): Promise<void>;
  /** A file, or a folder with what is in it. */
  remove(path: string): Promise<void>;
  move(from: string, to: string): Promise<void>;
  close(): Promise<void>;
}

export interface Door {
  /** For test names. */
  name: string;
  /** The protocol the core records for this door's changes. */
  protocol: string;
  /** How finely the door shows a modification time: FTP (MDTM, MLST) and WebDAV (an HTTP date) show whole seconds. */
  mtimePrecisionMs: number;
  connect(t: TestGateway): Promise<DoorClient>;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const nameOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
/** The version and hash prefix in this server's entity tags: `"v12-0123456789ab"` (the `webdav` client drops the quotes). */
function fromEtag(etag: string | null | undefined): { version: number | null; hash12: string | null } {
  const m = /^(?:W\/)?"?v(\d+)-([0-9a-f]{12}|dir)"?$/.exec(etag ?? '');
  return m ? { version: Number(m[1]), hash12: m[2] === 'dir' ? null : m[2]! } : { version: null, hash12: null };
}

export const coreDoor: Door = {
  name: 'the core',
  protocol: 'core',
  mtimePrecisionMs: 1,
  async connect(t) {
    const conn = t.gw.core.connect(t.alice.session);
    return {
      put: async (p, data) => void (await conn.write('docs', p, body(data))),
      get: async (p) => readAll((await conn.read('docs', p)).stream),
      list: async (d) => (await conn.list('docs', d)).map((e) => e.name),
      stat: async (p) => {
        const e = await conn.stat('docs', p);
        return { kind: e.kind, size: e.size, mtimeMs: e.mtimeMs, version: e.version, hash12: e.hash ? e.hash.slice(0, 12) : null };
      },
      mkdir: async (p) => void (await conn.mkdir('docs', p)),
      remove: async (p) => void (await conn.delete('docs', p)),
      move: async (a, b) => void (await conn.move('docs', a, b)),
      close: async () => {},
    };
  },
};

export const webdavDoor: Door = {
  name: 'WebDAV',
  protocol: 'webdav',
  mtimePrecisionMs: 1000,
  async connect(t) {
    const client = createClient(`${t.url}/dav/docs`, { username: t.alice.name, password: t.alice.password });
    const abs = (p: string) => `/${p}`;
    return {
      put: async (p, data) => {
        const ok = await client.putFileContents(abs(p), data, { overwrite: true });
        if (!ok) throw new Error(`PUT ${p} refused`);
      },
      get: async (p) => Buffer.from((await client.getFileContents(abs(p), { format: 'binary' })) as ArrayBuffer),
      list: async (d) => ((await client.getDirectoryContents(abs(d))) as { basename: string }[]).map((f) => f.basename),
      stat: async (p) => {
        const s = (await client.stat(abs(p))) as { type: string; size: number; lastmod: string; etag: string | null };
        return { kind: s.type === 'directory' ? 'dir' : 'file', size: s.type === 'directory' ? 0 : s.size, mtimeMs: Date.parse(s.lastmod), ...fromEtag(s.etag) };
      },
      mkdir: async (p) => void (await client.createDirectory(abs(p))),
      remove: (p) => client.deleteFile(abs(p)),
      move: (a, b) => client.moveFile(abs(a), abs(b)),
      close: async () => {},
    };
  },
};

export const ftpDoor: Door = {
  name: 'FTP',
  protocol: 'ftp',
  mtimePrecisionMs: 1000,
  async connect(t) {
    const client = new Client(10_000);
    await client.access({ host: '127.0.0.1', port: t.ftpPort!, user: t.alice.name, password: t.alice.password });
    const abs = (p: string) => `/docs/${p}`;
    /** MLST's facts (RFC 3659): `type=file;size=5;modify=20261207101530;perm=...; /docs/x`. */
    async function facts(p: string): Promise<Record<string, string>> {
      const res = await client.send(`MLST ${abs(p)}`);
      const line = res.message.split('\n').find((l) => /type=/i.test(l)) ?? '';
      return Object.fromEntries(line.trim().split(' ')[0]!.split(';').filter(Boolean).map((f) => f.split('=') as [string, string]).map(([k, v]) => [k.toLowerCase(), v]));
    }
    const ftpTime = (s: string) => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(8, 10), +s.slice(10, 12), +s.slice(12, 14));
    return {
      put: async (p, data) => void (await client.uploadFrom(Readable.from([data]), abs(p))),
      get: async (p) => {
        const chunks: Buffer[] = [];
        await client.downloadTo(new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) }), abs(p));
        return Buffer.concat(chunks);
      },
      list: async (d) => (await client.list(abs(d))).map((f) => f.name),
      stat: async (p) => {
        const f = await facts(p);
        const dir = f.type === 'dir' || f.type === 'cdir';
        return { kind: dir ? 'dir' : 'file', size: dir ? 0 : Number(f.size), mtimeMs: ftpTime(f.modify ?? ''), version: null, hash12: null };
      },
      mkdir: async (p) => void (await client.send(`MKD ${abs(p)}`)),
      remove: async (p) => {
        const info = (await client.list(abs(parentOf(p)))).find((f) => f.name === nameOf(p));
        if (info?.isDirectory) await client.removeDir(abs(p));
        else await client.remove(abs(p));
      },
      move: async (a, b) => void (await client.rename(abs(a), abs(b))),
      close: async () => client.close(),
    };
  },
};

export const restDoor: Door = {
  name: 'REST',
  protocol: 'rest',
  mtimePrecisionMs: 1,
  async connect(t) {
    const auth = { authorization: basicAuth(t.alice) };
    const base = `${t.url}/api/v1/roots/docs`;
    const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
    async function ok(res: Response, what: string): Promise<Response> {
      if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
      return res;
    }
    const json = (b: unknown) => ({ method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(b) });
    const drained = async (res: Promise<Response>, what: string) => void (await (await ok(await res, what)).arrayBuffer());
    return {
      put: (p, data) => drained(fetch(`${base}/files/${enc(p)}?parents=0`, { method: 'PUT', headers: auth, body: data as unknown as BodyInit }), `PUT ${p}`),
      get: async (p) => Buffer.from(await (await ok(await fetch(`${base}/files/${enc(p)}`, { headers: auth }), `GET ${p}`)).arrayBuffer()),
      list: async (d) => ((await (await ok(await fetch(`${base}/list/${enc(d)}`, { headers: auth }), `list ${d}`)).json()) as { entries: { name: string }[] }).entries.map((e) => e.name),
      stat: async (p) => {
        const e = (await (await ok(await fetch(`${base}/stat/${enc(p)}`, { headers: auth }), `stat ${p}`)).json()) as { kind: 'file' | 'dir'; size: number; mtimeMs: number; version: number; hash: string | null };
        return { kind: e.kind, size: e.size, mtimeMs: e.mtimeMs, version: e.version, hash12: e.hash ? e.hash.slice(0, 12) : null };
      },
      mkdir: (p) => drained(fetch(`${base}/mkdir`, json({ path: p })), `mkdir ${p}`),
      remove: (p) => drained(fetch(`${base}/files/${enc(p)}`, { method: 'DELETE', headers: auth }), `DELETE ${p}`),
      move: (a, b) => drained(fetch(`${base}/move`, json({ from: a, to: b })), `move ${a}`),
      close: async () => {},
    };
  },
};

/** The device name the sync door's client logs in with (conflict copies name it). */
export const SYNC_DEVICE = 'conformance';

/** The sync protocol has no listing or stat: a folder's names and an entry's state come from the change feed, as a client builds them. */
export const syncDoor: Door = {
  name: 'the sync protocol',
  protocol: 'sync',
  mtimePrecisionMs: 1,
  async connect(t) {
    const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: SYNC_DEVICE, user: t.alice.name, password: t.alice.password });
    const api = new Api(t.url, login.token);
    async function heads(): Promise<Map<string, WireChange>> {
      const out = new Map<string, WireChange>();
      for (let after = 0; ; ) {
        const page = await api.changes('docs', after);
        for (const c of page.changes) out.set(c.path, c);
        after = page.cursor;
        if (!page.more) return out;
      }
    }
    return {
      put: async (p, data) => void (await api.upload('docs', { path: p, sha256: sha(data), mtimeMs: Date.now(), size: data.length }, Readable.from([data]))),
      get: async (p) => readAll((await api.download('docs', p)).body),
      list: async (dir) => [...(await heads())].filter(([p, c]) => !c.deleted && parentOf(p) === dir && p !== '').map(([p]) => nameOf(p)),
      stat: async (p) => {
        const c = (await heads()).get(p);
        if (!c || c.deleted) throw new Error(`${p}: not in the feed`);
        return { kind: c.kind, size: c.kind === 'dir' ? 0 : c.size, mtimeMs: c.mtimeMs, version: c.version, hash12: c.sha256 ? c.sha256.slice(0, 12) : null };
      },
      mkdir: async (p) => void (await api.mkdir('docs', p)),
      remove: async (p) => void (await api.remove('docs', p)),
      move: async (a, b) => void (await api.move('docs', a, b)),
      close: async () => {},
    };
  },
};

export const DOORS: readonly Door[] = [coreDoor, webdavDoor, ftpDoor, restDoor, syncDoor];

/** One real gateway with every door connected, for the cases that compare doors with each other. */
export interface AllDoors {
  t: TestGateway;
  clients: Map<Door, DoorClient>;
  close(): Promise<void>;
}

export async function connectAll(t: TestGateway): Promise<AllDoors> {
  const clients = new Map<Door, DoorClient>();
  for (const d of DOORS) clients.set(d, await d.connect(t));
  return {
    t,
    clients,
    async close() {
      for (const c of clients.values()) await c.close();
      await t.close();
    },
  };
}
