import { createClient } from 'webdav';
import { describeDoor } from './suite.js';

describeDoor('WebDAV', 'webdav', async (t) => {
  const client = createClient(`${t.url}/dav/docs`, { username: t.alice.name, password: t.alice.password });
  const abs = (p: string) => `/${p}`;
  return {
    put: async (p, data) => {
      const ok = await client.putFileContents(abs(p), data, { overwrite: true });
      if (!ok) throw new Error(`PUT ${p} refused`);
    },
    get: async (p) => Buffer.from((await client.getFileContents(abs(p), { format: 'binary' })) as ArrayBuffer),
    list: async (d) => ((await client.getDirectoryContents(abs(d))) as { basename: string }[]).map((f) => f.basename),
    mkdir: async (p) => void (await client.createDirectory(abs(p))),
    remove: (p) => client.deleteFile(abs(p)),
    move: (a, b) => client.moveFile(abs(a), abs(b)),
    close: async () => {},
  };
});
