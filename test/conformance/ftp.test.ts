import { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { describeDoor } from './suite.js';

describeDoor('FTP', 'ftp', async (t) => {
  const client = new Client(10_000);
  await client.access({ host: '127.0.0.1', port: t.ftpPort!, user: t.alice.name, password: t.alice.password });
  const abs = (p: string) => `/docs/${p}`;
  return {
    put: async (p, data) => void (await client.uploadFrom(Readable.from([data]), abs(p))),
    get: async (p) => {
      const chunks: Buffer[] = [];
      await client.downloadTo(new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) }), abs(p));
      return Buffer.concat(chunks);
    },
    list: async (d) => (await client.list(abs(d))).map((f) => f.name),
    mkdir: async (p) => void (await client.send(`MKD ${abs(p)}`)),
    remove: async (p) => {
      const info = (await client.list(abs(p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : ''))).find((f) => f.name === p.split('/').pop());
      if (info?.isDirectory) await client.removeDir(abs(p));
      else await client.remove(abs(p));
    },
    move: async (a, b) => void (await client.rename(abs(a), abs(b))),
    close: async () => client.close(),
  };
});
