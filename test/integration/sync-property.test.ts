/**
 * Convergence, as a property: random edits, deletes and moves on two companion clients and through
 * another door, synced in random order (a client that does not sync for a while is offline), always
 * end in identical trees on both clients and the gateway once everyone syncs, and every content
 * that was acknowledged (synced from a client, or written through the other door) is still
 * reachable: a head, a version in history, or a conflict copy.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, type TestClient } from '../helpers/sync-client.js';

const PATHS = ['a.txt', 'b.txt', 'd/c.txt', 'd/e.txt'];
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

type Op =
  | { kind: 'write'; who: 0 | 1; path: string }
  | { kind: 'delete'; who: 0 | 1; path: string }
  | { kind: 'move'; who: 0 | 1; from: string; to: string }
  | { kind: 'sync'; who: 0 | 1 }
  | { kind: 'door-write'; path: string }
  | { kind: 'door-delete'; path: string };

const who = fc.constantFrom<0 | 1>(0, 1);
const p = fc.constantFrom(...PATHS);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), who, path: p }),
  fc.record({ kind: fc.constant('delete' as const), who, path: p }),
  fc.record({ kind: fc.constant('move' as const), who, from: p, to: p }),
  fc.record({ kind: fc.constant('sync' as const), who }),
  fc.record({ kind: fc.constant('sync' as const), who }),
  fc.record({ kind: fc.constant('door-write' as const), path: p }),
  fc.record({ kind: fc.constant('door-delete' as const), path: p }),
);

async function files(dir: string, rel = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const q = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      out.set(`${q}/`, 'dir');
      for (const [k, v] of await files(dir, q)) out.set(k, v);
    }
    else out.set(q, sha(await readFile(path.join(dir, q))));
  }
  return out;
}

const exists = (f: string) => stat(f).then(() => true, () => false);

async function runScenario(ops: Op[]): Promise<void> {
  const t: TestGateway = await startTestGateway();
  const clients: TestClient[] = [];
  try {
    clients.push(await startTestClient(t, 'one'), await startTestClient(t, 'two'));
    const conn = t.gw.core.connect(t.alice.session);
    const acknowledged = new Set<string>();
    let n = 0;
    for (const o of ops) {
      n += 1;
      if (o.kind === 'door-write') {
        const body = `door ${n}`;
        await conn.write('docs', o.path, Readable.from([Buffer.from(body)]), { createParents: true });
        acknowledged.add(sha(body));
      } else if (o.kind === 'door-delete') {
        await conn.delete('docs', o.path).catch(() => undefined);
      } else {
        const c = clients[o.who]!;
        if (o.kind === 'write') {
          const body = `${c.name} ${n}`;
          await mkdir(path.dirname(path.join(c.dir, o.path)), { recursive: true });
          await writeFile(path.join(c.dir, o.path), body);
        } else if (o.kind === 'delete') {
          await rm(path.join(c.dir, o.path), { force: true });
        } else if (o.kind === 'move') {
          if (o.from !== o.to && (await exists(path.join(c.dir, o.from))) && !(await exists(path.join(c.dir, o.to)))) {
            await mkdir(path.dirname(path.join(c.dir, o.to)), { recursive: true });
            await rename(path.join(c.dir, o.from), path.join(c.dir, o.to));
          }
        } else {
          const before = await files(c.dir);
          const r = await c.once();
          expect(r.errors).toEqual([]);
          for (const h of before.values()) if (h !== 'dir') acknowledged.add(h);
        }
      }
    }
    for (let round = 0; round < 3; round += 1) for (const c of clients) expect((await c.once()).errors).toEqual([]);
    const [one, two] = [await files(clients[0]!.dir), await files(clients[1]!.dir)];
    expect([...one.entries()].sort()).toEqual([...two.entries()].sort());
    const server = new Map<string, string>();
    const walk = async (dir: string) => {
      for (const e of await conn.list('docs', dir)) {
        if (e.kind === 'dir') {
          server.set(`${e.path}/`, 'dir');
          await walk(e.path);
        } else server.set(e.path, e.hash);
      }
    };
    await walk('');
    expect([...server.entries()].sort()).toEqual([...one.entries()].sort());
    // Every acknowledged content: a head, or in some path's history (conflict copies included).
    const reachable = new Set<string>();
    const paths = new Set<string>();
    for (let after = 0; ; ) {
      const page = await conn.changes('docs', after, 1000);
      for (const c of page.changes) paths.add(c.path);
      after = page.cursor;
      if (!page.more) break;
    }
    for (const q of paths) for (const v of await conn.history('docs', q).catch(() => [])) if (v.available) reachable.add(v.hash);
    for (const h of acknowledged) expect(reachable.has(h), `content ${h} lost`).toBe(true);
  } finally {
    for (const c of clients) await c.close();
    await t.close();
  }
}

describe('sync convergence (property)', () => {
  it('random operations on two clients and another door always converge, nothing acknowledged lost', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 24 }), runScenario), { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 12), endOnFailure: true });
  }, 600_000);
});
