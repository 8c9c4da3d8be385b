/**
 * How `syncgate client conflicts` tells each kind of conflict. 'keep-mine' is the version the
 * device named in the conflict sent (incoming), 'keep-theirs' the gateway's (server).
 */
import type { WireConflict } from '../sync-wire/index.js';

type Kind = 'edit-edit' | 'delete-edit' | 'edit-delete';

export function conflictLine(root: string, c: WireConflict): string {
  const kind = ((c as { kind?: Kind }).kind ?? 'edit-edit') as Kind;
  const when = new Date(c.createdAt).toISOString();
  const head = `#${c.id} ${root}/${c.path}`;
  switch (kind) {
    case 'delete-edit':
      return `${head}: deleted on ${c.device} (${when}) after an edit it had not seen; the file was kept, no copy made (keep-mine deletes it, keep-theirs keeps it)`;
    case 'edit-delete':
      return `${head}: edited on ${c.device} (${when}) after it was deleted elsewhere; the file came back, no copy made (keep-mine keeps it, keep-theirs deletes it)`;
    default:
      return `${head}: edited on two sides; the other version is ${c.copyPath} (from ${c.device}, ${when}) (keep-mine takes it, keep-theirs drops it, keep-both keeps both)`;
  }
}
