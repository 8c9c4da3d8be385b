/**
 * `syncgate client discover`: gateways on the LAN, found over mDNS (DNS-SD `_syncgate._tcp`, which
 * the gateway advertises, see src/app/mdns.ts). bonjour-service browses; the client needs no
 * responder of its own.
 */
import { Bonjour, type Service } from 'bonjour-service';

export interface FoundGateway {
  /** The instance name, e.g. "syncgate on nas". */
  name: string;
  /** What `client login` takes. */
  url: string;
  /** The gateway's version, from its TXT record. */
  version: string;
}

type Out = (line: string) => void;

const SERVICE_TYPE = 'syncgate';
export const DEFAULT_TIMEOUT_MS = 3000;

/**
 * The URL a client should use: the one the gateway published (its public URL, or the address it
 * listens on), else the address its answer came from (a gateway on 0.0.0.0 cannot know which of
 * its addresses a client reaches), else its first IPv4 address.
 */
export function gatewayUrl(s: Pick<Service, 'port' | 'addresses' | 'txt' | 'referer'>): string | null {
  const txt = (s.txt ?? {}) as Record<string, string>;
  if (txt.url && /^https?:\/\//.test(txt.url)) return txt.url;
  const from = s.referer?.address;
  const address = from && (s.addresses ?? []).includes(from) ? from : (s.addresses ?? []).find((a) => !a.includes(':')) ?? from;
  if (!address) return null;
  const scheme = txt.scheme === 'https' ? 'https' : 'http';
  const host = address.includes(':') ? `[${address}]` : address;
  const base = (txt.path ?? '/').replace(/\/+$/, '');
  return `${scheme}://${host}:${s.port}${base}`;
}

/**
 * Browses for `timeoutMs`, or until `enough` says a found gateway is the one wanted; each gateway
 * once (by name), in the order they answered. The multicast socket is closed before it resolves.
 */
export function discoverGateways(opts: { timeoutMs: number; onFound?: (g: FoundGateway) => void; enough?: (g: FoundGateway) => boolean }): Promise<FoundGateway[]> {
  return new Promise((resolve) => {
    const found = new Map<string, FoundGateway>();
    const bonjour = new Bonjour({}, () => {});
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      browser.stop();
      bonjour.destroy(() => resolve([...found.values()]));
    };
    const browser = bonjour.find({ type: SERVICE_TYPE }, (s: Service) => {
      const url = gatewayUrl(s);
      if (done || !url || found.has(s.name)) return;
      const g: FoundGateway = { name: s.name, url, version: String((s.txt as Record<string, string> | undefined)?.version ?? '?') };
      found.set(s.name, g);
      opts.onFound?.(g);
      if (opts.enough?.(g)) finish();
    });
    timer = setTimeout(finish, opts.timeoutMs);
  });
}

/** A spinner on a terminal's stderr while browsing; nothing when stderr is a pipe (scripts read stdout). */
function spinner(label: string): { stop(): void; interrupt(write: () => void): void } {
  const tty = process.stderr.isTTY;
  if (!tty) return { stop() {}, interrupt: (w) => w() };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const draw = () => process.stderr.write(`\r${frames[i++ % frames.length]} ${label}`);
  draw();
  const t = setInterval(draw, 80);
  const clear = () => process.stderr.write('\r\x1b[2K');
  return {
    stop() {
      clearInterval(t);
      clear();
    },
    interrupt(write) {
      clear();
      write();
      draw();
    },
  };
}

/** `syncgate client discover [--timeout SECONDS]`: exit 0 when it found one or more, 1 when none. */
export async function runDiscover(timeoutSec: string | undefined, out: Out): Promise<number> {
  const timeoutMs = timeoutSec === undefined ? DEFAULT_TIMEOUT_MS : Number(timeoutSec) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 600_000) throw new Error('--timeout takes a number of seconds (up to 600)');
  const spin = spinner(`looking for syncgate gateways on the network (${timeoutMs / 1000} s)`);
  const found = await discoverGateways({ timeoutMs, onFound: (g) => spin.interrupt(() => out(`${g.name}\t${g.url}\t(syncgate ${g.version})`)) });
  spin.stop();
  if (found.length === 0) {
    out(`found no gateway in ${timeoutMs / 1000} s (a gateway listening on 127.0.0.1 is seen only on its own host; one with mdns.enabled false is not advertised)`);
    return 1;
  }
  out(`found ${found.length} gateway${found.length === 1 ? '' : 's'}; log in with: syncgate client login "${found[0]!.name}"`);
  return 0;
}

/** What `client login` was given: a URL as it is, else a gateway's advertised name, looked up now. */
export async function resolveGateway(nameOrUrl: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  if (/^https?:\/\/[^/]+/.test(nameOrUrl)) return nameOrUrl;
  const want = nameOrUrl.toLowerCase();
  const found = await discoverGateways({ timeoutMs, enough: (g) => g.name.toLowerCase() === want });
  const hit = found.find((g) => g.name.toLowerCase() === want);
  if (hit) return hit.url;
  const seen = found.map((g) => `"${g.name}"`).join(', ');
  throw new Error(`no gateway named "${nameOrUrl}" answered on the network within ${timeoutMs / 1000} s${seen ? ` (found: ${seen})` : ''}; give its URL instead, e.g. http://192.168.1.10:8080`);
}
