import fc from 'fast-check';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawFtp } from '../../protocols/ftp/raw-ftp.test-support.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Issue 22 "Also": random WebDAV XML bodies, FTP command lines and REST JSON bodies. Whatever comes
 * in: an answer in the protocol's own terms (no HTTP 5xx), within seconds (no hang), and the gateway
 * still answers afterwards (no crash). Each property stops after a few seconds, whatever it reached;
 * FUZZ_MS and FUZZ_SEED make a longer or a repeated run.
 */
const BUDGET_MS = Number(process.env.FUZZ_MS ?? 4000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const ANSWER_WITHIN_MS = 10_000;
const params = { numRuns: 100_000, interruptAfterTimeLimit: BUDGET_MS, seed: SEED, endOnFailure: true };

/** Cases run per property; FUZZ_REPORT=1 prints them (how far a few seconds got). */
const ran: Record<string, number> = {};
const count = (name: string) => (ran[name] = (ran[name] ?? 0) + 1);

let t: TestGateway;
let davAuth: string;
let bobAuth: string;
let shareToken: string;

beforeAll(async () => {
  // No ban or slow-down: the fuzzer's wrong passwords would otherwise stop it at the tenth case.
  t = await startTestGateway({ security: { banAfter: 1_000_000, freeAttempts: 1_000_000 } });
  davAuth = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
  await t.gw.core.accounts.createUser('bob', 'bob-password');
  bobAuth = `Basic ${Buffer.from('bob:bob-password').toString('base64')}`;
  const s = t.alice.session;
  await t.gw.core.vfs.write(s, 'docs', 'f.txt', Readable.from([Buffer.from('hello')]));
  await t.gw.core.vfs.mkdir(s, 'docs', 'folder');
  shareToken = (await t.gw.core.shares.create(s, { root: 'docs', path: 'folder', password: 'link-password' })).token;
});
afterAll(async () => {
  if (process.env.FUZZ_REPORT) console.log('fuzz cases run', ran);
  await t?.close();
});

async function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(t.url + path, { method, headers, body, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** The gateway still serves both an anonymous and a signed-in request. */
async function stillAnswers(): Promise<void> {
  expect((await send('GET', '/health', {})).status).toBe(200);
  expect((await send('PROPFIND', '/dav/docs/', { authorization: davAuth, depth: '0' })).status).toBe(207);
}

// ---- WebDAV XML ---------------------------------------------------------------------------------

const davNames = ['propfind', 'prop', 'allprop', 'propname', 'include', 'propertyupdate', 'set', 'remove', 'lockinfo', 'lockscope', 'exclusive', 'shared', 'locktype', 'write', 'owner', 'href', 'displayname', 'getcontentlength', 'getlastmodified', 'resourcetype', 'collection', 'lockdiscovery', 'supportedlock', 'quota-used-bytes', 'getetag'];
const elementName = fc.oneof(fc.constantFrom(...davNames), fc.stringMatching(/^[A-Za-z_][\w.-]{0,8}$/));
const prefix = fc.constantFrom('D:', 'D:', '', 'Z:', 'x:', 'undeclared:', ':', 'D:D:');
const nsDecl = fc.constantFrom('', '', ' xmlns:D="DAV:"', ' xmlns="DAV:"', ' xmlns:Z="urn:z"', ' xmlns:D=""', ' xmlns:x="http://e.com/?a&amp;b"', ' a="1" a="2"', ' xml:lang="en"', ' D:attr="<"');
const oddText = fc.constantFrom('&amp;', '&lt;', '&#0;', '&#xD800;', '&#x110000;', '&undefined;', ']]>', '<![CDATA[<x/>]]>', '<!-- c -->', '\u0000', '<?pi x?>', '\uFFFE', 'http://127.0.0.1/dav/docs/f.txt', '/dav/docs/f.txt', '  \t\n');
const xmlTree = fc.letrec<{ node: string; element: string }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.string({ maxLength: 20 }).map((s) => s.replace(/[<&]/g, '')), oddText, tie('element')),
  element: fc
    .tuple(prefix, elementName, nsDecl, fc.array(tie('node'), { maxLength: 4 }), fc.boolean())
    .map(([p, n, ns, kids, empty]) => (empty && kids.length === 0 ? `<${p}${n}${ns}/>` : `<${p}${n}${ns}>${kids.join('')}</${p}${n}>`)),
}));
const rootFor: Record<string, string> = { PROPFIND: 'propfind', PROPPATCH: 'propertyupdate', LOCK: 'lockinfo' };
const xmlBody = (method: string) =>
  fc
    .tuple(
      fc.constantFrom('', '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="latin1"?>', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'),
      fc.boolean(),
      fc.array(xmlTree.node, { maxLength: 5 }),
      fc.oneof(fc.constant(-1), fc.nat()),
      fc.string({ maxLength: 10 }),
    )
    .map(([head, wrap, kids, cut, junk]) => {
      let doc = head + (wrap ? `<D:${rootFor[method]} xmlns:D="DAV:">${kids.join('')}</D:${rootFor[method]}>` : kids.join(''));
      if (cut >= 0) doc = doc.slice(0, cut % (doc.length + 1)) + junk; // truncated or trailing junk
      return doc;
    });

describe('fuzz: WebDAV XML bodies', () => {
  for (const method of ['PROPFIND', 'PROPPATCH', 'LOCK']) {
    it(`${method}: any body gets a 2xx-4xx answer and the gateway still answers`, async () => {
      await fc.assert(
        fc.asyncProperty(
          xmlBody(method),
          fc.constantFrom('/dav/docs/', '/dav/docs/f.txt', '/dav/docs/folder/', '/dav/docs/new.txt'),
          fc.constantFrom(undefined, '0', '1', 'infinity', 'x'),
          fc.constantFrom(undefined, 'Second-60', 'Infinite, Second-4100000000', 'Second-x', ''),
          fc.constantFrom('application/xml', 'text/xml; charset=utf-8', 'text/plain', undefined),
          async (body, path, depth, timeout, type) => {
            count(method);
            const headers: Record<string, string> = { authorization: davAuth };
            if (depth !== undefined) headers.depth = depth;
            if (timeout !== undefined) headers.timeout = timeout;
            if (type !== undefined) headers['content-type'] = type;
            const res = await send(method, path, headers, body);
            expect(res.status, `${method} ${path}\n${body}`).toBeLessThan(500);
            const lockToken = res.headers.get('lock-token');
            if (lockToken) await send('UNLOCK', path, { authorization: davAuth, 'lock-token': lockToken });
            await stillAnswers();
          },
        ),
        params,
      );
    });
  }
});

// ---- FTP command lines --------------------------------------------------------------------------

// PASV and EPSV are left out: after them a transfer command rightly waits for the data connection.
// AUTH only with arguments that are no TLS mechanism: a TLS handshake is no command line.
const ftpVerbs = ['USER', 'PASS', 'ACCT', 'CWD', 'XCWD', 'CDUP', 'SMNT', 'REIN', 'QUIT', 'PORT', 'EPRT', 'TYPE', 'STRU', 'MODE', 'RETR', 'STOR', 'STOU', 'APPE', 'ALLO', 'REST', 'RNFR', 'RNTO', 'ABOR', 'DELE', 'RMD', 'XRMD', 'MKD', 'XMKD', 'PWD', 'LIST', 'NLST', 'MLSD', 'MLST', 'SITE', 'SYST', 'STAT', 'HELP', 'NOOP', 'FEAT', 'OPTS', 'AUTH', 'PBSZ', 'PROT', 'CCC', 'SIZE', 'MDTM', 'MFMT', 'CLNT', 'LANG', 'HOST', 'XYZZY'];
const ftpArg = fc.oneof(
  fc.constantFrom('', ' ', 'f.txt', 'folder', '..', '../../..', '/', '//', '\\..\\..', '%2e%2e/', 'A', 'I', 'L 8', 'E', '-1', '99999999999999999999', '127,0,0,1,4,1', '|2|::1|2021|', '|1|127.0.0.1|0|', 'UTF8 ON', 'MLST type;size;', '20261207000000 f.txt', 'X'.repeat(5000), '*', '-la', 'f.txt\u0000x'),
  fc.string({ maxLength: 60, unit: 'grapheme' }),
  fc.string({ maxLength: 30, unit: 'binary' }),
);
// A line that decodes to nothing (blank, or Telnet IAC bytes only) gets no reply, as in most servers:
// every generated line starts with a letter, so each one is owed exactly one reply.
const ftpLine = fc.oneof(
  fc.tuple(fc.constantFrom(...ftpVerbs), fc.boolean(), ftpArg).map(([v, lower, arg]) => {
    const verb = lower ? v.toLowerCase() : v;
    const a = v === 'AUTH' ? `X${arg}` : arg;
    return Buffer.from(a ? `${verb} ${a}` : verb);
  }),
  fc.string({ maxLength: 200, unit: 'binary' }).map((l) => Buffer.from(`X${l}`)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.concat([Buffer.from('X'), b])), // not even UTF-8; IAC bytes
).map((line) => Buffer.from(line.filter((b) => b !== 0x0a && b !== 0x0d)));

describe('fuzz: FTP command lines', () => {
  it('any command line gets a reply (or a clean close), and the door still answers', async () => {
    let c: RawFtp | null = null;
    const fresh = async () => {
      c?.socket.destroy();
      c = await RawFtp.connect(t.ftpPort!);
      await c.login();
      return c;
    };
    const reply = async (p: Promise<{ code: number; text: string }>) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no FTP reply within 10 s')), ANSWER_WITHIN_MS)));
      try {
        return await Promise.race([p, late]);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.array(ftpLine, { minLength: 1, maxLength: 4 }), async (loggedIn, lines) => {
          count('FTP');
          let conn: RawFtp = loggedIn || !c ? await fresh() : c;
          if (!loggedIn) {
            conn.socket.destroy();
            conn = c = await RawFtp.connect(t.ftpPort!); // not logged in: the commands before login
          }
          for (const raw of lines) {
            if (conn.closed) break;
            const line = JSON.stringify(raw.toString('latin1'));
            conn.socket.write(Buffer.concat([raw, Buffer.from('\r\n')]));
            const r = await reply(conn.next());
            if (r.code === -1) break; // QUIT, too many wrong passwords: a clean close
            expect(r.code, line).toBeGreaterThanOrEqual(100);
            expect(r.code, line).toBeLessThan(600);
            expect(r.text, line).not.toContain(t.dir); // no server path in a reply
          }
          // Still answering: on this connection if it lives, and on a new one in any case.
          if (!conn.closed) {
            const r = await reply(conn.cmd('NOOP'));
            expect([200, -1, 421, 530]).toContain(r.code);
          }
          const probe = await RawFtp.connect(t.ftpPort!);
          try {
            await probe.login();
            expect((await reply(probe.cmd('NOOP'))).code).toBe(200);
          } finally {
            probe.socket.destroy();
          }
        }),
        params,
      );
    } finally {
      (c as RawFtp | null)?.socket.destroy();
    }
  });
});

// ---- REST JSON bodies ---------------------------------------------------------------------------

const field = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', 'f.txt', 'folder', '../x', '/etc', 'a/../../b', 'docs', 'bob', 'read', 'write', 'cookie', 'token', 'keep-both', '\u0000', 'x'.repeat(2000)), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));
const plausible = fc
  .record(
    { user: field, password: field, mode: field, name: field, path: field, from: field, to: field, root: field, version: field, baseVersion: field, overwrite: field, expiresAt: field, maxDownloads: field, uploadOnly: field, current: field, uuid: field, resolution: field, keepVersions: field, keepDays: field, disabled: field, isAdmin: field, dir: field },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));
const jsonBody = fc.oneof(plausible, fc.json({ maxDepth: 4 }), fc.string({ maxLength: 100 }), fc.constantFrom('', '{', '[]', 'null', '"x"', '{"a":1,"a":2}', '{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"x":1}}}', `${'['.repeat(5000)}${']'.repeat(5000)}`, '\uFEFF{}', '{"user":"alice","password":"x"}'));
const restRoutes: [string, string, 'alice' | 'bob' | null][] = [
  ['POST', '/api/v1/login', null],
  ['POST', '/api/v1/me/tokens', 'alice'],
  ['POST', '/api/v1/me/devices', 'alice'],
  ['PUT', '/api/v1/me/password', 'bob'],
  ['POST', '/api/v1/users', 'alice'],
  ['POST', '/api/v1/roots', 'alice'],
  ['PUT', '/api/v1/roots/docs/grants/bob', 'alice'],
  ['PUT', '/api/v1/roots/docs/retention', 'alice'],
  ['POST', '/api/v1/roots/docs/mkdir', 'alice'],
  ['POST', '/api/v1/roots/docs/move', 'alice'],
  ['POST', '/api/v1/roots/docs/copy', 'alice'],
  ['POST', '/api/v1/roots/docs/restore', 'alice'],
  ['POST', '/api/v1/roots/docs/undelete', 'alice'],
  ['POST', '/api/v1/roots/docs/conflicts/1/resolve', 'alice'],
  ['POST', '/api/v1/shares', 'alice'],
  ['POST', '/s/{token}/auth', null],
];

describe('fuzz: REST JSON bodies', () => {
  it('any body on any JSON route gets a 2xx-4xx answer and the gateway still answers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...restRoutes), jsonBody, fc.constantFrom('application/json', 'application/json; charset=utf-16', 'text/plain', undefined), async ([method, path, who], body, type) => {
        count('REST');
        const headers: Record<string, string> = {};
        if (who) headers.authorization = who === 'alice' ? davAuth : bobAuth;
        if (type) headers['content-type'] = type;
        const res = await send(method, path.replace('{token}', shareToken), headers, body);
        expect(res.status, `${method} ${path}\n${body.slice(0, 300)}`).toBeLessThan(500);
        if (res.status >= 400) expect(JSON.parse(res.text)).toHaveProperty('error.code'); // an error in the API's own terms
        await stillAnswers();
      }),
      params,
    );
  });
});
