import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A drop link's open uploads are shared between addresses (DESIGN: no stranger locks others out):
 * one address holds at most half of them, so slow uploads from one client (bodies held open, as a
 * sender at the minimum body rate does for days) leave room for everyone else. The addresses are
 * the ones a trusted proxy appends to X-Forwarded-For (the last entry), as the login guard keys them.
 */
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

interface Answer { status: number; body: string; retryAfter: string | undefined }

/** A drop upload whose body stays open (one byte sent) until finish(); `from` is the proxy's X-Forwarded-For. */
function heldDrop(t: TestGateway, token: string, name: string, from: string) {
  const u = new URL(t.url);
  let req!: http.ClientRequest;
  const done = new Promise<Answer>((resolve, reject) => {
    req = http.request(
      { host: u.hostname, port: u.port, method: 'PUT', path: `/s/${token}/upload/${encodeURIComponent(name)}`, headers: { 'x-forwarded-for': from }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, retryAfter: res.headers['retry-after'] as string | undefined }));
      },
    );
    req.on('error', reject);
    req.write('x');
  });
  return { name, done, finish: () => req.end('y') };
}

type Held = ReturnType<typeof heldDrop>;

/** The first of these uploads the gateway answers while all their bodies are still open, and the others. */
async function firstAnswered(held: Held[]): Promise<{ refused: Held; answer: Answer; others: Held[] }> {
  const { i, answer } = await Promise.race(held.map((h, i) => h.done.then((answer) => ({ i, answer }))));
  return { refused: held[i]!, answer, others: held.filter((_, j) => j !== i) };
}

describe('drop links: one address holds at most half of a link\'s open uploads', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ http: { trustProxy: true }, shares: { dropMaxOpenUploads: 4 } });
    await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'drop');
  });
  afterAll(async () => t?.close());

  it('a third slow upload from one address is refused with 429 and Retry-After; another address still drops two', async () => {
    const res = await fetch(`${t.url}/api/v1/shares`, { method: 'POST', headers: { authorization: ALICE, 'content-type': 'application/json' }, body: JSON.stringify({ root: 'docs', path: 'drop', uploadOnly: true }) });
    const { token } = (await res.json()) as { token: string };

    // Each names another address first: only the entry the proxy appended (the last) counts, as
    // for the login guard, so a client cannot get a fresh share by writing X-Forwarded-For itself.
    const stranger = [1, 2, 3].map((i) => heldDrop(t, token, `s${i}.bin`, `10.9.8.${i}, 203.0.113.7`));
    const { refused, answer, others } = await firstAnswered(stranger);
    expect(answer.status).toBe(429);
    expect(answer.retryAfter).toBe('5');
    const error = JSON.parse(answer.body).error as { message: string; details: { reason: string } };
    expect(error.details.reason).toBe('open-uploads-address');
    expect(error.message).toMatch(/wait until one has finished/);
    refused.finish();

    // The stranger's two still hold their slots (bodies open); someone else gets the other two:
    // of three from a second address, whichever comes last finds the link full, the others go in.
    const neighbour = await firstAnswered([1, 2, 3].map((i) => heldDrop(t, token, `n${i}.bin`, '198.51.100.9')));
    neighbour.refused.finish();
    expect(neighbour.answer.status).toBe(429);
    expect(JSON.parse(neighbour.answer.body).error.details.reason).toBe('open-uploads');
    // All four held: a third address is refused by the link's own cap.
    const late = heldDrop(t, token, 'late.bin', '192.0.2.1');
    const lateAnswer = await late.done;
    late.finish();
    expect(lateAnswer.status).toBe(429);
    for (const n of neighbour.others) n.finish();
    expect((await Promise.all(neighbour.others.map((n) => n.done))).map((a) => a.status)).toEqual([201, 201]);
    for (const o of others) o.finish();
    expect((await Promise.all(others.map((o) => o.done))).map((a) => a.status)).toEqual([201, 201]);
    const names = (await t.gw.core.vfs.list(t.alice.session, 'docs', 'drop')).map((e) => e.name).sort();
    expect(names).toEqual([...others, ...neighbour.others].map((h) => h.name).sort());
  });
});
