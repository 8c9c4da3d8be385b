import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FtpConnection } from 'ftp-srv';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Core } from '../../src/core/index.js';
import { plainAddress, type DataChannel, type PassiveListener, type PassivePorts } from './data.js';
import { ftpReplyFor, type FtpErrorReplies, type FtpReply } from './errors.js';
import type { FtpFileSystem, FtpTarget } from './filesystem.js';
import type { FtpOptions } from './options.js';
import type { FtpTls } from './tls.js';

export interface FtpDoorState {
  core: Core;
  options: FtpOptions;
  log: Logger;
  tls: FtpTls | null;
  ports: PassivePorts;
  metrics: { commands: Counter<'command'>; bytes: Counter<'direction'>; logins: Counter<'result'> };
  /** The command counter's child for one verb, made once (labels are hashed on every inc otherwise). */
  commandCounter(verb: string): { inc(): void };
}

export type CommandHandler = (client: FtpClient, arg: string) => Promise<void> | void;

export interface CommandSpec {
  run: CommandHandler;
  /** Allowed before login. */
  noAuth?: boolean;
  /** Shown in FEAT. */
  feat?: string | ((client: FtpClient) => string | null);
  /** Replies for core errors where this command says them otherwise than FTP_ERRORS (RNTO's 553). */
  errors?: FtpErrorReplies;
}

const MAX_LINE = 8192;
const LINE_BREAK = /[\r\n]/;
const MAX_PENDING = 64;

/**
 * Our side of one control connection. ftp-srv accepts it, greets and keeps its connection record;
 * from then on the command stream is ours: lines are reassembled across TCP segments (ftp-srv split
 * each segment and ran segments concurrently), handled one at a time, and every reply is built here.
 */
export class FtpClient {
  readonly id = randomUUID().slice(0, 8);
  readonly log: Logger;
  socket: Socket | TLSSocket;
  secure: boolean;
  /** Implicit FTPS: data connections are protected unless PROT C. */
  pbsz: boolean;
  protP: boolean;
  userName: string | null = null;
  fs: FtpFileSystem | null = null;
  failedLogins = 0;
  rest = 0;
  renameFrom: FtpTarget | null = null;
  data: DataChannel | null = null;
  /** Kept between transfers (see PassiveListener). */
  passive: PassiveListener | null = null;
  /** After EPSV ALL (RFC 2428) only EPSV may set up data connections (NAT-friendly clients). */
  epsvAll = false;
  /** Set while a transfer runs: ABOR cuts it. */
  transfer: DataChannel | null = null;
  closed = false;

  private buffer: Buffer = Buffer.alloc(0);
  private pending: string[] = [];
  private running = false;
  private seq = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastActive = 0;
  private loginTimer: NodeJS.Timeout | null;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    readonly door: FtpDoorState,
    readonly conn: FtpConnection,
    socket: Socket | TLSSocket,
    implicitTls: boolean,
    private readonly commands: Record<string, CommandSpec>,
    private readonly onClose: (client: FtpClient) => void,
  ) {
    this.socket = socket;
    this.secure = implicitTls;
    this.pbsz = implicitTls;
    this.protP = implicitTls;
    this.address = plainAddress(socket.remoteAddress);
    this.log = door.log.child({ conn: this.id, address: this.address });
    this.loginTimer = setTimeout(() => this.shutdown(421, 'Login timeout'), door.options.loginTimeoutSec * 1000);
    this.loginTimer.unref();
    this.attach(socket);
  }

  readonly address: string;

  get authenticated(): boolean {
    return this.fs !== null;
  }

  /** Moves the command stream to a new socket (after AUTH TLS), dropping anything buffered. */
  attach(socket: Socket | TLSSocket): void {
    this.socket.removeListener('data', this.onData);
    this.buffer = Buffer.alloc(0);
    this.socket = socket;
    (this.conn as unknown as { commandSocket: Socket | TLSSocket }).commandSocket = socket;
    // Replies are small writes in quick succession (150 then 226): Nagle plus the client's
    // delayed ACK would hold each second reply for ~40 ms.
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'control connection error'));
    socket.once('close', () => this.dispose());
  }

  loggedIn(fs: FtpFileSystem): void {
    this.fs = fs;
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    this.touch();
  }

  reply(code: number, text: string | string[]): void {
    if (this.closed || this.socket.destroyed) return;
    // Most replies are one fixed line: no array, no copy.
    if (typeof text === 'string' && !LINE_BREAK.test(text)) {
      this.socket.write(`${code} ${text}\r\n`);
      return;
    }
    const lines = (Array.isArray(text) ? text : [text]).map((l) => l.replace(/[\r\n]+/g, ' '));
    let out = '';
    if (lines.length === 1) out = `${code} ${lines[0]}\r\n`;
    else {
      out = `${code}-${lines[0]}\r\n`;
      for (const l of lines.slice(1, -1)) out += ` ${l}\r\n`;
      out += `${code} ${lines[lines.length - 1]}\r\n`;
    }
    this.socket.write(out);
  }

  /** Replies for an error: fixed text from the table; anything unknown is logged once. */
  replyFor(err: unknown, requestId: string, replies?: FtpErrorReplies): void {
    const { reply, internal } = ftpReplyFor(err, replies);
    if (internal) this.log.error({ err, requestId }, 'ftp command failed');
    this.send(reply);
  }

  send(reply: FtpReply): void {
    this.reply(reply.code, reply.message);
    if (reply.close) this.shutdown();
  }

  /** Replies (when given) and closes the control connection. */
  shutdown(code?: number, message?: string): void {
    if (this.closed) return;
    if (code) this.reply(code, message ?? 'Closing connection');
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
    this.dispose();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.loginTimer) clearTimeout(this.loginTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    // An upload in flight must see an error, not a clean end: the previous version stays.
    this.transfer?.abort();
    this.data?.close();
    this.data = null;
    this.passive?.close();
    this.passive = null;
    this.onClose(this);
  }

  private touch(): void {
    if (!this.authenticated || this.closed) {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = null;
      return;
    }
    // Restarted after every command: the same timer again, not a new one each time (three per STOR).
    this.lastActive = Date.now();
    if (this.idleTimer) return void this.idleTimer.refresh();
    const idleMs = this.door.options.idleTimeoutSec * 1000;
    // Found due before a touch in the same turn ran (a 425 at the data timeout, = idleTimeoutSec <= 60 s).
    this.idleTimer = setTimeout(() => {
      if (this.transfer || this.running || Date.now() - this.lastActive < idleMs) this.idleTimer?.refresh();
      else this.shutdown(421, 'Idle timeout, closing control connection');
    }, idleMs);
    this.idleTimer.unref();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      if (nl < 0) break;
      const raw = this.buffer.subarray(0, nl);
      this.buffer = this.buffer.subarray(nl + 1);
      if (raw.length > MAX_LINE) {
        this.shutdown(500, 'Command line too long');
        return;
      }
      const line = decodeLine(raw);
      if (line === '') continue;
      if (this.transfer && /^ABOR$/i.test(line.trim())) {
        this.abortTransfer();
        continue;
      }
      if (this.pending.length >= MAX_PENDING) {
        this.shutdown(421, 'Too many pending commands');
        return;
      }
      this.pending.push(line);
    }
    if (this.buffer.length > MAX_LINE) {
      this.shutdown(500, 'Command line too long');
      return;
    }
    void this.drain();
  }

  private abortTransfer(): void {
    const t = this.transfer;
    this.transfer = null;
    t?.abort();
    // The transfer command answers 426 itself; ABOR's own reply follows it.
    this.pendingAborReply = true;
  }

  pendingAborReply = false;

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length && !this.closed) {
        await this.handle(this.pending.shift()!);
        this.touch();
      }
    } finally {
      this.running = false;
    }
  }

  private async handle(line: string): Promise<void> {
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    const requestId = `ftp-${this.id}-${++this.seq}`;
    if (this.fs) this.fs.requestId = requestId;
    const spec = Object.hasOwn(this.commands, verb) ? this.commands[verb] : undefined;
    this.door.commandCounter(spec ? verb : 'unknown').inc();
    this.log.debug({ verb, requestId }, 'ftp command');
    if (!spec) return this.reply(502, 'Command not implemented');
    if (!spec.noAuth && !this.authenticated) return this.reply(530, 'Please login with USER and PASS');
    try {
      await spec.run(this, arg);
    } catch (err) {
      this.replyFor(err, requestId, spec.errors);
    } finally {
      // A REST only applies to the command right after it, an RNFR only to an RNTO right after it
      // (RFC 959): a rename given up, or an RNFR sent to probe a name, is not carried out later.
      if (verb !== 'REST') this.rest = 0;
      if (verb !== 'RNFR') this.renameFrom = null;
    }
  }

  featLines(): string[] {
    const out = new Set<string>(['UTF8', 'TVFS']);
    for (const spec of Object.values(this.commands)) {
      const f = typeof spec.feat === 'function' ? spec.feat(this) : spec.feat;
      if (f) out.add(f);
    }
    return [...out].sort();
  }
}

/** One command line: CR stripped, Telnet IAC sequences (sent with ABOR) removed, UTF-8. */
function decodeLine(raw: Buffer): string {
  let bytes = raw;
  if (bytes.includes(0xff)) {
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i += 1) {
      const b = bytes[i]!;
      if (b === 0xff && i + 1 < bytes.length) {
        const n = bytes[i + 1]!;
        if (n === 0xff) out.push(0xff);
        i += n >= 0xfb && n <= 0xfe ? 2 : 1; // WILL/WONT/DO/DONT carry an option byte
        continue;
      }
      out.push(b);
    }
    bytes = Buffer.from(out);
  }
  let s = bytes.toString('utf8');
  if (s.endsWith('\r')) s = s.slice(0, -1);
  return s.replace(/^[\s\u0000]+/, '');
}
