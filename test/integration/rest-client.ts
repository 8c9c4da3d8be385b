/** A tiny fetch wrapper for the REST tests. */
export type Creds = { basic: [string, string] } | { bearer: string } | { cookie: string; csrf?: string } | null;

export function authHeaders(c: Creds): Record<string, string> {
  if (!c) return {};
  if ('basic' in c) return { authorization: `Basic ${Buffer.from(`${c.basic[0]}:${c.basic[1]}`).toString('base64')}` };
  if ('bearer' in c) return { authorization: `Bearer ${c.bearer}` };
  return { cookie: c.cookie, ...(c.csrf ? { 'x-csrf-token': c.csrf } : {}) };
}

export interface Answer {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

export function client(base: string, creds: Creds) {
  // Buffers are fine bodies for fetch at run time; the DOM typings disagree.
  type Body = BodyInit | Buffer;
  async function call(method: string, path: string, opts: { json?: unknown; body?: Body; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...authHeaders(creds), ...(opts.headers ?? {}) };
    let body = opts.body as BodyInit | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(base + path, { method, headers, body, redirect: 'manual' });
    const buf = Buffer.from(await res.arrayBuffer());
    const text = buf.toString('utf8');
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return Object.assign({ status: res.status, headers: res.headers, json, text }, { raw: buf });
  }
  return {
    call,
    get: (p: string, headers?: Record<string, string>) => call('GET', p, { headers }),
    post: (p: string, json?: unknown, headers?: Record<string, string>) => call('POST', p, { json: json ?? {}, headers }),
    put: (p: string, body: Body, headers?: Record<string, string>) => call('PUT', p, { body, headers }),
    putJson: (p: string, json: unknown) => call('PUT', p, { json }),
    patch: (p: string, json: unknown) => call('PATCH', p, { json }),
    del: (p: string, headers?: Record<string, string>) => call('DELETE', p, { headers }),
    bytes: async (p: string, headers?: Record<string, string>) => {
      const a = await call('GET', p, { headers });
      return (a as unknown as { raw: Buffer }).raw;
    },
  };
}
