/**
 * How the client tells each kind of conflict (the gateway's record says which, and whose content
 * the path shows now). 'keep-mine' is the version the device named in the conflict sent
 * (incoming), 'keep-theirs' the gateway's (server).
 */
import type { WireConflict } from '../sync-wire/index.js';

type Partial = Pick<WireConflict, 'copyPath'> & Partial2;
type Partial2 = { kind?: WireConflict['kind']; kept?: WireConflict['kept']; policy?: WireConflict['policy'] };

/** What happened to this device's change, in words (a gateway older than `kind`: by the copy). */
export function conflictWhat(c: Partial): string {
  const kind = c.kind ?? (c.copyPath ? 'edit-edit' : undefined);
  if (kind === 'edit-edit') {
    if (c.copyPath) return `edited on two sides: both kept, the other version is ${c.copyPath}`;
    if (c.kept === 'incoming') return 'edited on two sides: the newer edit replaced the older (the older is in history; keep-theirs undoes)';
    return `edited on two sides: the gateway's version kept (policy ${c.policy ?? 'server-wins'}), the other edit is held (keep-mine applies it)`;
  }
  if (kind === 'delete-edit') return 'deleted on one side after an edit it had not seen: not deleted, no copy made (keep-mine deletes it, keep-theirs keeps it)';
  if (kind === 'edit-delete') {
    return c.kept === 'server'
      ? 'edited on one side after it was deleted elsewhere: it stays deleted (server-wins), the edit is held, no copy made (keep-mine restores it)'
      : 'edited on one side after it was deleted elsewhere: the edit brought it back, no copy made (keep-theirs deletes it)';
  }
  return 'a delete and an edit met: the file was kept, no copy made (keep-mine or keep-theirs decides whether it goes)';
}

/** A line of `syncgate client conflicts`. */
export function conflictLine(root: string, c: WireConflict): string {
  return `#${c.id} ${root}/${c.path} (${c.device}, ${new Date(c.createdAt).toISOString()}): ${conflictWhat(c)}`;
}

/** Records a conflict a pass met: the copy (or the path), and what happened. */
export function noteConflict(report: { conflicts: string[]; conflictNotes: string[] }, p: string, c: Partial): void {
  report.conflicts.push(c.copyPath || p);
  report.conflictNotes.push(`${p}: ${conflictWhat(c)}`);
}
