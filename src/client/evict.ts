/**
 * Deselected folders leave this device, not the gateway: what the gateway already has (the local
 * copy still as we last synced it) is removed here and forgotten; a file with an edit not yet sent
 * stays (and keeps its row, so selecting the folder again sends that edit with its base). Nothing
 * is ever deleted on the gateway by a deselection.
 */
import { removeLocal, sameFingerprint, statEntry } from './local.js';
import type { PassReport } from './engine.js';
import type { Selection } from './selection.js';
import type { ClientState, FileState, LinkRow } from './state.js';

export async function evictUnselected(state: ClientState, link: LinkRow, sel: Selection, report: PassReport): Promise<number> {
  const out: FileState[] = [];
  for (const st of state.pagesUnder(link.id, '')) if (!sel.includes(st.path, st.kind)) out.push(st);
  let removed = 0;
  // Files first, then folders deepest first (a folder goes only once empty).
  out.sort((a, b) => (a.kind === b.kind ? b.path.split('/').length - a.path.split('/').length : a.kind === 'file' ? -1 : 1));
  for (const st of out) {
    const now = await statEntry(link.dir, st.path);
    if (st.kind === 'file' && now && (now.kind !== 'file' || !sameFingerprint(now, st))) {
      report.errors.push(`${st.path}: not in the selection any more, kept here because it has an edit not sent (select its folder again to send it)`);
      continue;
    }
    if (now) await removeLocal(link.dir, st.path, st.kind);
    if (st.kind === 'dir' && (await statEntry(link.dir, st.path))) continue; // holds kept files
    state.drop(link.id, st.path);
    removed += 1;
  }
  return removed;
}
