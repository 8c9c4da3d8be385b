import { isCoreError } from '../../../src/core/index.js';
import type { CommandSpec, FtpClient } from '../client.js';
import type { FtpFileSystem } from '../filesystem.js';
import { upgradeControlSocket } from '../tls.js';

const MAX_FAILED_LOGINS_PER_CONNECTION = 3;

const tlsFeat = (feat: string) => (c: FtpClient) => (c.door.tls && c.door.options.tls === 'explicit' ? feat : null);

/** Login, TLS negotiation and connection-level commands. */
export const sessionCommands: Record<string, CommandSpec> = {
  USER: {
    noAuth: true,
    run(c, arg) {
      if (c.authenticated) return c.reply(503, 'Already logged in');
      if (!arg) return c.reply(501, 'Syntax: USER name');
      if (c.door.options.requireTls && !c.secure) return c.reply(530, 'Use AUTH TLS before logging in');
      c.userName = arg;
      c.reply(331, 'Password required');
    },
  },
  PASS: {
    noAuth: true,
    async run(c, arg) {
      if (c.authenticated) return c.reply(503, 'Already logged in');
      if (c.userName === null) return c.reply(503, 'Send USER first');
      if (c.door.options.requireTls && !c.secure) return c.reply(530, 'Use AUTH TLS before logging in');
      const name = c.userName;
      c.userName = null;
      try {
        // ftp-srv's `login` event builds the per-connection filesystem (see index.ts).
        await c.conn.login(name, arg);
      } catch (err) {
        c.door.metrics.logins.inc({ result: 'failure' });
        if (isCoreError(err, 'UNAUTHENTICATED')) {
          c.failedLogins += 1;
          if (c.failedLogins >= MAX_FAILED_LOGINS_PER_CONNECTION) return c.shutdown(530, 'Login incorrect');
          return c.reply(530, 'Login incorrect');
        }
        throw err;
      }
      c.loggedIn((c.conn as unknown as { fs: FtpFileSystem }).fs);
      c.door.metrics.logins.inc({ result: 'success' });
      c.reply(230, 'Logged in');
    },
  },
  AUTH: {
    noAuth: true,
    feat: tlsFeat('AUTH TLS'),
    run(c, arg) {
      const tls = c.door.tls;
      if (!tls || c.door.options.tls !== 'explicit') return c.reply(502, 'TLS not available');
      if (!/^(TLS|TLS-C|SSL)$/i.test(arg.trim())) return c.reply(504, 'Only AUTH TLS is supported');
      if (c.secure) return c.reply(503, 'Already using TLS');
      if (c.authenticated) return c.reply(503, 'AUTH TLS must come before login');
      c.secure = true;
      c.attach(upgradeControlSocket(c.socket, tls.context, '234 AUTH TLS OK\r\n'));
    },
  },
  PBSZ: {
    noAuth: true,
    feat: tlsFeat('PBSZ'),
    run(c) {
      if (!c.secure) return c.reply(503, 'PBSZ requires AUTH TLS first');
      c.pbsz = true;
      c.reply(200, 'PBSZ=0');
    },
  },
  PROT: {
    noAuth: true,
    feat: tlsFeat('PROT'),
    run(c, arg) {
      if (!c.secure) return c.reply(503, 'PROT requires AUTH TLS first');
      if (!c.pbsz) return c.reply(503, 'PROT requires PBSZ first');
      const level = arg.trim().toUpperCase();
      if (level === 'P') c.protP = true;
      else if (level === 'C') c.protP = false;
      else if (level === 'S' || level === 'E') return c.reply(536, 'Protection level not supported');
      else return c.reply(504, 'Unknown protection level');
      c.reply(200, `Protection level ${level}`);
    },
  },
  CCC: { noAuth: true, run: (c) => c.reply(534, 'The control connection stays protected') },
  FEAT: {
    noAuth: true,
    run(c) {
      c.reply(211, ['Extensions supported:', ...c.featLines(), 'End']);
    },
  },
  OPTS: {
    noAuth: true,
    run(c, arg) {
      const [opt = '', ...rest] = arg.trim().split(/\s+/);
      const value = rest.join(' ').toUpperCase();
      if (/^UTF-?8$/i.test(opt)) {
        if (value === '' || value === 'ON') return c.reply(200, 'UTF8 mode always on');
        return c.reply(504, 'UTF8 cannot be turned off');
      }
      if (opt.toUpperCase() === 'MLST') return c.reply(200, 'MLST OPTS type;size;modify;perm;');
      c.reply(501, 'Option not understood');
    },
  },
  SYST: { noAuth: true, run: (c) => c.reply(215, 'UNIX Type: L8') },
  NOOP: { noAuth: true, run: (c) => c.reply(200, 'OK') },
  HELP: { noAuth: true, run: (c) => c.reply(214, 'See RFC 959, 2228, 2389, 2428, 3659 and 4217') },
  QUIT: {
    noAuth: true,
    run(c) {
      c.shutdown(221, 'Goodbye');
    },
  },
  TYPE: {
    run(c, arg) {
      const t = arg.trim().toUpperCase();
      if (t === 'I' || t === 'L 8' || t === 'A' || t === 'A N') return c.reply(200, `Type set to ${t[0]}`);
      c.reply(504, 'Type not supported');
    },
  },
  STRU: { run: (c, arg) => (arg.trim().toUpperCase() === 'F' ? c.reply(200, 'Structure set to F') : c.reply(504, 'Only file structure')) },
  MODE: { run: (c, arg) => (arg.trim().toUpperCase() === 'S' ? c.reply(200, 'Mode set to S') : c.reply(504, 'Only stream mode')) },
  ALLO: { run: (c) => c.reply(202, 'No storage allocation necessary') },
  SITE: { run: (c) => c.reply(202, 'SITE commands are not needed here') },
  ABOR: { run: (c) => c.reply(225, 'No transfer to abort') },
  STAT: { noAuth: true, run: (c) => c.reply(211, [`syncgate FTP, ${c.secure ? 'TLS' : 'plain'} control connection`, 'End of status']) },
};
