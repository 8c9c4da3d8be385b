import { z } from 'zod';

export const ftpOptions = z.object({
  enabled: z.boolean().default(true),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(2121),
  /** Address advertised in PASV replies (for NAT); the control connection's local address when empty. */
  passiveAddress: z.string().default(''),
  passivePortMin: z.number().int().min(1024).max(65535).default(30000),
  passivePortMax: z.number().int().min(1024).max(65535).default(30100),
  /** PORT/EPRT, only ever to the client's own address. */
  activeMode: z.boolean().default(true),
  anonymous: z.boolean().default(false),
  /** 'explicit' offers AUTH TLS; 'off' offers no TLS. */
  tls: z.enum(['off', 'explicit']).default('explicit'),
  /** Refuse USER/PASS before AUTH TLS. */
  requireTls: z.boolean().default(false),
  /** Implicit FTPS port; 0 = off. */
  implicitTlsPort: z.number().int().min(0).max(65535).default(0),
  /** PEM files; empty = a self-signed certificate generated in the data folder. */
  tlsCert: z.string().default(''),
  tlsKey: z.string().default(''),
  idleTimeoutSec: z.number().int().positive().default(900),
  loginTimeoutSec: z.number().int().positive().default(60),
});
export type FtpOptions = z.infer<typeof ftpOptions>;
