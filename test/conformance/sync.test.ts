import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Api } from '../../src/client/api.js';
import type { WireChange } from '../../src/sync-wire/index.js';
import { describeDoor } from './suite.js';

/**
 * The conformance suite through the sync protocol, with the companion client's own protocol client.
 * The protocol has no listing: a folder's names come from the change feed, as a client builds them.
 */
describeDoor('the sync protocol', 'sync', async (t) => {
  const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'conformance', user: t.alice.name, password: t.alice.password });
  const api = new Api(t.url, login.token);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
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
    get: async (p) => {
      const dl = await api.download('docs', p);
      const parts: Uint8Array[] = [];
      for await (const c of dl.body) parts.push(c);
      return Buffer.concat(parts);
    },
    list: async (dir) => {
      const names: string[] = [];
      for (const [p, c] of await heads()) {
        const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
        if (!c.deleted && parent === dir) names.push(p.slice(parent ? parent.length + 1 : 0));
      }
      return names;
    },
    mkdir: async (p) => void (await api.mkdir('docs', p)),
    remove: async (p) => void (await api.remove('docs', p)),
    move: async (a, b) => void (await api.move('docs', a, b)),
    close: async () => {},
  };
});
