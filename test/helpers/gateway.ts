import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { configSchema, merge, type AppConfig } from '../../src/app/config.js';
import { startGateway, type Gateway } from '../../src/app/gateway.js';
import type { Session } from '../../src/core/index.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export interface TestGateway {
  gw: Gateway;
  dir: string;
  /** Base URL of the HTTP port, e.g. http://127.0.0.1:41234 */
  url: string;
  ftpPort: number | null;
  /** 'alice' (not admin) owns root 'docs'; 'admin' owns 'default'. */
  alice: { name: string; password: string; session: Session };
  admin: { name: string; password: string };
  close(): Promise<void>;
}

/**
 * A real gateway for a test: temporary data folder, HTTP and FTP on port 0 (127.0.0.1),
 * cheap password hashing, watcher and mDNS off unless asked for. Stop it with close().
 */
export async function startTestGateway(overrides: DeepPartial<AppConfig> = {}, opts: { now?: () => number; log?: Logger } = {}): Promise<TestGateway> {
  // A data folder the test chose (on a small disk, say) is used as it is, and removed at close too.
  const dir = overrides.data?.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'syncgate-gw-')));
  const pasv = 40000 + Math.floor(Math.random() * 200) * 100;
  const base = {
    data: { dir },
    admin: { password: 'admin-password' },
    security: { kdfMemoryKiB: 64, kdfIterations: 1, maxDelayMs: 0 },
    watcher: { enabled: false },
    // Tests stay off the host's network: mDNS is tested in a network namespace (test/integration/mdns.test.ts).
    mdns: { enabled: false },
    log: { level: 'silent' },
    http: { host: '127.0.0.1', port: 0 },
    ftp: { host: '127.0.0.1', port: 0, passivePortMin: pasv, passivePortMax: pasv + 99 },
  };
  const config: AppConfig = configSchema.parse(merge(base, overrides as Record<string, unknown>));
  const gw = await startGateway(config, { log: opts.log ?? pino({ level: process.env.SYNCGATE_TEST_LOG ?? 'silent' }), now: opts.now });
  const alice = await gw.core.accounts.createUser('alice', 'alice-password');
  await gw.core.roots.create('docs', path.join(dir, 'roots', 'docs'), alice.id, undefined, { operator: true });
  return {
    gw,
    dir,
    url: gw.url,
    ftpPort: gw.ftp?.address.port ?? null,
    alice: {
      name: 'alice',
      password: 'alice-password',
      session: { user: { id: alice.id, name: 'alice', isAdmin: false }, device: null, protocol: 'core', requestId: 'test' },
    },
    admin: { name: 'admin', password: 'admin-password' },
    async close() {
      await gw.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An Authorization header value with HTTP Basic credentials. */
export function basicAuth(user: { name: string; password: string }): string {
  return `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}`;
}
