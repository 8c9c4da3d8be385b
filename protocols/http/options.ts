import { z } from 'zod';

/** The main HTTP port: REST API, WebDAV (/dav/), share pages (/s/), web UI, health, metrics. */
export const httpOptions = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Public base URL used in share links (defaults to http(s)://host:port). */
  publicUrl: z.string().default(''),
  /** Trust X-Forwarded-For from a reverse proxy for client addresses. */
  trustProxy: z.boolean().default(false),
  /** PEM files; when both are set the port speaks HTTPS. */
  tlsCert: z.string().default(''),
  tlsKey: z.string().default(''),
  /** Largest JSON or form body accepted (bytes). */
  maxJsonBytes: z.number().int().positive().default(1_048_576),
  /** Largest file written through any door (WebDAV, FTP, REST, tus: its Tus-Max-Size, share drops, sync), in bytes; 0 = unlimited. */
  maxUploadBytes: z.number().int().min(0).default(100 * 1024 ** 3),
  /** Unfinished tus uploads one user may hold at once (each reserves its declared length). */
  maxOpenUploadsPerUser: z.number().int().min(1).default(20),
  /**
   * What one client may hold of the port, on every route (REST, WebDAV, shares, sync): time to send
   * a request's headers; how long a kept-alive connection may sit idle; the slowest body accepted
   * (bytes/s over a window; slower gets 408 and the connection closed; 0 = no minimum); open
   * connections per address (more are closed at once; 0 = no cap; behind a reverse proxy every
   * client has the proxy's address: raise it or set 0 there).
   */
  headersTimeoutSec: z.number().positive().default(30),
  idleTimeoutSec: z.number().positive().default(15),
  bodyMinBytesPerSec: z.number().int().min(0).default(500),
  bodyRateWindowSec: z.number().positive().default(20),
  maxConnectionsPerAddress: z.number().int().min(0).default(128),
  sessionTtlHours: z.number().positive().default(720),
  /**
   * /metrics answers to an administrator's credentials, or to `Authorization: Bearer <metricsToken>`
   * when this is set (a scraper's secret that opens nothing else).
   */
  metricsToken: z.string().default(''),
  /**
   * A port for a separate metrics listener (on metricsHost; 0 = any free port): /metrics is then
   * served there only, to anyone who reaches it (or with the token, when set), and the main port
   * has none. null: no such listener.
   */
  metricsPort: z.number().int().min(0).max(65535).nullable().default(null),
  metricsHost: z.string().default('127.0.0.1'),
  /** A login session (the web page's cookie, or a bearer) unused this long ends before its TTL. */
  sessionIdleHours: z.number().positive().default(12),
});
export type HttpOptions = z.infer<typeof httpOptions>;
