import { describeDoor } from './suite.js';

/** The conformance suite through the REST API, with plain fetch as the client. */
describeDoor('REST', 'rest', async (t) => {
  const auth = { authorization: `Basic ${Buffer.from(`${t.alice.name}:${t.alice.password}`).toString('base64')}` };
  const base = `${t.url}/api/v1/roots/docs`;
  const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  async function ok(res: Response, what: string): Promise<Response> {
    if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
    return res;
  }
  const json = (body: unknown) => ({ method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return {
    put: async (p, data) => void (await (await ok(await fetch(`${base}/files/${enc(p)}?parents=0`, { method: 'PUT', headers: auth, body: data as unknown as BodyInit }), `PUT ${p}`)).arrayBuffer()),
    get: async (p) => Buffer.from(await (await ok(await fetch(`${base}/files/${enc(p)}`, { headers: auth }), `GET ${p}`)).arrayBuffer()),
    list: async (d) => ((await (await ok(await fetch(`${base}/list/${enc(d)}`, { headers: auth }), `list ${d}`)).json()) as { entries: { name: string }[] }).entries.map((e) => e.name),
    mkdir: async (p) => void (await (await ok(await fetch(`${base}/mkdir`, json({ path: p })), `mkdir ${p}`)).arrayBuffer()),
    remove: async (p) => void (await (await ok(await fetch(`${base}/files/${enc(p)}`, { method: 'DELETE', headers: auth }), `DELETE ${p}`)).arrayBuffer()),
    move: async (a, b) => void (await (await ok(await fetch(`${base}/move`, json({ from: a, to: b })), `move ${a}`)).arrayBuffer()),
    close: async () => {},
  };
});
