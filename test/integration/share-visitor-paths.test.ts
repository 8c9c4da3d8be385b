import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A share link's visitor sees paths inside what was shared, never where it sits in its owner's
 * root: a link to Clients/ACME must not tell a stranger that there is a folder Clients above it.
 */
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

async function link(t: TestGateway, path: string): Promise<string> {
  const res = await fetch(`${t.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', path }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

describe('share link errors speak in the shared folder\'s terms', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
    await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'Clients/ACME Corp/reports', { createParents: true });
    await fetch(`${t.url}/api/v1/roots/docs/files/Clients/ACME%20Corp/q1.txt`, { method: 'PUT', headers: { authorization: ALICE }, body: 'q1' });
  });
  afterAll(async () => t?.close());

  it('a missing file, a missing folder and a file taken for a folder name no path above the link', async () => {
    const token = await link(t, 'Clients/ACME Corp');
    const answers = await Promise.all(
      [`/s/${token}/meta?dir=nope`, `/s/${token}/download/nope.txt`, `/s/${token}/download/reports/gone.txt`, `/s/${token}/meta?dir=q1.txt%2Fx`].map(async (p) => {
        const res = await fetch(t.url + p);
        return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404]);
    for (const a of answers) expect(a.body.error.message).not.toMatch(/Clients|ACME/);
    expect(answers[0]!.body.error.message).toBe('nope does not exist');
    expect(answers[2]!.body.error.message).toBe('reports/gone.txt does not exist');
  });
});
