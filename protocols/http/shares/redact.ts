/**
 * A share link's token is its only secret (anyone holding it opens the link): logs keep the first
 * four characters, enough to tell the requests of one link from another's, never enough to open
 * it (issue 22 item 9).
 */
const SHARE_PATH = /^\/s\/([^/]*)/;

/** `/s/<token>/...` with the token cut to `abcd…`; any other path unchanged. */
export function redactSharePath(p: string): string {
  return p.replace(SHARE_PATH, (_, token: string) => `/s/${token.slice(0, 4)}…`);
}
