import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { enforceHttpLimits, serverOptions, type HttpLimits } from './http-limits.js';

const LIMITS: HttpLimits = { headersTimeoutMs: 30_000, idleTimeoutMs: 15_000, bodyMinBytesPerSec: 500, bodyRateWindowMs: 20_000, maxConnectionsPerAddress: 0 };

describe('body rate watch', () => {
  let server: http.Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = null;
  });

  async function start(): Promise<{ port: number; state: ReturnType<typeof enforceHttpLimits> }> {
    server = http.createServer(serverOptions(LIMITS), (req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const state = enforceHttpLimits(server, LIMITS);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return { port: (server.address() as AddressInfo).port, state };
  }

  function put(port: number, agent: http.Agent, body: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'PUT', path: '/x', agent, headers: { 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  // Held until the next tick (a quarter of a window), every finished request stayed in memory:
  // thousands of small PUTs a second, each copied by every young-generation collection.
  it('holds one request per connection at most, not every request since the last tick', async () => {
    const { port, state } = await start();
    const one = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const four = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      for (let i = 0; i < 50; i += 1) expect(await put(port, one, Buffer.alloc(4096, i))).toBe(200);
      expect(state.watchedRequests()).toBeLessThanOrEqual(1);
      await Promise.all(Array.from({ length: 40 }, (_, i) => put(port, four, Buffer.alloc(4096, i))));
      expect(state.watchedRequests()).toBeLessThanOrEqual(5);
    } finally {
      one.destroy();
      four.destroy();
    }
  });

  it('lets go of a connection once it closes', async () => {
    const { port, state } = await start();
    const agent = new http.Agent({ keepAlive: false });
    for (let i = 0; i < 10; i += 1) expect(await put(port, agent, Buffer.alloc(1024))).toBe(200);
    for (let i = 0; i < 100 && state.watchedRequests() > 0; i += 1) await new Promise((r) => setImmediate(r));
    expect(state.watchedRequests()).toBe(0);
  });
});
