/**
 * A share link's token is its only secret (anyone holding it opens the link): logs keep the first
 * four characters, enough to tell the requests of one link from another's, never enough to open
 * it (issue 22 item 9).
 */
const SHARE_PATH = /^((?:[a-z][a-z0-9+.-]*:\/\/[^/]*)?\/s\/)([^/?#]*)/i;

/** `/s/<token>/...` (or an absolute URL of one) with the token cut to `abcd…`; anything else unchanged. */
export function redactSharePath(p: unknown): unknown {
  return typeof p === 'string' ? p.replace(SHARE_PATH, (_, head: string, token: string) => `${head}${token.slice(0, 4)}…`) : p;
}
