import type { CommandSpec, FtpClient } from '../client.js';
import type { FtpFileSystem } from '../filesystem.js';
import { ftpTime, mlsxFacts, parseFtpTime } from '../listing.js';

function fsOf(c: FtpClient): FtpFileSystem {
  return c.fs!;
}

/** RFC 959 quoting of a path in a 257 reply. */
const quoted = (p: string) => `"${p.replace(/"/g, '""')}"`;

const cwd: CommandSpec['run'] = async (c, arg) => {
  await fsOf(c).changeDirectory(arg || '/');
  c.reply(250, 'Directory changed');
};
const pwd: CommandSpec['run'] = (c) => c.reply(257, `${quoted(fsOf(c).currentDirectory())} is the current directory`);
const mkd: CommandSpec['run'] = async (c, arg) => {
  if (!arg) return c.reply(501, 'Folder name required');
  const t = fsOf(c).resolve(arg);
  await fsOf(c).makeDirectory(t);
  c.reply(257, `${quoted(t.vpath)} created`);
};
const rmd: CommandSpec['run'] = async (c, arg) => {
  if (!arg) return c.reply(501, 'Folder name required');
  await fsOf(c).removeDirectory(fsOf(c).resolve(arg));
  c.reply(250, 'Folder removed');
};

export const fileCommands: Record<string, CommandSpec> = {
  CWD: { run: cwd },
  XCWD: { run: cwd },
  CDUP: { run: (c) => cwd(c, '..') },
  XCUP: { run: (c) => cwd(c, '..') },
  PWD: { run: pwd },
  XPWD: { run: pwd },
  MKD: { run: mkd },
  XMKD: { run: mkd },
  RMD: { run: rmd },
  XRMD: { run: rmd },
  DELE: {
    async run(c, arg) {
      if (!arg) return c.reply(501, 'File name required');
      await fsOf(c).removeFile(fsOf(c).resolve(arg));
      c.reply(250, 'File deleted');
    },
  },
  RNFR: {
    async run(c, arg) {
      if (!arg) return c.reply(501, 'File name required');
      const t = fsOf(c).resolve(arg);
      await fsOf(c).entry(t);
      c.renameFrom = t;
      c.reply(350, 'Ready for RNTO');
    },
  },
  RNTO: {
    // The core refuses a target name the source cannot take (a folder into itself, or onto a folder
    // holding it) as INVALID_INPUT: for RNTO that is the new name not allowed (RFC 959 553), not a
    // syntax error in the argument (501).
    errors: { INVALID_INPUT: { code: 553, message: 'Requested action not taken. File name not allowed' } },
    async run(c, arg) {
      const from = c.renameFrom;
      c.renameFrom = null;
      if (!from) return c.reply(503, 'Send RNFR first');
      if (!arg) return c.reply(501, 'File name required');
      await fsOf(c).renameEntry(from, fsOf(c).resolve(arg));
      c.reply(250, 'Renamed');
    },
  },
  SIZE: {
    feat: 'SIZE',
    async run(c, arg) {
      // Without an argument it would size the current folder (550): a syntax error instead.
      if (!arg.trim()) return c.reply(501, 'SIZE needs a file name');
      const e = await fsOf(c).entry(fsOf(c).resolve(arg));
      if (e.kind !== 'file') return c.reply(550, 'Not a plain file');
      c.reply(213, String(e.size));
    },
  },
  MDTM: {
    feat: 'MDTM',
    async run(c, arg) {
      const e = await fsOf(c).entry(fsOf(c).resolve(arg));
      c.reply(213, ftpTime(e.mtimeMs));
    },
  },
  MFMT: {
    feat: 'MFMT',
    async run(c, arg) {
      const m = /^(\S+) (.+)$/.exec(arg);
      const ms = m ? parseFtpTime(m[1]!) : null;
      if (!m || ms === null) return c.reply(501, 'Syntax: MFMT YYYYMMDDHHMMSS path');
      const e = await fsOf(c).setModified(fsOf(c).resolve(m[2]!), ms);
      c.reply(213, `Modify=${ftpTime(e.mtimeMs)}; ${m[2]}`);
    },
  },
  MLST: {
    feat: 'MLST type*;size*;modify*;perm*;',
    async run(c, arg) {
      const t = fsOf(c).resolve(arg.trim());
      const e = await fsOf(c).entry(t);
      c.reply(250, [`Listing ${t.vpath}`, `${mlsxFacts(e)} ${t.vpath}`, 'End']);
    },
  },
};
