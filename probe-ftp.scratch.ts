import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { RawFtp } from './protocols/ftp/raw-ftp.test-support.js';
import { startTestGateway } from './test/helpers/gateway.js';
const g = await startTestGateway({ ftp: { idleTimeoutSec: 2 } });
await g.gw.core.vfs.write(g.alice.session, 'docs', 'f.txt', Readable.from([Buffer.from('hello')]));
for (let i = 0; i < 3; i++) {
  const c = await RawFtp.connect(g.ftpPort!);
  await c.login();
  await c.cmd('EPSV');
  const t0 = Date.now();
  const a = await c.cmd('RETR /docs/f.txt'); const b = await c.cmd('NOOP');
  console.log('raw', a.code, b.code, Date.now() - t0);
  c.close();
}
for (let i = 0; i < 3; i++) {
  const c = new Client(10000);
  await c.access({ host: '127.0.0.1', port: g.ftpPort!, user: 'alice', password: 'alice-password' });
  await c.send('EPSV');
  const t0 = Date.now();
  try { const a = await c.send('RETR /docs/f.txt', true); console.log('bftp retr', a.code, Date.now() - t0); const b = await c.send('NOOP'); console.log('bftp noop', b.code); } catch (e) { console.log('bftp err', String(e), Date.now() - t0); }
  c.close();
}
await g.close();
