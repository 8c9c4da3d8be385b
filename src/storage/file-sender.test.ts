import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeFile, openForRead, openForReadNoFollow, sendFileRange } from './file-sender.js';

describe('sendFileRange', () => {
  let dir: string;
  let file: string;
  const content = randomBytes((3 << 20) + 12345); // three full chunks and a tail
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sg-sender-'));
    file = path.join(dir, 'f.bin');
    await writeFile(file, content);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A consumer that keeps every chunk it is given and copies it only when it reports it written, a
   * turn later, as a socket does: a buffer read into again before that would show up as wrong bytes.
   */
  function lateCopier(): { out: Writable; got: () => Buffer; sizes: number[] } {
    const parts: Buffer[] = [];
    const sizes: number[] = [];
    const out = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        sizes.push(chunk.length);
        setTimeout(() => {
          parts.push(Buffer.from(chunk));
          done();
        }, 2);
      },
    });
    return { out, got: () => Buffer.concat(parts), sizes };
  }

  it('sends the whole file and a range byte for byte, reusing a buffer only once it was written, the first chunk small', async () => {
    const handle = await open(file, 'r');
    try {
      const whole = lateCopier();
      await sendFileRange(handle.fd, 0, content.length - 1, whole.out);
      expect(whole.got().equals(content)).toBe(true);
      expect(whole.sizes[0]).toBeLessThanOrEqual(64 << 10);
      expect(Math.max(...whole.sizes)).toBe(1 << 20);
      const part = lateCopier();
      await sendFileRange(handle.fd, 1000, (2 << 20) + 7, part.out);
      expect(part.got().equals(content.subarray(1000, (2 << 20) + 8))).toBe(true);
      expect(part.out.writableEnded).toBe(false); // ending it is the caller's
    } finally {
      await handle.close();
    }
  });

  it('rejects when the connection goes away in the middle, without hanging', async () => {
    const server = net.createServer((sock) => {
      sock.once('data', () => sock.destroy()); // the client reads a little, then leaves
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    client.on('error', () => {});
    const handle = await open(file, 'r');
    try {
      await expect(sendFileRange(handle.fd, 0, content.length - 1, client)).rejects.toThrow();
    } finally {
      await handle.close();
      client.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('rejects a file shorter than the range it was asked for', async () => {
    const handle = await open(file, 'r');
    try {
      const out = lateCopier();
      await expect(sendFileRange(handle.fd, 0, content.length + 100, out.out)).rejects.toThrow(/shorter/);
    } finally {
      await handle.close();
    }
  });

  it('opens a file with its fstat on the calling thread or through the pool; null when it cannot', async () => {
    await mkdir(path.join(dir, 'sub'));
    for (const direct of [true, false]) {
      const before = readdirSync('/proc/self/fd').length;
      const opened = await openForRead(file, direct);
      expect(opened?.stat.size).toBe(content.length);
      expect(opened?.stat.isFile()).toBe(true);
      const out = lateCopier();
      await sendFileRange(opened!.fd, 5, 9, out.out);
      expect(out.got().equals(content.subarray(5, 10))).toBe(true);
      closeFile(opened!.fd);
      expect(await openForRead(path.join(dir, 'missing.bin'), direct)).toBeNull();
      // A folder opens for reading on Linux: the caller's fingerprint check (kind, size) refuses it.
      const folder = await openForRead(path.join(dir, 'sub'), direct);
      expect(folder?.stat.isDirectory()).toBe(true);
      closeFile(folder!.fd);
      for (let i = 0; i < 50 && readdirSync('/proc/self/fd').length > before; i += 1) await new Promise((r) => setTimeout(r, 5));
      expect(readdirSync('/proc/self/fd').length).toBe(before);
    }
  });

  it('reads a FIFO put in a file\'s place as nothing there, at once, on the calling thread or through the pool', async () => {
    // Opened blocking, a FIFO with no writer would hold the event loop (or a pool thread) for good.
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const before = readdirSync('/proc/self/fd').length;
    expect(openForReadNoFollow(fifo)).toBeNull();
    expect(await openForRead(fifo, true)).toBeNull();
    expect(await openForRead(fifo, false)).toBeNull();
    for (let i = 0; i < 50 && readdirSync('/proc/self/fd').length > before; i += 1) await new Promise((r) => setTimeout(r, 5));
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });
});
