/**
 * Shared setup of the FTP interop tests (curl, lftp and rclone against the FTP door): whether the
 * client is installed, and a real gateway (FTP on port 0, explicit TLS offered) with a scratch folder
 * for the client's local files, started before the describe block's tests and removed after them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { startTestGateway, type TestGateway } from './gateway.js';

/** Runs a client; rejects (with its exit code and stderr) when it fails. */
export const run = promisify(execFile);

/** True when `cmd` runs here (e.g. `hasCommand('curl', '--version')`): the describe block is skipped otherwise. */
export function hasCommand(cmd: string, ...args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The gateway under test as the clients see it; read its fields inside tests and hooks (it starts in beforeAll). */
export interface FtpInteropDoor {
  readonly gw: TestGateway['gw'];
  /** The gateway's data folder (server paths must never show in what a client gets). */
  readonly dir: string;
  readonly ftpPort: number;
  /** 'alice' owns root 'docs', which the clients work in. */
  readonly alice: TestGateway['alice'];
  /** The core's file API, to check what a client did or set up what it will find. */
  readonly vfs: TestGateway['gw']['core']['vfs'];
  /** Scratch folder for the client's local files. */
  readonly tmp: string;
}

/** Registers beforeAll/afterAll in the calling describe block: one gateway and scratch folder (`tmpPrefix`) for all its tests. */
export function useFtpInteropDoor(tmpPrefix: string): FtpInteropDoor {
  let t: TestGateway | undefined;
  let tmp: string | undefined;
  beforeAll(async () => {
    t = await startTestGateway();
    tmp = await mkdtemp(path.join(os.tmpdir(), tmpPrefix));
  });
  afterAll(async () => {
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });
  const started = (): TestGateway & { tmp: string } => {
    if (!t || !tmp) throw new Error('the FTP door starts in beforeAll: use it inside tests and hooks');
    return { ...t, tmp };
  };
  return {
    get gw() {
      return started().gw;
    },
    get dir() {
      return started().dir;
    },
    get ftpPort() {
      return started().ftpPort!;
    },
    get alice() {
      return started().alice;
    },
    get vfs() {
      return started().gw.core.vfs;
    },
    get tmp() {
      return started().tmp;
    },
  };
}
