import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Header, body-rate and idle timeouts and the per-address connection cap of the HTTP port (issue 22
 * item 4), with real sockets and small values in the test config.
 */
const MIN_RATE = 2000;
const WINDOW_SEC = 0.3;

interface Conn {
  socket: net.Socket;
  /** Everything received so far. */
  data(): string;
  /** Resolves with the time it took when the server closes the connection. */
  closed: Promise<number>;
}

function connect(port: number, localAddress = '127.0.0.1'): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
    socket.once('connect', () => resolve({ socket, data: () => text, closed }));
    socket.once('error', reject);
  });
}

/** Waits for `p` at most `ms`; 'open' if it did not settle by then. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'open'> {
  return Promise.race([p, new Promise<'open'>((r) => setTimeout(() => r('open'), ms).unref())]);
}

const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`;

describe('HTTP timeouts', () => {
  let t: TestGateway;
  let port: number;
  beforeAll(async () => {
    t = await startTestGateway({ http: { headersTimeoutSec: 0.5, idleTimeoutSec: 0.5, bodyMinBytesPerSec: MIN_RATE, bodyRateWindowSec: WINDOW_SEC } });
    port = t.gw.httpAddress.port;
  });
  afterAll(async () => t?.close());

  it('a slow-body POST to /api/v1/login is cut with 408 within the configured time', async () => {
    const c = await connect(port);
    const body = JSON.stringify({ user: 'alice', password: 'alice-password' }).padEnd(400, ' ');
    c.socket.write(`POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    // 10 bytes every 50 ms: 200 bytes/s, a tenth of the minimum.
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < body.length && !c.socket.destroyed) c.socket.write(body.slice(sent, (sent += 10)));
    }, 50);
    try {
      const ms = await within(c.closed, 5000);
      expect(ms).not.toBe('open');
      expect(ms as number).toBeLessThan(4 * WINDOW_SEC * 1000 + 500);
      expect(c.data()).toMatch(/^HTTP\/1\.1 408 /);
      expect(sent).toBeLessThan(body.length); // cut before the body was done
    } finally {
      clearInterval(drip);
      c.socket.destroy();
    }
  });

  it('a body at a normal rate is not cut, however long it takes in windows', async () => {
    const size = 8 * 1024 * 1024;
    const res = await fetch(`${t.url}/api/v1/roots/docs/files/big.bin`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` },
      body: Buffer.alloc(size, 1),
    });
    expect(res.status).toBe(201);
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'big.bin')).size).toBe(size);
  });

  it('headers that never end, and a kept-alive connection left idle, are closed', async () => {
    const partial = await connect(port);
    partial.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const headersMs = await within(partial.closed, 3000);
    expect(headersMs).not.toBe('open');
    expect(headersMs as number).toBeLessThan(1500); // 0.5 s, checked every 125 ms
    const idle = await connect(port);
    idle.socket.write(request('/health'));
    const idleMs = await within(idle.closed, 3000);
    expect(idleMs).not.toBe('open');
    expect(idleMs as number).toBeLessThan(2000);
    expect(idle.data()).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('connections per address', () => {
  let t: TestGateway;
  let port: number;
  beforeAll(async () => {
    t = await startTestGateway({ http: { maxConnectionsPerAddress: 3, idleTimeoutSec: 60, headersTimeoutSec: 60 } });
    port = t.gw.httpAddress.port;
  });
  afterAll(async () => t?.close());

  it('the N+1th connection from one address is refused while another address still gets in', async () => {
    const held = await Promise.all([connect(port), connect(port), connect(port)]);
    try {
      for (const c of held) c.socket.write(request('/health'));
      const extra = await connect(port).catch(() => null);
      if (extra) {
        extra.socket.write(request('/health'));
        expect(await within(extra.closed, 2000)).not.toBe('open');
        expect(extra.data()).toBe('');
      }
      const other = await connect(port, '127.0.0.2');
      other.socket.write(request('/health'));
      for (let i = 0; i < 100 && !other.data().includes('"ok"'); i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(other.data()).toMatch(/^HTTP\/1\.1 200 /);
      other.socket.destroy();
      // The held ones still work, and one closed makes room for one more.
      expect(held.every((c) => /^HTTP\/1\.1 200 /.test(c.data()))).toBe(true);
      held[0]!.socket.destroy();
      await held[0]!.closed;
      const again = await connect(port);
      again.socket.write(request('/health'));
      for (let i = 0; i < 100 && !again.data().includes('"ok"'); i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(again.data()).toMatch(/^HTTP\/1\.1 200 /);
      again.socket.destroy();
    } finally {
      for (const c of held) c.socket.destroy();
    }
  });
});
