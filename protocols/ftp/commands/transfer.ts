import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { pipeline } from 'node:stream/promises';
import { isCoreError } from '../../../src/core/index.js';
import type { CommandSpec, FtpClient } from '../client.js';
import { FtpReplyError } from '../errors.js';
import type { FtpEntry, FtpFileSystem } from '../filesystem.js';
import { listingText, lsLines, mlsxFacts } from '../listing.js';

type DataSocket = Socket | TLSSocket;

function fsOf(c: FtpClient): FtpFileSystem {
  return c.fs!;
}

/**
 * Runs one transfer on the prepared data connection: waits for it (event-driven), sends 150,
 * runs `body`, answers 226 or the mapped error. A cut data connection, ABOR or a closed control
 * connection all surface as an error of the data stream, never as a clean end.
 */
async function withData(c: FtpClient, what: string, body: (sock: DataSocket) => Promise<void>): Promise<void> {
  const channel = c.data;
  c.data = null;
  if (!channel) return c.reply(425, 'Use PASV, EPSV, PORT or EPRT first');
  let sock: DataSocket;
  try {
    sock = await channel.open();
  } catch {
    channel.close();
    return c.reply(425, 'Cannot open data connection');
  }
  c.transfer = channel;
  c.reply(150, `Opening ${c.protP ? 'protected ' : ''}data connection for ${what}`);
  try {
    await channel.secured();
    await body(sock);
    if (c.transfer !== channel) throw new FtpReplyError({ code: 426, message: 'Transfer aborted' });
    c.reply(226, 'Transfer complete');
  } catch (err) {
    if (isCoreError(err) || err instanceof FtpReplyError) c.replyFor(err, fsOf(c).requestId);
    else c.reply(426, 'Data connection closed; transfer aborted');
  } finally {
    c.transfer = null;
    channel.close();
    if (c.pendingAborReply) {
      c.pendingAborReply = false;
      c.reply(226, 'ABOR successful');
    }
  }
}

async function writeAll(sock: DataSocket, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('close', () => reject(new Error('data connection closed')));
    sock.end(text, () => resolve());
  });
}

/** LIST/NLST arguments: options like -la are ignored, the rest is a path. */
function listArg(arg: string): string {
  let rest = arg.trim();
  while (/^-[a-zA-Z]+(\s|$)/.test(rest)) rest = rest.replace(/^-[a-zA-Z]+\s*/, '');
  return rest;
}

type Pages = AsyncIterable<FtpEntry[]> | Iterable<FtpEntry[]>;

/** Resolves when the socket takes more, rejects when it closes first. */
function drained(sock: DataSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      sock.off('drain', onDrain);
      sock.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('data connection closed'));
    sock.once('drain', onDrain);
    sock.once('close', onClose);
  });
}

/** The pages of a LIST/NLST target: a file is one page of itself. */
async function pagesFor(c: FtpClient, arg: string): Promise<{ single: boolean; pages: Pages }> {
  const fs = fsOf(c);
  const t = fs.resolve(arg);
  const e = await fs.entry(t);
  if (e.kind === 'file') return { single: true, pages: [[e]] };
  return { single: false, pages: fs.entryPages(t) };
}

/** Writes a listing page by page, as the socket takes it, yielding to other work between pages. */
async function writePages(sock: DataSocket, first: string, pages: Pages, linesOf: (page: FtpEntry[]) => string[]): Promise<void> {
  let failed: Error | null = null;
  const onError = (err: Error) => (failed = err);
  const onClose = () => (failed ??= new Error('data connection closed'));
  sock.once('error', onError);
  sock.once('close', onClose);
  try {
    if (first && !sock.write(first)) await drained(sock);
    for await (const page of pages) {
      if (failed) throw failed;
      const text = listingText(linesOf(page));
      if (text && !sock.write(text)) await drained(sock);
      await new Promise((r) => setImmediate(r));
    }
    if (failed) throw failed;
    await new Promise<void>((resolve, reject) => {
      sock.once('close', () => reject(new Error('data connection closed')));
      sock.end(() => resolve());
    });
  } finally {
    sock.off('error', onError);
    sock.off('close', onClose);
  }
}

function store(append: boolean): CommandSpec['run'] {
  return async (c, arg) => {
    if (!arg) return c.reply(501, 'File name required');
    const fs = fsOf(c);
    const t = fs.resolve(arg);
    let offset = c.rest;
    if (append) offset = await fs.entry(t).then((e) => (e.kind === 'file' ? e.size : 0), (err) => (isCoreError(err, 'NOT_FOUND') ? 0 : Promise.reject(err)));
    await withData(c, t.vpath, async (sock) => {
      const result = await fs.store(t, sock, offset);
      c.door.metrics.bytes.inc({ direction: 'in' }, Math.max(0, result.entry.size - offset));
    });
  };
}

export const transferCommands: Record<string, CommandSpec> = {
  REST: {
    feat: 'REST STREAM',
    run(c, arg) {
      if (!/^\d{1,15}$/.test(arg.trim())) return c.reply(501, 'REST needs a byte offset');
      c.rest = Number(arg.trim());
      c.reply(350, `Restarting at ${c.rest}`);
    },
  },
  STOR: { run: store(false) },
  APPE: { run: store(true) },
  RETR: {
    async run(c, arg) {
      if (!arg) return c.reply(501, 'File name required');
      const fs = fsOf(c);
      const t = fs.resolve(arg);
      const start = c.rest;
      const e = await fs.entry(t);
      if (e.kind === 'dir') return c.reply(550, 'Is a folder');
      if (start > e.size) return c.reply(554, 'Invalid REST parameter');
      // Open before 150 so a missing file is a plain 550, and the read is pinned to one version.
      const read = start === e.size ? null : await fs.openRead(t, start);
      try {
        await withData(c, t.vpath, async (sock) => {
          if (!read) return writeAll(sock, '');
          await pipeline(read.stream, sock);
          c.door.metrics.bytes.inc({ direction: 'out' }, read.end - read.start + 1);
        });
      } finally {
        read?.stream.destroy();
      }
    },
  },
  LIST: {
    async run(c, arg) {
      const { pages } = await pagesFor(c, listArg(arg));
      const now = Date.now();
      await withData(c, 'file list', (sock) => writePages(sock, '', pages, (page) => lsLines(page, now)));
    },
  },
  NLST: {
    async run(c, arg) {
      const path = listArg(arg);
      const { single, pages } = await pagesFor(c, path);
      await withData(c, 'name list', (sock) => writePages(sock, '', pages, (page) => (single ? [path] : page.map((e) => e.name))));
    },
  },
  MLSD: {
    async run(c, arg) {
      const fs = fsOf(c);
      const t = fs.resolve(arg.trim());
      const dir = await fs.entry(t);
      if (dir.kind !== 'dir') return c.reply(501, 'MLSD needs a folder; use MLST for a file');
      // 'cdir' named '.', as pure-ftpd and proftpd do: rclone takes a path here for a child folder.
      const pages = fs.entryPages(t);
      await withData(c, 'MLSD', (sock) => writePages(sock, listingText([`${mlsxFacts(dir, 'cdir')} .`]), pages, (page) => page.map((e) => `${mlsxFacts(e)} ${e.name}`)));
    },
  },
};
