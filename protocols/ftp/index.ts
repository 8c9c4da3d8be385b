import type { EventEmitter } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { FtpSrv, type FtpConnection } from 'ftp-srv';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Core } from '../../src/core/index.js';
import { FtpClient, type FtpDoorState } from './client.js';
import { FTP_COMMANDS } from './commands/index.js';
import { PassivePorts, plainAddress } from './data.js';
import { FtpFileSystem } from './filesystem.js';
import type { FtpOptions } from './options.js';
import { loadFtpTls } from './tls.js';

export interface FtpDoorDeps {
  core: Core;
  options: FtpOptions;
  log: Logger;
  metrics: Registry;
  /** Where a generated self-signed certificate is kept. */
  dataDir: string;
}

export interface FtpDoor {
  address: { host: string; port: number };
  implicitTlsAddress?: { host: string; port: number };
  close(): Promise<void>;
}

/**
 * The FTP/FTPS door: ftp-srv accepts connections and runs the `login` event, which hands each
 * connection an FtpFileSystem over the core; the command set is ours (commands/), see client.ts.
 */
export async function startFtpDoor(deps: FtpDoorDeps): Promise<FtpDoor | null> {
  const { core, options, log, metrics } = deps;
  if (options.passivePortMin > options.passivePortMax) throw new Error('ftp.passivePortMin is above ftp.passivePortMax');
  if (options.anonymous) log.warn('anonymous FTP is not supported; every login needs an account');
  const tls = await loadFtpTls(options, deps.dataDir);
  const commandCounters = new Map<string, { inc(): void }>();
  const door: FtpDoorState = {
    core,
    options,
    log,
    tls,
    ports: new PassivePorts(options.passivePortMin, options.passivePortMax),
    metrics: {
      commands: new Counter({ name: 'syncgate_ftp_commands_total', help: 'FTP commands received', labelNames: ['command'], registers: [metrics] }),
      bytes: new Counter({ name: 'syncgate_ftp_bytes_total', help: 'FTP payload bytes transferred', labelNames: ['direction'], registers: [metrics] }),
      logins: new Counter({ name: 'syncgate_ftp_logins_total', help: 'FTP login attempts', labelNames: ['result'], registers: [metrics] }),
    },
    commandCounter(verb) {
      let child = commandCounters.get(verb);
      if (!child) {
        child = door.metrics.commands.labels({ command: verb });
        commandCounters.set(verb, child);
      }
      return child;
    },
  };
  const clients = new Set<FtpClient>();
  const servers: FtpSrv[] = [];

  const start = async (implicit: boolean, port: number): Promise<{ host: string; port: number }> => {
    const srv = new FtpSrv({
      url: `${implicit ? 'ftps' : 'ftp'}://${options.host}:${port}`,
      tls: implicit && tls ? tls.options : false,
      anonymous: false,
      // Only used for its own warning at listen(); PASV/EPSV replies are built in commands/connect.ts.
      pasv_url: options.passiveAddress || options.host,
      // ftp-srv logs routine client errors as errors: keep its chatter at warn or quieter.
      log: log.child({ category: 'ftp-srv' }, { level: log.levelVal >= 40 ? log.level : 'warn' }),
    });
    (srv as unknown as EventEmitter).on('connect', ({ connection }: { connection: FtpConnection }) => {
      const socket = (connection as unknown as { commandSocket: import('node:net').Socket }).commandSocket;
      // ftp-srv's own command reader and error logger make way for ours.
      socket.removeAllListeners('data');
      socket.removeAllListeners('error');
      const client = new FtpClient(door, connection, socket, implicit, FTP_COMMANDS, (c) => {
        clients.delete(c);
        void srv.disconnectClient(connection.id);
      });
      clients.add(client);
    });
    srv.on('login', ({ connection, username, password }, resolve, reject) => {
      const address = plainAddress(connection.ip);
      const requestId = `ftp-${connection.id.slice(0, 8)}`;
      core.authenticate({ kind: 'password', user: username, secret: password }, { address, protocol: 'ftp', requestId }).then((session) => {
        log.info({ user: session.user.name, address }, 'ftp login');
        resolve({ fs: new FtpFileSystem(connection, core, session) });
      }, reject);
    });
    srv.on('client-error', () => undefined);
    await srv.listen();
    servers.push(srv);
    const addr = (srv as unknown as { server: Server }).server.address() as AddressInfo;
    return { host: options.host, port: addr.port };
  };

  try {
    const address = await start(false, options.port);
    const implicitTlsAddress = options.implicitTlsPort > 0 && tls ? await start(true, options.implicitTlsPort) : undefined;
    log.info({ address, implicitTlsAddress, tls: options.tls, requireTls: options.requireTls }, 'ftp door listening');
    return {
      address,
      implicitTlsAddress,
      async close() {
        for (const c of [...clients]) c.shutdown(421, 'Server shutting down');
        await Promise.all(servers.map((s) => s.close()));
      },
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
}
