import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import ciao, { type CiaoService, type Responder } from '@homebridge/ciao';
import type { Logger } from 'pino';

/** The DNS-SD service type the companion client browses for (`syncgate client discover`). */
export const SERVICE_TYPE = 'syncgate';

export interface Advertisement {
  /** Sends goodbye packets and closes the multicast socket; resolves once both are done. */
  close(): Promise<void>;
}

const version: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);
const isWildcard = (host: string) => host === '' || host === '0.0.0.0' || host === '::';

/**
 * Which interfaces the advertisement goes out on follows where the HTTP port listens, so it never
 * announces a gateway that those who hear it cannot reach:
 * - 0.0.0.0 / :: (every interface): every interface, loopback included: what a LAN user expects.
 * - a loopback address (the default, 127.0.0.1): the loopback interface only. Only this host can
 *   connect, so only this host hears it (a client on the same machine still discovers it).
 * - any other address: only that address (its interface, and only it in the A record).
 */
export function advertisedAddresses(host: string): string[] | undefined {
  if (isWildcard(host)) return undefined;
  if (host === 'localhost') return ['127.0.0.1'];
  return isIP(host) ? [host] : undefined;
}

/**
 * The TXT record: enough for a client to build the URL and know what it talks to, nothing secret.
 * `url` only when it is one a client can use: the configured public URL, or the listening address
 * when it is a real one (for 0.0.0.0 the client takes the address it heard the answer from).
 */
export function txtRecord(opts: { host: string; port: number; scheme: 'http' | 'https'; publicUrl: string }): Record<string, string> {
  const txt: Record<string, string> = { txtvers: '1', version, scheme: opts.scheme, path: '/' };
  if (opts.publicUrl) {
    const u = new URL(opts.publicUrl);
    txt.path = u.pathname;
    txt.url = opts.publicUrl.replace(/\/+$/, '');
  } else if (!isWildcard(opts.host)) {
    const h = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    txt.url = `${opts.scheme}://${h}:${opts.port}`;
  }
  return txt;
}

/** Starts advertising `_syncgate._tcp` on the HTTP port; probing and announcing go on in the background. */
export function advertise(opts: { name: string; host: string; port: number; scheme: 'http' | 'https'; publicUrl: string; log: Logger }): Advertisement {
  const addresses = advertisedAddresses(opts.host);
  // A loopback-only gateway binds its responder to loopback too, so nothing is sent on the LAN.
  const responder: Responder = ciao.getResponder(addresses && isLoopback(opts.host) ? { interface: addresses } : undefined);
  const name = opts.name || `syncgate on ${os.hostname()}`;
  const service: CiaoService = responder.createService({
    name,
    type: SERVICE_TYPE,
    port: opts.port,
    txt: txtRecord(opts),
    restrictedAddresses: addresses,
  });
  // ciao renames on a conflict ("name (2)"): the log says which name the LAN sees.
  service.on('name-change', (n: string) => opts.log.info({ name: n }, 'mDNS name taken on the network: advertised under a new name'));
  let closing: Promise<void> | null = null;
  const advertised = service.advertise().then(
    () => closing || opts.log.info({ name: service.getFQDN(), port: opts.port, addresses: addresses ?? 'all' }, 'advertised over mDNS'),
    (err: unknown) => opts.log.warn({ err }, 'mDNS advertisement failed; the gateway runs on without it'),
  );
  return {
    close() {
      closing ??= (async () => {
        // destroy() sends the goodbye (or stops the probe); shutdown() releases this gateway's hold
        // on the responder, shared by options within a process, and closes its sockets with the last.
        await service.destroy().catch((err: unknown) => opts.log.warn({ err }, 'mDNS goodbye failed'));
        await responder.shutdown().catch((err: unknown) => opts.log.warn({ err }, 'mDNS shutdown failed'));
        // Not awaited: a probe cancelled by the shutdown leaves advertise() pending for good.
        void advertised;
      })();
      return closing;
    },
  };
}
