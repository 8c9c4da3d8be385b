import net, { type Socket } from 'node:net';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import { replyError } from './errors.js';

/** Strips the IPv4-mapped prefix so '::ffff:127.0.0.1' and '127.0.0.1' compare equal. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1]!;
  if (net.isIPv6(address)) return new net.SocketAddress({ address, family: 'ipv6' }).address.toLowerCase();
  return address;
}

export function sameAddress(a: string | undefined, b: string | undefined): boolean {
  if (a !== undefined && a !== '' && a === b) return true; // the usual case: no parsing
  const pa = plainAddress(a);
  return pa !== '' && pa === plainAddress(b);
}

/** Hands out passive ports from the configured range, round robin, trying each port at most once. */
export class PassivePorts {
  private next: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    this.next = min;
  }

  async listen(server: net.Server, host: string): Promise<number> {
    const count = this.max - this.min + 1;
    for (let i = 0; i < count; i += 1) {
      const port = this.next;
      this.next = port >= this.max ? this.min : port + 1;
      const ok = await new Promise<boolean>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
          server.removeListener('listening', onListening);
          if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
          else reject(err);
        };
        const onListening = () => {
          server.removeListener('error', onError);
          resolve(true);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen({ port, host, exclusive: true });
      });
      if (ok) return port;
    }
    throw replyError(425, 'No passive port available');
  }
}

/**
 * One control connection's passive listener, kept between its transfers: a session that stores
 * 1,000 small files asks for 1,000 data connections, and a listener each (a server object, socket,
 * bind, listen and close) was about a third of what PASV cost the server. Each connection it
 * accepts goes to the channel of the PASV/EPSV before it, only from the client's address, and only
 * one per channel; any other is closed at once, as before. Idle for `keepMs` (no channel waiting),
 * it closes and frees its port for other sessions.
 */
export class PassiveListener {
  private waiting: DataChannel | null = null;
  private idle: NodeJS.Timeout | null = null;
  closed = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly host: string,
    private readonly keepMs: number,
  ) {
    server.on('connection', (sock) => {
      if (!this.waiting?.accept(sock)) sock.destroy();
    });
    server.on('error', () => undefined);
    server.once('close', () => this.markClosed());
  }

  static async open(ports: PassivePorts, host: string, keepMs: number): Promise<PassiveListener> {
    // No maxConnections: kept for many transfers, it would also count finished data connections
    // still draining (up to 30 s, DataChannel.close) and refuse the next one. A connection no
    // channel is waiting for is closed at once instead.
    const server = net.createServer({ pauseOnConnect: false });
    const port = await ports.listen(server, host);
    return new PassiveListener(server, port, host, keepMs);
  }

  expect(channel: DataChannel): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    this.waiting = channel;
  }

  release(channel: DataChannel): void {
    if (this.waiting !== channel) return;
    this.waiting = null;
    if (this.closed) return;
    this.idle = setTimeout(() => this.close(), this.keepMs);
    this.idle.unref();
  }

  close(): void {
    if (this.closed) return;
    this.markClosed();
    this.server.close();
  }

  private markClosed(): void {
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
  }
}

export interface DataOptions {
  /** The client's control-connection address: the only address allowed on the data connection. */
  clientAddress: string;
  /** Protected data connection (PROT P): TLS on top, server side. */
  tls: SecureContext | null;
  timeoutMs: number;
}

/**
 * One data connection, set up by PASV/EPSV (we listen) or PORT/EPRT (we connect). `open()` resolves
 * as soon as the TCP connection exists (no polling). With PROT P the socket is wrapped in TLS right
 * away but the 150 reply is not held back for the handshake: lftp starts its handshake only after
 * the 150, curl before it, and both work this way.
 */
export class DataChannel {
  private socket: Socket | TLSSocket | null = null;
  private listener: PassiveListener | null = null;
  private timer: NodeJS.Timeout | null = null;
  private waiters: { resolve: (s: Socket | TLSSocket) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private closed = false;
  private target: { host: string; port: number } | null = null;
  /** Settles when the data connection's TLS handshake is done (at once without PROT P). */
  private handshake: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: DataOptions) {}

  /** A channel on `listener` (its port is the one to announce): the next connection it accepts is this channel's. */
  static passive(opts: DataOptions, listener: PassiveListener): DataChannel {
    const channel = new DataChannel(opts);
    channel.listener = listener;
    listener.expect(channel);
    // A passive port nobody connects to is given up after the data timeout.
    channel.timer = setTimeout(() => channel.fail(replyError(425, 'No data connection')), opts.timeoutMs);
    channel.timer.unref();
    return channel;
  }

  static active(opts: DataOptions, host: string, port: number): DataChannel {
    const channel = new DataChannel(opts);
    channel.target = { host, port };
    return channel;
  }

  /** A connection to the passive port: taken when it comes from the client and none was yet. */
  accept(sock: Socket): boolean {
    if (this.closed || this.socket || !sameAddress(sock.remoteAddress, this.opts.clientAddress)) return false;
    this.letGo();
    this.ready(sock);
    return true;
  }

  /** Stops waiting on the passive port (no other connection is taken for this channel). */
  private letGo(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listener?.release(this);
    this.listener = null;
  }

  private ready(raw: Socket): void {
    raw.setNoDelay(true);
    let sock: Socket | TLSSocket = raw;
    if (this.opts.tls) {
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.opts.tls });
      raw.on('error', () => undefined);
      this.handshake = new Promise<void>((resolve, reject) => {
        // Resolved a turn later: OpenSSL writes its TLS 1.3 session tickets after the handshake
        // callback returns, and data or a close_notify written inside that callback goes out ahead
        // of them; an OpenSSL client (ftplib) then fails its unwrap with SHUTDOWN_WHILE_IN_INIT.
        secure.once('secure', () => setImmediate(resolve));
        secure.once('close', () => reject(replyError(426, 'TLS handshake on the data connection failed')));
      });
      this.handshake.catch(() => undefined);
      sock = secure;
    }
    sock.on('error', () => undefined); // reported through the transfer's own stream handling
    sock.setTimeout(this.opts.timeoutMs, () => sock.destroy(replyError(426, 'Data connection timed out')));
    this.socket = sock;
    for (const w of this.waiters.splice(0)) w.resolve(sock);
  }

  private fail(err: Error): void {
    if (this.socket) return;
    this.failure = err;
    this.letGo();
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** The connected data socket, when the client has connected (or connects within the timeout). */
  open(): Promise<Socket | TLSSocket> {
    if (this.socket) return Promise.resolve(this.socket);
    if (this.failure || this.closed) return Promise.reject(this.failure ?? replyError(425, 'No data connection'));
    if (this.target) {
      const { host, port } = this.target;
      this.target = null;
      const raw = net.connect({ host, port });
      const timer = setTimeout(() => raw.destroy(), this.opts.timeoutMs);
      raw.once('connect', () => {
        clearTimeout(timer);
        this.ready(raw);
      });
      raw.once('error', () => {
        clearTimeout(timer);
        this.fail(replyError(425, 'Cannot open data connection'));
      });
      raw.once('close', () => {
        clearTimeout(timer);
        this.fail(replyError(425, 'Cannot open data connection'));
      });
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Resolves once the data connection is secure. A transfer waits for it after its 150 and before
   * ending the connection: ending a TLS socket mid-handshake sends no close_notify, and strict
   * clients (ftplib, FileZilla) then fail the transfer, empty ones above all.
   */
  secured(): Promise<void> {
    return this.handshake;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.letGo();
    const sock = this.socket;
    if (sock && !sock.destroyed) {
      // Let what was written drain; the peer's close (or our timer) ends it for good.
      if (sock.writableEnded) setTimeout(() => sock.destroy(), 30_000).unref();
      else sock.destroy();
    }
    for (const w of this.waiters.splice(0)) w.reject(replyError(425, 'No data connection'));
  }

  /** Cuts the data connection now (ABOR, control connection gone). */
  abort(): void {
    this.socket?.destroy(replyError(426, 'Transfer aborted'));
    this.close();
  }
}
