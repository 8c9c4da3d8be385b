/**
 * The user and secret of an `Authorization: Basic` header (RFC 7617, UTF-8), or null when the
 * header is absent, another scheme, or malformed (no colon, no user): every HTTP door's one reading.
 */
export function parseBasicAuth(header: string | undefined): { user: string; secret: string } | null {
  const creds = basicCredentials(header);
  return creds && creds.user !== '' ? creds : null;
}

/**
 * The password of an `Authorization: Basic` header whatever its user name, empty included
 * (`curl -u :PASSWORD`): how a script gives a share link's password. Null when absent or malformed.
 */
export function basicAuthPassword(header: string | undefined): string | null {
  return basicCredentials(header)?.secret ?? null;
}

/** A Basic header's user and secret as sent, the user possibly empty; null without a colon. */
function basicCredentials(header: string | undefined): { user: string; secret: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? null : { user: decoded.slice(0, i), secret: decoded.slice(i + 1) };
}
