import http from 'node:http';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/app/gateway.js';
import { RawFtp } from '../../protocols/ftp/raw-ftp.test-support.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Issue 22 item 2: a stranger must never lock a user out. Clients bind to other loopback addresses
 * (Linux routes all of 127/8 to lo), so each door sees them as different hosts.
 */
const A = '127.0.0.2'; // the stranger
const B = '127.0.0.3'; // alice at home
const C = '127.0.0.4'; // a stranger guessing a link's password

function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

/** One HTTP request from a chosen local address. */
function request(base: string, from: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, headers: { ...headers, connection: 'close' }, localAddress: from }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function ftpLogin(port: number, from: string, user: string, pass: string): Promise<string> {
  const c = await RawFtp.connect(port, { localAddress: from });
  try {
    await c.cmd(`USER ${user}`);
    return (await c.cmd(`PASS ${pass}`)).text;
  } finally {
    c.socket.destroy();
  }
}

describe('no lockout by name (issue 22 item 2)', () => {
  let t: TestGateway | undefined;
  let restarted: Awaited<ReturnType<typeof startGateway>> | undefined;
  afterEach(async () => {
    await restarted?.close();
    await t?.close();
    restarted = undefined;
    t = undefined;
  });

  it('ten wrong passwords for alice from A ban A on every door, never alice from B; the ban survives a restart', async () => {
    let now = Date.parse('2026-12-07T03:00:00Z');
    t = await startTestGateway({ security: { banAfter: 10, banSec: 900, windowSec: 900 } }, { now: () => now });
    const dav = (from: string, auth: string) => request(t!.url, from, 'PROPFIND', '/dav/docs/', { authorization: auth, depth: '0' });
    const rest = (url: string, from: string, auth: string) => request(url, from, 'GET', '/api/v1/me', { authorization: auth });
    const login = (url: string, from: string, password: string) =>
      request(url, from, 'POST', '/api/v1/login', { 'content-type': 'application/json' }, JSON.stringify({ user: 'alice', password, mode: 'cookie' }));
    const token = t.gw.core.accounts.createToken(t.alice.session.user.id, 'laptop').token;

    for (let i = 0; i < 10; i += 1) expect((await rest(t.url, A, basic('alice', `wrong-${i}`))).status).toBe(401);

    // alice from B: every door lets her in.
    expect((await rest(t.url, B, basic('alice', 'alice-password'))).status).toBe(200);
    expect((await login(t.url, B, 'alice-password')).status).toBe(200);
    expect((await dav(B, basic('alice', 'alice-password'))).status).toBe(207);
    expect((await rest(t.url, B, basic('alice', token))).status).toBe(200);
    expect(await ftpLogin(t.ftpPort!, B, 'alice', 'alice-password')).toMatch(/^230 /);

    // A: banned on every door, for alice's right password and for any other account.
    const banned = await rest(t.url, A, basic('alice', 'alice-password'));
    expect(banned.status).toBe(429);
    expect(Number(banned.headers['retry-after'])).toBeGreaterThan(800);
    expect((await login(t.url, A, 'alice-password')).status).toBe(429);
    expect((await dav(A, basic('alice', 'alice-password'))).status).toBe(429);
    expect((await dav(A, basic('admin', 'admin-password'))).status).toBe(429);
    expect((await rest(t.url, A, basic('alice', token))).status).toBe(429);
    expect((await rest(t.url, A, `Bearer ${token}`)).status).toBe(429);
    expect(await ftpLogin(t.ftpPort!, A, 'alice', 'alice-password')).toMatch(/^421 /);

    // A restart keeps the ban (and lifts nothing for B).
    const config = t.gw.config;
    await t.gw.close();
    restarted = await startGateway(config, { log: pino({ level: 'silent' }), now: () => now });
    expect((await rest(restarted.url, A, basic('alice', 'alice-password'))).status).toBe(429);
    expect((await rest(restarted.url, B, basic('alice', 'alice-password'))).status).toBe(200);

    // The ban ends on the gateway's clock, not on a sleep.
    now += 901_000;
    expect((await rest(restarted.url, A, basic('alice', 'alice-password'))).status).toBe(200);
  });

  it("wrong share-link passwords from one address do not lock the link for another", async () => {
    t = await startTestGateway();
    const s = t.alice.session;
    await t.gw.core.vfs.mkdir(s, 'docs', 'pub');
    const { token } = await t.gw.core.shares.create(s, { root: 'docs', path: 'pub', password: 'link-secret' });
    const download = (from: string, password: string) => request(t!.url, from, 'GET', `/s/${token}/download`, { 'x-share-password': password });
    let last = 0;
    for (let i = 0; i < 11; i += 1) last = (await download(C, `bad-${i}`)).status;
    expect(last).toBe(429);
    expect((await download(C, 'link-secret')).status).toBe(429);
    expect((await download(B, 'link-secret')).status).toBe(200);
    // The link's guesser is banned from logins too (one ban per address, shared by every door).
    expect((await request(t.url, C, 'GET', '/api/v1/me', { authorization: basic('alice', 'alice-password') })).status).toBe(429);
  });

  it('behind a trusted proxy the address is the one the proxy appended: a forged X-Forwarded-For neither dodges a ban nor bans someone else', async () => {
    t = await startTestGateway({ http: { trustProxy: true }, security: { banAfter: 10 } });
    // This test is the proxy: it appends the peer it saw (203.0.113.5) after whatever the client sent.
    const via = (forged: string, peer: string) => ({ 'x-forwarded-for': `${forged}, ${peer}` });
    const rest = (headers: Record<string, string>, auth: string) => request(t!.url, '127.0.0.1', 'GET', '/api/v1/me', { ...headers, authorization: auth });
    const dav = (headers: Record<string, string>, auth: string) => request(t!.url, '127.0.0.1', 'PROPFIND', '/dav/docs/', { ...headers, authorization: auth, depth: '0' });
    for (let i = 0; i < 5; i += 1) expect((await rest(via(`10.0.0.${i}`, '203.0.113.5'), basic('alice', `wrong-${i}`))).status).toBe(401);
    for (let i = 5; i < 10; i += 1) expect((await dav(via(`10.0.0.${i}`, '203.0.113.5'), basic('alice', `wrong-${i}`))).status).toBe(401);
    expect((await rest(via('10.0.0.99', '203.0.113.5'), basic('alice', 'alice-password'))).status).toBe(429);
    expect((await dav(via('10.0.0.99', '203.0.113.5'), basic('alice', 'alice-password'))).status).toBe(429);
    // Claiming alice's own address in front changes nothing for her.
    expect((await rest(via('203.0.113.5', '198.51.100.7'), basic('alice', 'alice-password'))).status).toBe(200);
    expect((await dav({ 'x-forwarded-for': '198.51.100.7' }, basic('alice', 'alice-password'))).status).toBe(207);
  });
});
