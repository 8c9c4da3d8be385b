import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { isCoreError } from '../../../src/core/index.js';
import type { CommandSpec, FtpClient } from '../client.js';
import { FTP_ERRORS, FtpReplyError } from '../errors.js';
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

/**
 * Sends a listing as its pages are read and formatted, yielding to the event loop between pages
 * (a 10,000-entry folder formatted at once held it for 60-130 ms) and waiting for the socket to
 * drain, then ends the data connection.
 */
async function sendPages(sock: DataSocket, pages: AsyncIterable<string[]>): Promise<void> {
  for await (const lines of pages) {
    if (lines.length > 0 && !sock.write(listingText(lines))) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          sock.off('drain', done).off('close', closed).off('error', done);
          if (err) reject(err);
          else resolve();
        };
        const closed = () => done(new Error('data connection closed'));
        sock.on('drain', done).on('close', closed).on('error', done);
      });
    }
    await new Promise((r) => setImmediate(r));
  }
  await writeAll(sock, '');
}

/** The lines of a listing, page by page: one page for a file, else the folder's pages. */
async function* listingPages(c: FtpClient, arg: string, format: (page: FtpEntry[]) => string[]): AsyncGenerator<string[]> {
  const fs = fsOf(c);
  const t = fs.resolve(arg);
  const e = await fs.entry(t);
  if (e.kind === 'file') {
    yield format([e]);
    return;
  }
  for await (const page of fs.entryPages(t)) yield format(page);
}

/** LIST/NLST arguments: options like -la are ignored, the rest is a path. */
function listArg(arg: string): string {
  let rest = arg.trim();
  while (/^-[a-zA-Z]+(\s|$)/.test(rest)) rest = rest.replace(/^-[a-zA-Z]+\s*/, '');
  return rest;
}

function restRefused(c: FtpClient): void {
  const { code, message } = FTP_ERRORS.RANGE_NOT_SATISFIABLE;
  c.reply(code, message);
}

function store(append: boolean): CommandSpec['run'] {
  return async (c, arg) => {
    if (!arg) return c.reply(501, 'File name required');
    const fs = fsOf(c);
    const t = fs.resolve(arg);
    const size = () => fs.entry(t).then((e) => (e.kind === 'file' ? e.size : 0), (err) => (isCoreError(err, 'NOT_FOUND') ? 0 : Promise.reject(err)));
    let offset = c.rest;
    if (append) offset = await size();
    // RFC 959/3659: a restart past the end is refused before 150, so no data moves and the file
    // stays as it was (the core would only refuse it after the data connection was used).
    else if (offset > 0 && offset > (await size())) return restRefused(c);
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
      if (start > e.size) return restRefused(c);
      // Open before 150 so a missing file is a plain 550, and the read is pinned to one version.
      const read = start === e.size ? null : await fs.openRead(t, start);
      try {
        await withData(c, t.vpath, async (sock) => {
          if (!read) return writeAll(sock, '');
          await read.sendTo(sock);
          await writeAll(sock, '');
          c.door.metrics.bytes.inc({ direction: 'out' }, read.end - read.start + 1);
        });
      } finally {
        read?.close();
      }
    },
  },
  LIST: {
    async run(c, arg) {
      const path = listArg(arg);
      // A missing path is a plain 550 before any data connection is used.
      await fsOf(c).entry(fsOf(c).resolve(path));
      const now = Date.now();
      const dateColumns = new Map<number, string>();
      await withData(c, 'file list', (sock) => sendPages(sock, listingPages(c, path, (page) => lsLines(page, now, dateColumns))));
    },
  },
  NLST: {
    async run(c, arg) {
      const path = listArg(arg);
      const e = await fsOf(c).entry(fsOf(c).resolve(path));
      if (e.kind === 'file') return withData(c, 'name list', (sock) => writeAll(sock, listingText([path])));
      await withData(c, 'name list', (sock) => sendPages(sock, listingPages(c, path, (page) => page.map((x) => x.name))));
    },
  },
  MLSD: {
    async run(c, arg) {
      const fs = fsOf(c);
      const t = fs.resolve(arg.trim());
      const dir = await fs.entry(t);
      if (dir.kind !== 'dir') return c.reply(501, 'MLSD needs a folder; use MLST for a file');
      const times = new Map<number, string>();
      async function* pages(): AsyncGenerator<string[]> {
        // 'cdir' named '.', as pure-ftpd and proftpd do: rclone takes a path here for a child folder.
        yield [`${mlsxFacts(dir, 'cdir')} .`];
        for await (const page of fs.entryPages(t)) yield page.map((e) => `${mlsxFacts(e, undefined, times)} ${e.name}`);
      }
      await withData(c, 'MLSD', (sock) => sendPages(sock, pages()));
    },
  },
};
