import net, { type Socket } from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  text: string;
}

/** A minimal FTP client speaking raw commands, for tests that need exact control of the wire. */
export class RawFtp {
  private buf = '';
  private replies: Reply[] = [];
  private waiters: ((r: Reply) => void)[] = [];
  closed = false;

  private constructor(public socket: Socket) {
    this.listen(socket);
  }

  /** `localAddress` (e.g. 127.0.0.2: Linux routes all of 127/8 to lo) makes a plain client another host. */
  static async connect(port: number, opts: { implicitTls?: boolean; localAddress?: string } = {}): Promise<RawFtp> {
    const { localAddress } = opts;
    const socket = opts.implicitTls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect({ port, host: '127.0.0.1', localAddress });
    const c = new RawFtp(socket);
    const greeting = await c.next();
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.code}`);
    return c;
  }

  private listen(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.feed(d));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w({ code: -1, text: 'closed' });
    });
    socket.on('error', () => undefined);
  }

  private feed(d: string): void {
    this.buf += d;
    for (;;) {
      const m = /^(\d{3}) (.*)\r\n/m.exec(this.buf);
      if (!m) break;
      const end = m.index + m[0].length;
      const block = this.buf.slice(0, end);
      this.buf = this.buf.slice(end);
      const r = { code: Number(m[1]), text: block.trimEnd() };
      const w = this.waiters.shift();
      if (w) w(r);
      else this.replies.push(r);
    }
  }

  next(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: -1, text: 'closed' });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async cmd(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.next();
  }

  async login(user = 'alice', pass = 'alice-password'): Promise<void> {
    await this.cmd(`USER ${user}`);
    const r = await this.cmd(`PASS ${pass}`);
    if (r.code !== 230) throw new Error(`login: ${r.text}`);
  }

  /** AUTH TLS and switch this client's control connection to TLS. */
  async startTls(): Promise<Reply> {
    const r = await this.cmd('AUTH TLS');
    if (r.code !== 234) return r;
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
    return r;
  }

  /** EPSV, then connects the data socket (TLS when `secure`). */
  async pasv(secure = false): Promise<Socket> {
    const r = await this.cmd('EPSV');
    const m = /\(\|\|\|(\d+)\|\)/.exec(r.text);
    if (!m) throw new Error(`EPSV: ${r.text}`);
    const raw = net.connect(Number(m[1]), '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      raw.once('connect', () => resolve());
      raw.once('error', reject);
    });
    raw.on('error', () => undefined);
    if (!secure) return raw;
    const s = tls.connect({ socket: raw, rejectUnauthorized: false });
    s.on('error', () => undefined);
    return s;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function readSocket(sock: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks)));
    sock.on('error', reject);
  });
}

export function writeSocket(sock: Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve) => sock.end(data, () => resolve()));
}
