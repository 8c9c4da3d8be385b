/**
 * Whether a URL sent by a client (an `Origin` header, a WebDAV `Destination`) names this gateway:
 * the host the request was addressed to (`Host`), or the host of the configured public URL (behind
 * a reverse proxy `Host` may be the proxy's inner name). Hosts are compared, not schemes: a proxy
 * that ends TLS makes a client's https URL arrive over plain http.
 */

/** host[:port] of an http(s) URL as the URL parser writes it (lower case, default port dropped), or null. */
function hostOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.host === '' || (u.protocol !== 'http:' && u.protocol !== 'https:') ? null : u.host;
  } catch {
    return null;
  }
}

/**
 * True when `url` names this gateway. A value that is no absolute http(s) URL (`Origin: null`, sent
 * by sandboxed documents and other opaque origins, an ftp: URL, garbage) is never ours.
 */
export function isOwnHost(url: string, requestHost: string | undefined, publicUrl?: string): boolean {
  const target = hostOf(url);
  if (target === null) return false;
  const scheme = url.slice(0, url.indexOf(':') + 1);
  // Host is parsed under the URL's own scheme, so `example.org:80` and `http://example.org` agree.
  if (requestHost && hostOf(`${scheme}//${requestHost}`) === target) return true;
  if (publicUrl && hostOf(publicUrl) === target) return true;
  return false;
}

/** True when a request carries an `Origin` that is not this gateway (a cross-site browser request). */
export function isForeignOrigin(origin: string | undefined, requestHost: string | undefined, publicUrl?: string): boolean {
  return origin !== undefined && !isOwnHost(origin, requestHost, publicUrl);
}
