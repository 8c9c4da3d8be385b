/**
 * Selective sync, as Dropbox and Nextcloud do it: a link syncs the whole root, or `only` some
 * sub-folders (the folders above them exist, holding just the selected ones), minus `exclude`d
 * sub-folders. An unselected folder neither downloads nor uploads; deselecting one removes the
 * local copy of what the gateway already has (files with edits not yet sent stay) and never deletes
 * anything on the gateway; selecting one again fetches it whole.
 */
import type { Kind } from '../sync-wire/index.js';
import type { SelectionRule } from './state.js';

const within = (p: string, top: string) => p === top || p.startsWith(`${top}/`);

export class Selection {
  private readonly only: string[];
  private readonly exclude: string[];

  constructor(readonly rules: SelectionRule[] = []) {
    this.only = rules.filter((r) => r.rule === 'only').map((r) => r.path);
    this.exclude = rules.filter((r) => r.rule === 'exclude').map((r) => r.path);
  }

  get everything(): boolean {
    return this.rules.length === 0;
  }

  includes(p: string, kind: Kind): boolean {
    if (this.exclude.some((x) => within(p, x))) return false;
    if (this.only.length === 0) return true;
    if (this.only.some((o) => within(p, o))) return true;
    return kind === 'dir' && this.only.some((o) => o.startsWith(`${p}/`)); // a folder on the way to a selected one
  }

  /** The same rules as a key, to notice a change made by another `syncgate client` process. */
  get key(): string {
    return this.rules.map((r) => `${r.rule}:${r.path}`).join('\n');
  }
}

/** A sub-folder path as the user typed it, made relative to the root ('a/b', no dots, no leading slash). */
export function cleanSubPath(p: string): string {
  const parts = p.replace(/\\/g, '/').split('/').filter((x) => x !== '' && x !== '.');
  if (parts.length === 0 || parts.some((x) => x === '..')) throw new Error(`"${p}" is not a sub-folder of the linked folder (e.g. photos/2024)`);
  return parts.join('/');
}

/** Which folders a change of rules brings into the selection (to fetch whole: the feed after our cursor does not hold them). */
export function newlySelected(before: Selection, after: Selection, candidates: string[]): string[] {
  return candidates.filter((p) => after.includes(p, 'dir') && !before.includes(p, 'dir'));
}
