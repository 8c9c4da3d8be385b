import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { body } from '../../test/helpers/core.js';
import { loadOrCreateCertificate } from '../../src/lib/tls-cert.js';
import { RawFtp, readSocket, writeSocket } from './raw-ftp.test-support.js';
import { useFtpTestGateway } from './testing.js';

const { t, clients } = useFtpTestGateway();

describe('ftp explicit TLS', () => {
  it('keeps the generated certificate in the data folder and reuses it', async () => {
    const cert = await readFile(path.join(t.dir, 'tls-cert.pem'), 'utf8');
    const again = await loadOrCreateCertificate({ dir: t.dir });
    expect(again.generated).toBe(false);
    expect(again.cert).toBe(cert);
  });

  it('upgrades the control connection 20 times in a row with the ClientHello right after 234', async () => {
    for (let i = 0; i < 20; i += 1) {
      const c = await RawFtp.connect(t.ftpPort!);
      clients.push(c);
      expect((await c.startTls()).code).toBe(234);
      expect((c.socket as TLSSocket).encrypted).toBe(true);
      await c.login();
      expect((await c.cmd('NOOP')).code).toBe(200);
      c.close();
    }
  });

  it('negotiates PBSZ/PROT in order and moves data over TLS with PROT P, in clear with PROT C', async () => {
    await t.gw.core.vfs.write(t.alice.session, 'docs', 'prot.txt', body('protected'));
    const c = await RawFtp.connect(t.ftpPort!);
    clients.push(c);
    await c.startTls();
    expect((await c.cmd('PROT P')).code).toBe(503);
    expect((await c.cmd('PBSZ 0')).code).toBe(200);
    expect((await c.cmd('PROT X')).code).toBe(504);
    expect((await c.cmd('PROT P')).code).toBe(200);
    await c.login();
    expect((await c.cmd('AUTH TLS')).code).toBe(503);
    const sock = await c.pasv(true);
    expect((await c.cmd('RETR /docs/prot.txt')).code).toBe(150);
    expect((await readSocket(sock)).toString()).toBe('protected');
    expect((await c.next()).code).toBe(226);
    const up = await c.pasv(true);
    expect((await c.cmd('STOR /docs/prot-up.txt')).code).toBe(150);
    await writeSocket(up, 'uploaded over TLS');
    expect((await c.next()).code).toBe(226);
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'prot-up.txt')).size).toBe(17);
    expect((await c.cmd('PROT C')).code).toBe(200);
    const clear = await c.pasv(false);
    expect((await c.cmd('RETR /docs/prot.txt')).code).toBe(150);
    expect((await readSocket(clear)).toString()).toBe('protected');
    expect((await c.next()).code).toBe(226);
  });
});

describe('ftp with requireTls and implicit FTPS', () => {
  // Connections still go to the file's `clients`, closed when the file is done (as with its own gateway).
  const { t: g } = useFtpTestGateway({ ftp: { requireTls: true, implicitTlsPort: 20000 + Math.floor(Math.random() * 20000) } });

  it('refuses USER before AUTH TLS, then accepts it over TLS', async () => {
    const c = await RawFtp.connect(g.ftpPort!);
    clients.push(c);
    expect((await c.cmd('USER alice')).code).toBe(530);
    await c.startTls();
    await c.login();
  });

  it('speaks TLS from the first byte on the implicit port, data protected by default', async () => {
    await g.gw.core.vfs.write(g.alice.session, 'docs', 'imp.txt', body('implicit'));
    const c = await RawFtp.connect(g.gw.ftp!.implicitTlsAddress!.port, { implicitTls: true });
    clients.push(c);
    await c.login();
    const sock = await c.pasv(true);
    expect((await c.cmd('RETR /docs/imp.txt')).code).toBe(150);
    expect((await readSocket(sock)).toString()).toBe('implicit');
    expect((await c.next()).code).toBe(226);
  });
});
