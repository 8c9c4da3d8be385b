import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { body } from '../helpers/core.js';
import { startTestGateway } from '../helpers/gateway.js';
import { connectAll, type AllDoors } from './doors.js';

/**
 * A root's conflict policy is decided in the core, so the two doors that send a base (REST's
 * If-Match, the sync protocol's base version) end the same under it, and every door sees the same
 * result: server-wins keeps the server's content at the path, newest-wins takes the newer one; both
 * without a conflict copy, both with a record that names the policy and the side kept.
 */
describe('conformance: a root\'s conflict policy, through every door that sends a base', () => {
  let all: AllDoors;
  let sync: Api;
  beforeAll(async () => {
    all = await connectAll(await startTestGateway());
    const login = await new Api(all.t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: all.t.alice.name, password: all.t.alice.password });
    sync = new Api(all.t.url, login.token);
  });
  afterAll(async () => all?.close());

  const conn = () => all.t.gw.core.connect(all.t.alice.session);
  const sha = (b: string) => createHash('sha256').update(b).digest('hex');
  const auth = () => ({ authorization: `Basic ${Buffer.from(`${all.t.alice.name}:${all.t.alice.password}`).toString('base64')}` });

  /** Writes 'mine' on base version 1 of `path` through the door; returns what the door answered, in its terms. */
  const staleWrite: Record<'rest' | 'sync', (path: string, etag1: string) => Promise<string>> = {
    rest: async (path, etag1) => {
      const res = await fetch(`${all.t.url}/api/v1/roots/docs/files/${path}`, { method: 'PUT', headers: { ...auth(), 'if-match': etag1 }, body: 'mine' });
      const b = (await res.json()) as { conflict?: { kept: string } };
      return `${res.status} kept ${b.conflict?.kept}`;
    },
    sync: async (path) => {
      const w = await sync.upload('docs', { path, base: 1, sha256: sha('mine'), mtimeMs: Date.now(), size: 4 }, Readable.from([Buffer.from('mine')]));
      return `conflict ${w.conflict ? 'recorded' : 'none'}`;
    },
  };

  for (const [policy, expected] of [
    ['server-wins', { content: 'server', kept: 'server', rest: '409 kept server' }],
    ['newest-wins', { content: 'mine', kept: 'incoming', rest: '200 kept incoming' }],
  ] as const) {
    it(`${policy}: an outdated base through REST and through the sync protocol ends the same, and every door sees it`, async () => {
      await conn().setConflictPolicy('docs', policy);
      try {
        const outcomes: Record<string, unknown> = {};
        for (const door of ['rest', 'sync'] as const) {
          const dir = `${policy}-${door}`;
          await conn().mkdir('docs', dir);
          const path = `${dir}/plan.txt`;
          const v1 = await conn().write('docs', path, body('base'));
          await conn().write('docs', path, body('server'));
          const answer = await staleWrite[door](path, v1.entry.etag);
          if (door === 'rest') expect(answer).toBe(expected.rest);
          else expect(answer).toBe('conflict recorded');
          const contents = new Set<string>();
          const listings = new Set<string>();
          for (const [, client] of all.clients) {
            contents.add((await client.get(path)).toString());
            listings.add(JSON.stringify((await client.list(dir)).sort()));
          }
          const records = (await conn().conflicts('docs')).filter((c) => c.path === path);
          const history = (await conn().history('docs', path)).sort((a, b) => a.version - b.version);
          outcomes[door] = {
            contents: [...contents],
            listings: [...listings].map((l) => JSON.parse(l) as string[]),
            records: records.map((c) => ({ kind: c.kind, policy: c.policy, kept: c.kept, copyPath: c.copyPath, base: c.baseVersion, server: c.serverVersion, incoming: c.incomingHash })),
            history: history.map((v) => [v.version, v.op, v.hash]),
          };
        }
        expect(outcomes.sync).toEqual(outcomes.rest);
        expect(outcomes.rest).toMatchObject({
          contents: [expected.content],
          listings: [['plan.txt']],
          records: [{ kind: 'edit-edit', policy, kept: expected.kept, copyPath: '', base: 1, server: 2, incoming: sha('mine') }],
        });
        // Nothing lost: the server's version stays in history whichever side won.
        expect((outcomes.rest as { history: unknown[] }).history).toContainEqual([2, 'write', sha('server')]);
      } finally {
        await conn().setConflictPolicy('docs', 'keep-both');
      }
    });
  }
});
