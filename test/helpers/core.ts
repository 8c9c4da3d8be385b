import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { createCore, type CoreParts, type Session } from '../../src/core/index.js';
import type { GuardOptions } from '../../src/core/guard.js';

export interface TestCore {
  core: CoreParts;
  dir: string;
  admin: Session;
  session(name: string, protocol?: Session['protocol']): Promise<Session>;
  rootDir: string;
  close(): Promise<void>;
}

export const FAST_KDF = { memoryKiB: 64, iterations: 1 };

/** A real core over a fresh temporary folder: SQLite file, blobs, a root 'docs' owned by 'alice'. */
export async function makeCore(opts: { dir?: string; keepDir?: boolean; now?: () => number; sleep?: (ms: number) => Promise<void>; guard?: Partial<GuardOptions>; maxFileBytes?: number } = {}): Promise<TestCore> {
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'syncgate-core-')));
  const core = await createCore({
    dataDir: dir,
    dbFile: path.join(dir, 'syncgate.db'),
    log: pino({ level: 'silent' }),
    kdf: FAST_KDF,
    guard: { freeAttempts: 3, banAfter: 10, windowMs: 60_000, banMs: 60_000, maxDelayMs: 0, ...opts.guard },
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.maxFileBytes ? { maxFileBytes: opts.maxFileBytes } : {}),
  });
  const rootDir = path.join(dir, 'roots', 'docs');
  let alice = core.accounts.users().find((u) => u.name === 'alice');
  if (!alice) {
    alice = await core.accounts.createUser('alice', 'alice-password', true);
    await core.roots.create('docs', rootDir, alice.id);
  }
  const admin: Session = { user: { id: alice.id, name: 'alice', isAdmin: true }, device: null, protocol: 'rest', requestId: 't' };
  return {
    core,
    dir,
    admin,
    rootDir,
    async session(name, protocol = 'rest') {
      const u = core.accounts.users().find((x) => x.name === name) ?? (await core.accounts.createUser(name, `${name}-password`));
      return { user: { id: u.id, name: u.name, isAdmin: u.isAdmin }, device: null, protocol, requestId: 't' };
    },
    async close() {
      core.close();
      if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function body(text: string | Buffer): Readable {
  return Readable.from([Buffer.from(text)]);
}

export async function readAll(stream: AsyncIterable<Buffer | Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
