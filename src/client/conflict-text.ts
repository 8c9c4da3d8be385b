/**
 * How `syncgate client conflicts` tells each kind of conflict. 'keep-mine' is the version the
 * device named in the conflict sent (incoming), 'keep-theirs' the gateway's (server).
 */
import type { WireConflict } from '../sync-wire/index.js';

type Kind = 'edit-edit' | 'delete-edit' | 'edit-delete';

export function conflictLine(root: string, c: WireConflict): string {
  // A gateway that does not send the kind: only an edit-edit conflict has a copy.
  const kind = ((c as { kind?: Kind }).kind ?? (c.copyPath ? 'edit-edit' : 'no-copy')) as Kind | 'no-copy';
  const when = new Date(c.createdAt).toISOString();
  const head = `#${c.id} ${root}/${c.path}`;
  switch (kind) {
    case 'delete-edit':
      return `${head}: deleted on ${c.device} (${when}) after an edit it had not seen; the file was kept, no copy made (keep-mine deletes it, keep-theirs keeps it)`;
    case 'edit-delete':
      return `${head}: edited on ${c.device} (${when}) after it was deleted elsewhere; the file came back, no copy made (keep-mine keeps it, keep-theirs deletes it)`;
    case 'no-copy':
      return `${head}: a delete and an edit met (on ${c.device}, ${when}); the file was kept, no copy made (keep-mine or keep-theirs decides whether it goes)`;
    default:
      return `${head}: edited on two sides; the other version is ${c.copyPath} (from ${c.device}, ${when}) (keep-mine takes it, keep-theirs drops it, keep-both keeps both)`;
  }
}
