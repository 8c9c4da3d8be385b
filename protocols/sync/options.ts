import { z } from 'zod';

/** The sync protocol (companion client) on the main HTTP port, under /sync/v1. */
export const syncOptions = z.object({
  enabled: z.boolean().default(true),
  /** WebSocket keep-alive: a ping this often; a client that misses two is dropped. */
  pingIntervalSec: z.number().positive().default(30),
  /** Changes per page (HTTP) and per backlog message (WebSocket). */
  pageSize: z.number().int().min(1).max(10_000).default(1000),
  /** Largest signature a client may send for a download delta (bytes). */
  maxSignatureBytes: z.number().int().positive().default(64 * 1024 * 1024),
});
export type SyncOptions = z.infer<typeof syncOptions>;
