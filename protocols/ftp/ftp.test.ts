import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/index.js';
import { body, readAll } from '../../test/helpers/core.js';
import { FTP_ERRORS, ftpReplyFor } from './errors.js';
import { LISTING_PAGE, resolveVirtual } from './filesystem.js';
import { ftpTime, parseFtpTime } from './listing.js';
import { RawFtp, readSocket, writeSocket } from './raw-ftp.test-support.js';
import { useFtpTestGateway } from './testing.js';

const { t, clients } = useFtpTestGateway();
const s = () => t.alice.session;

async function login(): Promise<RawFtp> {
  const c = await RawFtp.connect(t.ftpPort!);
  clients.push(c);
  await c.login();
  return c;
}

async function stor(c: RawFtp, path: string, data: Buffer | string, pre?: string): Promise<string[]> {
  const sock = await c.pasv();
  if (pre) expect((await c.cmd(pre)).code).toBe(350);
  const r1 = await c.cmd(`STOR ${path}`);
  await writeSocket(sock, data);
  const r2 = await c.next();
  return [String(r1.code), String(r2.code)];
}

async function retr(c: RawFtp, path: string): Promise<{ codes: number[]; data: Buffer }> {
  const sock = await c.pasv();
  const r1 = await c.cmd(`RETR ${path}`);
  if (r1.code !== 150) return { codes: [r1.code], data: Buffer.alloc(0) };
  const data = await readSocket(sock);
  const r2 = await c.next();
  return { codes: [r1.code, r2.code], data };
}

async function listing(c: RawFtp, cmd: string): Promise<string> {
  const sock = await c.pasv();
  const r1 = await c.cmd(cmd);
  expect(r1.code).toBe(150);
  const data = await readSocket(sock);
  expect((await c.next()).code).toBe(226);
  return data.toString('utf8');
}

describe('ftp errors table', () => {
  it('maps every core code to a fixed reply without internal text', () => {
    for (const code of ERROR_CODES) {
      const r = FTP_ERRORS[code];
      expect(r.code).toBeGreaterThanOrEqual(400);
      expect(r.message).not.toMatch(/\//);
    }
    const unknown = ftpReplyFor(new Error('EACCES: permission denied, open /srv/secret/path'));
    expect(unknown.internal).toBe(true);
    expect(unknown.reply.message).not.toContain('/srv');
  });

  it('resolves virtual paths without leaving the top level', () => {
    expect(resolveVirtual('/docs/a', '../../../../etc/passwd')).toBe('/etc/passwd');
    expect(resolveVirtual('/docs', './x/./y/..')).toBe('/docs/x');
    expect(resolveVirtual('/docs', '/')).toBe('/');
  });

  it('parses MFMT times strictly', () => {
    expect(parseFtpTime('20240102030405')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(parseFtpTime('20241302030405')).toBeNull();
    expect(parseFtpTime('2024')).toBeNull();
    // Years before 100 are those years (Date.UTC reads 0-99 as 1900-1999); no day rolls over.
    expect(parseFtpTime('00500101000000')).toBe(new Date('0050-01-01T00:00:00Z').getTime());
    expect(parseFtpTime('00000101000000')).toBe(new Date('0000-01-01T00:00:00Z').getTime());
    expect(parseFtpTime('20230231120000')).toBeNull();
    expect(parseFtpTime('20240229120000.5')).toBe(Date.UTC(2024, 1, 29, 12, 0, 0, 500));
    expect(ftpTime(new Date('0050-01-01T00:00:00Z').getTime())).toBe('00500101000000');
  });
});

describe('ftp door over the core', () => {
  it('refuses a wrong password and commands before login, without details', async () => {
    const c = await RawFtp.connect(t.ftpPort!);
    clients.push(c);
    expect((await c.cmd('LIST')).code).toBe(530);
    expect((await c.cmd('PASS x')).code).toBe(503);
    await c.cmd('USER alice');
    const r = await c.cmd('PASS wrong-password');
    expect(r.code).toBe(530);
    expect(r.text).toBe('530 Login incorrect');
    await c.cmd('USER nobody');
    expect((await c.cmd('PASS x')).code).toBe(530);
  });

  it('accepts an API token as the password', async () => {
    const token = t.gw.core.accounts.createToken(s().user.id, 'ftp-test').token;
    const c = await RawFtp.connect(t.ftpPort!);
    clients.push(c);
    await c.login('alice', token);
    expect((await c.cmd('PWD')).text).toBe('257 "/" is the current directory');
  });

  it('shows only the user\'s roots at the top level, and refuses files there', async () => {
    const c = await login();
    const top = await listing(c, 'LIST');
    expect(top).toMatch(/^d.* docs\r\n$/);
    expect(top).not.toContain('default');
    expect((await c.cmd('CWD /default')).code).toBe(550);
    const codes = await stor(c, '/top.txt', 'x');
    expect(codes).toEqual(['150', '550']);
    expect((await c.cmd('MKD /newroot')).code).toBe(550);
    expect((await c.cmd('RMD /docs')).code).toBe(550);
  });

  it('stores, overwrites (history kept, protocol ftp) and retrieves', async () => {
    const c = await login();
    expect(await stor(c, '/docs/h.txt', 'one')).toEqual(['150', '226']);
    expect(await stor(c, '/docs/h.txt', 'two')).toEqual(['150', '226']);
    const hist = await t.gw.core.vfs.history(s(), 'docs', 'h.txt');
    expect(hist.map((v) => v.version)).toEqual([2, 1]);
    expect(hist[0]!.protocol).toBe('ftp');
    const r = await retr(c, '/docs/h.txt');
    expect(r.codes).toEqual([150, 226]);
    expect(r.data.toString()).toBe('two');
  });

  it('answers missing files and bad names with fixed replies, never a server path', async () => {
    const c = await login();
    const r = await c.cmd('SIZE /docs/missing.txt');
    expect(r.text).toBe('550 No such file or folder');
    const hostile = ['../../../../etc/passwd', '/docs/../../etc/shadow', '/docs/a\\..\\..\\b', '/docs/%2e%2e/x', '/docs/a\u0001b'];
    for (const p of hostile) {
      const reply = await c.cmd(`SIZE ${p}`);
      expect([550, 553]).toContain(reply.code);
      expect(reply.text).not.toContain(t.dir);
      expect(reply.text).not.toMatch(/etc|syncgate-gw/);
    }
    expect((await c.cmd('CWD ../../..')).code).toBe(250);
    expect((await c.cmd('PWD')).text).toBe('257 "/" is the current directory');
  });

  it('renames, deletes, makes and removes folders as core operations', async () => {
    const c = await login();
    await stor(c, '/docs/r1.txt', 'r');
    expect((await c.cmd('RNFR /docs/r1.txt')).code).toBe(350);
    expect((await c.cmd('RNTO /docs/r2.txt')).code).toBe(250);
    expect((await t.gw.core.vfs.stat(s(), 'docs', 'r2.txt')).size).toBe(1);
    expect((await c.cmd('MKD /docs/dir1')).text).toBe('257 "/docs/dir1" created');
    await stor(c, '/docs/dir1/in.txt', 'in');
    expect((await c.cmd('RMD /docs/dir1')).text).toBe('550 Folder is not empty');
    expect((await c.cmd('DELE /docs/dir1')).code).toBe(550);
    expect((await c.cmd('DELE /docs/dir1/in.txt')).code).toBe(250);
    expect((await c.cmd('RMD /docs/dir1')).code).toBe(250);
    expect((await c.cmd('DELE /docs/r2.txt')).code).toBe(250);
    const hist = await t.gw.core.vfs.history(s(), 'docs', 'r2.txt');
    expect(hist[0]!.deleted).toBe(true);
  });

  it('refuses to change a locked file (450)', async () => {
    await t.gw.core.vfs.write(s(), 'docs', 'locked.txt', body('v1'));
    const rootId = t.gw.core.roots.list(s()).find((r) => r.name === 'docs')!.id;
    t.gw.core.locks.lock(s(), rootId, 'locked.txt', { scope: 'exclusive', depth: '0', timeoutSec: 60, owner: 'test' });
    const c = await login();
    expect(await stor(c, '/docs/locked.txt', 'v2')).toEqual(['150', '450']);
    expect((await c.cmd('DELE /docs/locked.txt')).text).toBe('450 File is locked');
  });

  it('SIZE, MDTM, MFMT, MLST and MLSD', async () => {
    const c = await login();
    await stor(c, '/docs/m.txt', '12345');
    expect((await c.cmd('SIZE /docs/m.txt')).text).toBe('213 5');
    expect((await c.cmd('MFMT 20200102030405 /docs/m.txt')).text).toBe('213 Modify=20200102030405; /docs/m.txt');
    expect((await c.cmd('MDTM /docs/m.txt')).text).toBe('213 20200102030405');
    expect((await t.gw.core.vfs.stat(s(), 'docs', 'm.txt')).mtimeMs).toBe(Date.UTC(2020, 0, 2, 3, 4, 5));
    const mlst = await c.cmd('MLST /docs/m.txt');
    expect(mlst.text).toContain(' type=file;size=5;modify=20200102030405;perm=radfwc; /docs/m.txt');
    const mlsd = await listing(c, 'MLSD /docs');
    expect(mlsd).toContain('type=cdir;');
    expect(mlsd).toMatch(/type=file;size=5;modify=20200102030405;perm=radfwc; m\.txt\r\n/);
    expect((await c.cmd('MFMT 2020 /docs/m.txt')).code).toBe(501);
  });

  it('lists a folder of several pages whole, each entry once, in name order (LIST, MLSD, NLST)', async () => {
    // Made on disk and recorded by a scan: 2,001 uploads through the door would take seconds.
    const n = LISTING_PAGE * 2 + 1;
    const names = Array.from({ length: n }, (_, i) => `p${String(i).padStart(5, '0')}.txt`);
    const dir = path.join(t.dir, 'roots', 'docs', 'paged');
    await mkdir(dir);
    await Promise.all(names.map((name) => writeFile(path.join(dir, name), name)));
    const rootId = t.gw.core.roots.list(s()).find((r) => r.name === 'docs')!.id;
    await t.gw.core.diskEdits.scanRoot(rootId);
    const c = await login();
    const lines = (text: string) => text.split('\r\n').filter(Boolean);
    const mlsd = lines(await listing(c, 'MLSD /docs/paged'));
    expect(mlsd[0]).toMatch(/^type=cdir;.* \.$/);
    expect(mlsd.slice(1).map((l) => l.slice(l.indexOf('; ') + 2))).toEqual(names);
    expect(mlsd[1]).toBe(`type=file;size=${names[0]!.length};${mlsd[1]!.match(/modify=\d+;/)![0]}perm=radfwc; ${names[0]}`);
    const list = lines(await listing(c, 'LIST /docs/paged'));
    expect(list.map((l) => l.split(' ').pop())).toEqual(names);
    expect(lines(await listing(c, 'NLST /docs/paged'))).toEqual(names);
  });

  it('resumes uploads with REST+STOR and APPE, and downloads with REST+RETR', async () => {
    const c = await login();
    const data = randomBytes(300_000);
    await stor(c, '/docs/resume.bin', data.subarray(0, 100_000));
    expect(await stor(c, '/docs/resume.bin', data.subarray(100_000, 200_000), 'REST 100000')).toEqual(['150', '226']);
    const sock = await c.pasv();
    expect((await c.cmd('APPE /docs/resume.bin')).code).toBe(150);
    await writeSocket(sock, data.subarray(200_000));
    expect((await c.next()).code).toBe(226);
    const got = await readAll((await t.gw.core.vfs.read(s(), 'docs', 'resume.bin')).stream);
    expect(got.equals(data)).toBe(true);
    const dsock = await c.pasv();
    expect((await c.cmd('REST 250000')).code).toBe(350);
    expect((await c.cmd('RETR /docs/resume.bin')).code).toBe(150);
    expect((await readSocket(dsock)).equals(data.subarray(250_000))).toBe(true);
    expect((await c.next()).code).toBe(226);
    // REST beyond the end is refused; REST past the file on STOR keeps the file intact.
    await c.pasv();
    await c.cmd('REST 999999');
    expect((await c.cmd('RETR /docs/resume.bin')).code).toBe(554);
  });
});

describe('ftp door metrics', () => {
  const commandCount = async (verb: string): Promise<number> => {
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` } });
    const m = new RegExp(`^syncgate_ftp_commands_total\\{command="${verb}"\\} (\\d+)$`, 'm').exec(await res.text());
    return m ? Number(m[1]) : 0;
  };

  it('counts every command by its verb, and verbs it does not know as unknown', async () => {
    const [noop, unknown] = [await commandCount('NOOP'), await commandCount('unknown')];
    const c = await login();
    for (let i = 0; i < 3; i += 1) expect((await c.cmd('NOOP')).code).toBe(200);
    expect((await c.cmd('XYZZY')).code).toBe(502);
    expect(await commandCount('NOOP')).toBe(noop + 3);
    expect(await commandCount('unknown')).toBe(unknown + 1);
  });
});

describe('ftp door against bad input', () => {
  it('refuses PORT/EPRT to another host or a privileged port', async () => {
    const c = await login();
    expect((await c.cmd('PORT 10,0,0,1,200,10')).code).toBe(501);
    expect((await c.cmd('EPRT |1|192.168.1.1|5000|')).code).toBe(501);
    expect((await c.cmd('PORT 127,0,0,1,0,21')).code).toBe(501);
    expect((await c.cmd('PORT 1,2,3')).code).toBe(501);
    expect((await c.cmd('EPRT |9|x|1|')).code).toBe(522);
    expect((await c.cmd('EPSV ALL')).code).toBe(200);
    expect((await c.cmd('PASV')).code).toBe(503);
    expect((await c.cmd('PORT 127,0,0,1,200,10')).code).toBe(503);
  });

  it('transfers over an active connection to the client itself', async () => {
    const c = await login();
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const got = new Promise<Buffer>((resolve) => srv.once('connection', (sock) => resolve(readSocket(sock))));
    await t.gw.core.vfs.write(s(), 'docs', 'active.txt', body('over PORT'));
    expect((await c.cmd(`PORT 127,0,0,1,${port >> 8},${port & 255}`)).code).toBe(200);
    expect((await c.cmd('RETR /docs/active.txt')).code).toBe(150);
    expect((await got).toString()).toBe('over PORT');
    expect((await c.next()).code).toBe(226);
    srv.close();
  });

  it("keeps a session's passive port between transfers, and takes one connection per PASV/EPSV only", async () => {
    const c = await login();
    const epsvPort = async () => Number(/\(\|\|\|(\d+)\|\)/.exec((await c.cmd('EPSV')).text)![1]);
    const connectTo = (port: number) =>
      new Promise<net.Socket>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => resolve(sock));
        sock.once('error', reject);
      });
    const closedByServer = (sock: net.Socket) => new Promise<void>((resolve) => (sock.on('error', () => undefined), sock.once('close', () => resolve())));
    const port = await epsvPort();
    const data = await connectTo(port);
    // A second connection for the same EPSV is refused (closed at once), the first one carries the upload.
    const second = await connectTo(port);
    await closedByServer(second);
    expect((await c.cmd('STOR /docs/kept-port-1.txt')).code).toBe(150);
    await writeSocket(data, 'one');
    expect((await c.next()).code).toBe(226);
    // Between transfers nothing is taken on the port either.
    await closedByServer(await connectTo(port));
    // The next EPSV answers the same port, and the next upload goes through it.
    expect(await epsvPort()).toBe(port);
    const again = await connectTo(port);
    expect((await c.cmd('STOR /docs/kept-port-2.txt')).code).toBe(150);
    await writeSocket(again, 'two');
    expect((await c.next()).code).toBe(226);
    expect((await readAll((await t.gw.core.vfs.read(s(), 'docs', 'kept-port-2.txt')).stream)).toString()).toBe('two');
    // The port goes with the session (shutdown closes the listener before the reply is read).
    expect((await c.cmd('QUIT')).code).toBe(221);
    await expect(connectTo(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('serves more transfers on its kept passive port than there are data connections still draining', async () => {
    await t.gw.core.vfs.write(s(), 'docs', 'drain.txt', body('drained'));
    const c = await login();
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 6; i += 1) {
        const port = Number(/\(\|\|\|(\d+)\|\)/.exec((await c.cmd('EPSV')).text)![1]);
        // A client that reads to the end and keeps its side open: the server's socket lingers.
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const x = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(x));
          x.once('error', reject);
        });
        held.push(sock);
        expect((await c.cmd('RETR /docs/drain.txt')).code).toBe(150);
        expect((await readSocket(sock)).toString()).toBe('drained');
        expect((await c.next()).code).toBe(226);
      }
    } finally {
      for (const x of held) x.destroy();
    }
  });

  it('answers commands out of order with 503/425', async () => {
    const c = await login();
    expect((await c.cmd('RNTO /docs/x')).code).toBe(503);
    expect((await c.cmd('RETR /docs/h.txt')).code).toBe(425);
    expect((await c.cmd('STOR /docs/none.txt')).code).toBe(425);
    expect((await c.cmd('PROT P')).code).toBe(503);
    expect((await c.cmd('PBSZ 0')).code).toBe(503);
    expect((await c.cmd('USER bob')).code).toBe(503);
    expect((await c.cmd('XYZZY')).code).toBe(502);
    expect((await c.cmd('NOOP')).code).toBe(200);
  });

  it('keeps the previous version when the data connection is cut mid-upload', async () => {
    await t.gw.core.vfs.write(s(), 'docs', 'cut.bin', body('previous version'));
    const c = await login();
    const sock = await c.pasv();
    expect((await c.cmd('STOR /docs/cut.bin')).code).toBe(150);
    sock.write(randomBytes(200_000));
    await new Promise((r) => setTimeout(r, 50));
    sock.resetAndDestroy();
    expect((await c.next()).code).toBe(426);
    const head = await t.gw.core.vfs.read(s(), 'docs', 'cut.bin');
    expect((await readAll(head.stream)).toString()).toBe('previous version');
    expect(head.entry.version).toBe(1);
    expect((await c.cmd('NOOP')).code).toBe(200);
  });

  it('keeps the previous version when the control connection drops mid-upload', async () => {
    await t.gw.core.vfs.write(s(), 'docs', 'cut2.bin', body('previous'));
    const c = await login();
    const sock = await c.pasv();
    expect((await c.cmd('STOR /docs/cut2.bin')).code).toBe(150);
    sock.write(randomBytes(100_000));
    c.socket.resetAndDestroy();
    await new Promise((r) => sock.once('close', r));
    await new Promise((r) => setTimeout(r, 100));
    const head = await t.gw.core.vfs.read(s(), 'docs', 'cut2.bin');
    expect((await readAll(head.stream)).toString()).toBe('previous');
  });

  it('aborts an upload on ABOR and answers 426 then 226', async () => {
    await t.gw.core.vfs.write(s(), 'docs', 'abor.bin', body('kept'));
    const c = await login();
    const sock = await c.pasv();
    expect((await c.cmd('STOR /docs/abor.bin')).code).toBe(150);
    sock.write(randomBytes(10_000));
    const r = await c.cmd('ABOR');
    expect(r.code).toBe(426);
    expect((await c.next()).code).toBe(226);
    expect((await readAll((await t.gw.core.vfs.read(s(), 'docs', 'abor.bin')).stream)).toString()).toBe('kept');
  });

  it('reassembles commands split across packets and survives garbage', async () => {
    const c = await login();
    c.socket.write('NO');
    await new Promise((r) => setTimeout(r, 20));
    expect((await c.cmd('OP')).code).toBe(200);
    c.socket.write(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('NOOP\r\n')]));
    expect((await c.next()).code).toBe(200);
    expect((await c.cmd('SIZE /docs/"quoted" name.txt')).code).toBe(550);
    const r = await c.cmd(`NOOP ${'x'.repeat(20_000)}`);
    expect(r.code).toBe(500);
    expect((await c.next()).code).toBe(-1);
  });
});

describe('ftp door settings', () => {
  // Connections still go to the file's `clients`, closed when the file is done (as with its own gateway).
  const { t: g } = useFtpTestGateway({ ftp: { loginTimeoutSec: 1, idleTimeoutSec: 1, passiveAddress: '10.1.2.3', activeMode: false, tls: 'off' } });

  it('closes a connection that does not log in, or idles, with 421', async () => {
    const c = await RawFtp.connect(g.ftpPort!);
    clients.push(c);
    const r = await c.next();
    expect(r.code).toBe(421);
    const d = await RawFtp.connect(g.ftpPort!);
    clients.push(d);
    await d.login();
    expect((await d.next()).code).toBe(421);
  });

  it('advertises the configured passive address, refuses active mode and offers no TLS when off', async () => {
    const c = await RawFtp.connect(g.ftpPort!);
    clients.push(c);
    expect((await c.cmd('AUTH TLS')).code).toBe(502);
    expect((await c.cmd('FEAT')).text).not.toContain('AUTH TLS');
    await c.login();
    expect((await c.cmd('PASV')).text).toMatch(/^227 Entering Passive Mode \(10,1,2,3,\d+,\d+\)$/);
    expect((await c.cmd('PORT 127,0,0,1,200,10')).code).toBe(502);
  });
});

describe('ftp failed logins', () => {
  // Connections still go to the file's `clients`, closed when the file is done (as with its own gateway).
  const { t: g } = useFtpTestGateway({ security: { banAfter: 4 } });

  it('closes after 3 failures per connection and shares the ban with every door', async () => {
    const c = await RawFtp.connect(g.ftpPort!);
    clients.push(c);
    for (let i = 0; i < 3; i += 1) {
      await c.cmd('USER alice');
      expect((await c.cmd('PASS wrong')).code).toBe(530);
    }
    expect((await c.next()).code).toBe(-1);
    const d = await RawFtp.connect(g.ftpPort!);
    clients.push(d);
    await d.cmd('USER alice');
    expect((await d.cmd('PASS wrong')).code).toBe(530);
    await d.cmd('USER alice');
    const banned = await d.cmd('PASS alice-password');
    expect(banned.text).toBe('421 Too many failed logins, try again later');
    expect((await d.next()).code).toBe(-1);
    await expect(g.gw.core.accounts.authenticate('alice', 'alice-password', { address: '127.0.0.1', protocol: 'rest' })).rejects.toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
  });
});
