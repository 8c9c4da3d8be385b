import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Core } from '../../src/core/index.js';
import type { FtpOptions } from './options.js';

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

/** Placeholder until the FTP door lands. */
export async function startFtpDoor(deps: FtpDoorDeps): Promise<FtpDoor | null> {
  deps.log.warn('FTP door not implemented yet');
  return null;
}
