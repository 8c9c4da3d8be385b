/**
 * The entity tag of a stored version, and its reading back: one format for the core (which puts
 * it in every entry) and the HTTP doors (which read a client's If-Match as the version it edited).
 * Strong, because a version's content never changes; the hash part only tells versions of different
 * files or histories apart at a glance.
 */
export function etagOf(version: number, hash: string): string {
  return `"v${version}-${hash ? hash.slice(0, 12) : 'dir'}"`;
}

/** The version an entity tag of etagOf names, or null for a tag this server did not make. */
export function versionOfEtag(tag: string): number | null {
  const m = /^"v(\d+)-[^"]*"$/.exec(tag.trim());
  return m ? Number(m[1]) : null;
}
