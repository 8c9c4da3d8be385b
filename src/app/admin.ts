import path from 'node:path';
import pino from 'pino';
import { createCore, type CoreParts } from '../core/index.js';
import { loadConfig } from './config.js';

/** Opens the core of a data folder for admin commands (the gateway may be running: WAL allows it). */
export async function openAdminCore(configFile?: string): Promise<CoreParts> {
  const config = loadConfig({ file: configFile });
  const dataDir = path.resolve(config.data.dir);
  return createCore({
    dataDir,
    dbFile: path.join(dataDir, 'syncgate.db'),
    log: pino({ level: 'warn' }),
    kdf: { memoryKiB: config.security.kdfMemoryKiB, iterations: config.security.kdfIterations },
    guard: { freeAttempts: 3, banAfter: 10, windowMs: 900_000, banMs: 900_000, maxDelayMs: 0 },
    ignoredNames: config.storage.ignoredNames,
    beside: true,
  });
}
