import { chmod, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createCore, type CoreParts } from '../core/index.js';
import { Checkpointer } from '../db/checkpointer.js';
import { startWatcher, type RootWatcher } from '../core/watcher.js';
import { createHttpDoor } from '../../protocols/http/index.js';
import type { Door } from '../../protocols/common/door.js';
import { createWebdavDoor } from '../../protocols/webdav/index.js';
import { startFtpDoor, type FtpDoor } from '../../protocols/ftp/index.js';
import { createSyncDoor } from '../../protocols/sync/index.js';
import { SignatureCache } from '../delta/index.js';
import { enforceHttpLimits, serverOptions, type HttpLimits } from '../lib/http-limits.js';
import { bootstrap } from './bootstrap.js';
import { markRunning, markStopped } from './run-marker.js';
import { startMetricsListener } from './metrics-listener.js';
import { advertise } from './mdns.js';
import type { AppConfig } from './config.js';

/** After an unclean stop, small files recorded this long before the last write are read again. */
const UNCLEAN_WINDOW_MS = 60_000;

/**
 * The path of a request target: origin form as sent, absolute form (`MKCOL http://host/dav/x`,
 * which HTTP/1.1 servers must accept) reduced to its path, so it reaches the same door.
 */
function requestPath(target = '/'): string {
  if (target.startsWith('/')) return target;
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}

export interface Gateway {
  config: AppConfig;
  core: CoreParts;
  log: Logger;
  dataDir: string;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  httpAddress: { host: string; port: number };
  ftp: FtpDoor | null;
  /** The separate metrics listener's URL (http.metricsPort), or null: then /metrics is on the main port. */
  metricsUrl: string | null;
  generatedAdminPassword?: string;
  close(): Promise<void>;
}

/**
 * The composition root: builds the core over the data folder, then every door, on one HTTP port
 * (REST, /dav/, /s/, UI) and the FTP port. Nothing else knows all the pieces.
 */
export async function startGateway(config: AppConfig, opts: { log?: Logger; now?: () => number; sleep?: (ms: number) => Promise<void> } = {}): Promise<Gateway> {
  const log = opts.log ?? pino({ level: config.log.level, base: undefined });
  const dataDir = path.resolve(config.data.dir);
  // The data folder holds the database (password hashes), history and uploads: its owner's only.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const ignoredNames = [...config.storage.ignoredNames, ...(config.webdav.appleDouble === 'ignore' ? ['.DS_Store', '._*'] : [])];
  const core = await createCore({
    dataDir,
    dbFile: path.join(dataDir, 'syncgate.db'),
    log,
    kdf: { memoryKiB: config.security.kdfMemoryKiB, iterations: config.security.kdfIterations },
    guard: {
      freeAttempts: config.security.freeAttempts,
      banAfter: config.security.banAfter,
      windowMs: config.security.windowSec * 1000,
      banMs: config.security.banSec * 1000,
      maxDelayMs: config.security.maxDelayMs,
    },
    ignoredNames,
    shares: config.shares,
    uploads: { maxOpenPerUser: config.http.maxOpenUploadsPerUser },
    maxFileBytes: config.http.maxUploadBytes,
    allowedRootParents: config.roots.allowedParents.map((p) => path.resolve(p)),
    now: opts.now,
    sleep: opts.sleep,
    sessionIdleMs: config.http.sessionIdleHours * 3600_000,
  });
  const unclean = await markRunning(dataDir).catch(async (err: unknown) => {
    await core.close();
    throw err;
  });
  const closers: (() => Promise<void> | void)[] = [
    async () => {
      await core.close();
      await markStopped(dataDir);
    },
  ];
  const checkpointer = new Checkpointer(core.ctx.db, log.child({ category: 'db' }));
  closers.push(() => checkpointer.close());
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const first = await bootstrap(core, config, dataDir);
    await core.start({ unclean, uncleanWindowMs: UNCLEAN_WINDOW_MS });
    let watcher: RootWatcher | null = null;
    if (config.watcher.enabled) {
      watcher = await startWatcher(core, { maxWatchedFiles: config.watcher.maxWatchedFiles });
      closers.push(() => watcher!.close());
    }

    const metrics = new Registry();
    // prom-client samples event-loop delay with a 10 ms timer by default: 100 wake-ups a second on an
    // idle gateway. Lag is still measured at 100 ms (how late each tick fires), at a tenth of the wake-ups.
    collectDefaultMetrics({ register: metrics, eventLoopMonitoringPrecision: 100 });
    const tls = config.http.tlsCert ? { cert: readFileSync(config.http.tlsCert), key: readFileSync(config.http.tlsKey) } : null;
    const scheme = tls ? 'https' : 'http';
    const publicUrlFor = (port: number) => config.http.publicUrl || `${scheme}://${config.http.host}:${port}`;
    // Doors are built once the port is known (port 0 in tests), so share links carry the real URL.
    let doors: Door[] | null = null;
    const onRequest: http.RequestListener = (req, res) => {
      const url = requestPath(req.url);
      const door = doors?.find((d) => d.owns(url));
      if (door) door.handle(req, res);
      else res.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
    };
    const h = config.http;
    const limits: HttpLimits = {
      headersTimeoutMs: h.headersTimeoutSec * 1000,
      idleTimeoutMs: h.idleTimeoutSec * 1000,
      bodyMinBytesPerSec: h.bodyMinBytesPerSec,
      bodyRateWindowMs: h.bodyRateWindowSec * 1000,
      maxConnectionsPerAddress: h.maxConnectionsPerAddress,
    };
    const server = tls ? https.createServer({ ...serverOptions(limits), ...tls }, onRequest) : http.createServer(serverOptions(limits), onRequest);
    const httpLog = log.child({ category: 'http' });
    enforceHttpLimits(server, limits, (what, address) => httpLog.warn({ address, what }, what === 'connection' ? 'connection refused: too many from this address' : 'request cut: its body was too slow'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.http.port, config.http.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    // This is no proxy: CONNECT (which node:http hands to 'connect' listeners only, else it drops
    // the connection without a word) is refused in HTTP's own terms.
    server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    // The doors on this port, in the order they claim requests: the HTTP door (REST, share pages,
    // the web page) last, taking what no other door claims.
    const list: Door[] = [];
    if (config.webdav.enabled) {
      const dav = createWebdavDoor({ core, options: config.webdav, log: log.child({ category: 'webdav' }), metrics, prefix: '/dav', publicUrl: config.http.publicUrl || undefined, trustProxy: config.http.trustProxy });
      list.push({ name: 'webdav', owns: (u) => u === '/dav' || u.startsWith('/dav/'), handle: dav.handle, close: dav.close });
    }
    if (config.sync.enabled) {
      const sync = createSyncDoor({ core, options: config.sync, log: log.child({ category: 'sync' }), signatures: new SignatureCache(path.join(dataDir, 'cache', 'signatures')), trustProxy: config.http.trustProxy });
      list.push({ name: 'sync', owns: sync.owns, handle: sync.handle, upgrade: sync.upgrade, close: sync.close });
    }
    const httpDoor = createHttpDoor({ core, options: config.http, log: log.child({ category: 'http' }), metrics, publicUrl: publicUrlFor(port) });
    list.push({ name: 'http', owns: () => true, handle: httpDoor.handle, close: httpDoor.close });
    server.on('upgrade', (req, socket, head) => {
      if (!list.some((d) => d.upgrade?.(req, socket, head))) socket.destroy();
    });
    doors = list;
    closers.push(async () => {
      for (const d of list) await d.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    if (config.mdns.enabled) {
      // Closed before the HTTP port (closers run in reverse), so the goodbye precedes the refusal.
      const ad = advertise({ name: config.mdns.name, host: config.http.host, port, scheme, publicUrl: config.http.publicUrl, log: log.child({ category: 'mdns' }) });
      closers.push(() => ad.close());
    }
    const ftp = config.ftp.enabled ? await startFtpDoor({ core, options: config.ftp, log: log.child({ category: 'ftp' }), metrics, dataDir }) : null;
    if (ftp) closers.push(() => ftp.close());
    const metricsListener =
      config.http.metricsPort === null ? null : await startMetricsListener(metrics, { host: config.http.metricsHost, port: config.http.metricsPort, token: config.http.metricsToken });
    if (metricsListener) closers.push(() => metricsListener.close());
    const url = `${scheme}://${config.http.host}:${port}`;
    log.info({ url, dav: `${url}/dav/`, ftp: ftp?.address, dataDir, db: path.join(dataDir, 'syncgate.db') }, 'syncgate started');
    return {
      config,
      core,
      log,
      dataDir,
      url,
      httpAddress: { host: config.http.host, port },
      ftp,
      metricsUrl: metricsListener?.url ?? null,
      generatedAdminPassword: first.generatedAdminPassword,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
