import net from 'node:net';
import type { CommandSpec, FtpClient } from '../client.js';
import { DataChannel, PassiveListener, plainAddress, sameAddress, type DataOptions } from '../data.js';

function dataOptions(c: FtpClient): DataOptions {
  return {
    clientAddress: c.address,
    tls: c.protP && c.door.tls ? c.door.tls.context : null,
    timeoutMs: Math.min(c.door.options.idleTimeoutSec, 60) * 1000,
  };
}

/** How long a session's passive listener waits for its next PASV/EPSV after a transfer. */
const PASSIVE_KEEP_MS = 2000;

async function openPassive(c: FtpClient): Promise<number> {
  c.data?.close();
  c.data = null;
  const host = c.socket.localAddress ?? c.door.options.host;
  if (!c.passive || c.passive.closed || c.passive.host !== host) {
    c.passive?.close();
    c.passive = null;
    c.passive = await PassiveListener.open(c.door.ports, host, PASSIVE_KEEP_MS);
    if (c.closed) c.passive.close();
  }
  c.data = DataChannel.passive(dataOptions(c), c.passive);
  return c.passive.port;
}

function openActive(c: FtpClient, host: string, port: number): void {
  c.data?.close();
  c.data = null;
  if (c.epsvAll) return c.reply(503, 'EPSV ALL in effect; use EPSV');
  if (!c.door.options.activeMode) return c.reply(502, 'Active mode is disabled; use PASV or EPSV');
  // No FTP bounce: only the client's own address, and no privileged port.
  if (!sameAddress(host, c.address)) return c.reply(501, 'PORT to another host refused');
  if (!Number.isInteger(port) || port < 1024 || port > 65535) return c.reply(501, 'Port refused');
  c.data = DataChannel.active(dataOptions(c), plainAddress(host), port);
  c.reply(200, 'PORT command successful');
}

export const connectCommands: Record<string, CommandSpec> = {
  PASV: {
    async run(c) {
      const advertised = c.door.options.passiveAddress || plainAddress(c.socket.localAddress);
      if (c.epsvAll) return c.reply(503, 'EPSV ALL in effect; use EPSV');
      if (!net.isIPv4(advertised)) return c.reply(425, 'Use EPSV on IPv6');
      const port = await openPassive(c);
      c.reply(227, `Entering Passive Mode (${advertised.replace(/\./g, ',')},${port >> 8},${port & 255})`);
    },
  },
  EPSV: {
    feat: 'EPSV',
    async run(c, arg) {
      const a = arg.trim().toUpperCase();
      if (a === 'ALL') {
        c.epsvAll = true;
        return c.reply(200, 'EPSV ALL accepted');
      }
      if (a !== '' && a !== '1' && a !== '2') return c.reply(522, 'Network protocol not supported, use (1,2)');
      const port = await openPassive(c);
      c.reply(229, `Entering Extended Passive Mode (|||${port}|)`);
    },
  },
  PORT: {
    run(c, arg) {
      const parts = arg.trim().split(',');
      if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return c.reply(501, 'Syntax: PORT h1,h2,h3,h4,p1,p2');
      const n = parts.map(Number);
      openActive(c, n.slice(0, 4).join('.'), n[4]! * 256 + n[5]!);
    },
  },
  EPRT: {
    feat: 'EPRT',
    run(c, arg) {
      const s = arg.trim();
      const d = s[0];
      const parts = d ? s.split(d) : [];
      if (parts.length !== 5 || !/^\d+$/.test(parts[3] ?? '')) return c.reply(501, 'Syntax: EPRT |proto|address|port|');
      const [, proto, host = '', port] = parts;
      if ((proto === '1' && !net.isIPv4(host)) || (proto === '2' && !net.isIPv6(host)) || (proto !== '1' && proto !== '2')) {
        return c.reply(522, 'Network protocol not supported, use (1,2)');
      }
      openActive(c, host, Number(port));
    },
  },
};
