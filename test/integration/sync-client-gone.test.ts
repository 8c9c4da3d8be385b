/**
 * A companion client killed in the middle of a resumable upload is an everyday event (a laptop lid, a
 * Ctrl-C): the gateway keeps what arrived, the next sync resumes, and the log says so in one line at
 * info level, not as a warning with a stack (seen in the README tour: kill -9 of `client sync`).
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const lines: { level: number; msg: string }[] = [];
let t: TestGateway;

beforeEach(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  t = await startTestGateway({}, { log: pino({ level: 'info' }, sink) });
});
afterEach(async () => {
  await t?.close();
});

describe('a sync client gone mid-upload', () => {
  it('is logged at info, in one line, and the upload keeps what arrived', async () => {
    const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: t.alice.name, password: t.alice.password });
    const api = new Api(t.url, login.token);
    const up = await api.createUpload('docs', { path: 'big.bin', mtimeMs: Date.now(), length: 1 << 20 });
    const { port } = new URL(t.url);
    const s = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.write(`PATCH /sync/v1/roots/docs/uploads/${up.id}?offset=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${login.token}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${1 << 20}\r\n\r\n`);
    s.end(Buffer.alloc(64 * 1024, 7)); // then the client process is gone: its side closes mid-body
    await expect.poll(async () => (await api.uploadStatus('docs', up.id)).offset, { timeout: 10_000, interval: 50 }).toBe(64 * 1024);
    await expect.poll(() => lines.filter((l) => l.msg.startsWith('sync client went away')).length, { timeout: 10_000, interval: 20 }).toBe(1);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });
});
