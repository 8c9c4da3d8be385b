import { describeDoor } from './suite.js';
import { body, readAll } from '../helpers/core.js';

describeDoor('the core', 'core', async (t) => {
  const vfs = t.gw.core.vfs;
  const s = t.alice.session;
  return {
    put: async (p, data) => void (await vfs.write(s, 'docs', p, body(data))),
    get: async (p) => readAll((await vfs.read(s, 'docs', p)).stream),
    list: async (d) => (await vfs.list(s, 'docs', d)).map((e) => e.name),
    mkdir: async (p) => void (await vfs.mkdir(s, 'docs', p)),
    remove: (p) => vfs.delete(s, 'docs', p),
    move: async (a, b) => void (await vfs.move(s, 'docs', a, b)),
    close: async () => {},
  };
});
