/**
 * What a linked folder leaves out: the user's .syncgateignore (gitignore syntax, the `ignore`
 * library) after a short default list of names that are temporary or belong to this machine only.
 * An editor's save (gedit writes .goutputstream-XXXX and renames it over the file, vim keeps
 * .name.swp and renames the file to name~) sent each temporary name up and deleted it moments
 * later: versions, history entries and events on every device for nothing, and the rename over the
 * real file could even go up as a move. Nextcloud's client ships such a list (sync-exclude.lst);
 * Syncthing leaves it to the user (.stignore). This list is shorter than Nextcloud's: only names no
 * one keeps on purpose.
 *
 * Defaults apply only to entries the gateway does not hold yet: a path with a state row here, or a
 * change from the gateway, keeps syncing (a file someone relies on never stops silently). The
 * user's file comes after the defaults and later rules win, so `!PATTERN` there takes one back and
 * `!*` as its first rule takes them all back; the user's own patterns apply to everything.
 */
import ignore, { type Ignore } from 'ignore';
import type { Kind } from '../sync-wire/index.js';

/** Each default pattern with a name it leaves out (status tells which are still on). */
export const DEFAULT_IGNORES: readonly { pattern: string; example: string; why: string }[] = [
  { pattern: '.goutputstream-*', example: '.goutputstream-K2V7T1', why: 'gedit and other GLib programs, while saving' },
  { pattern: '.*.sw?', example: '.notes.txt.swp', why: 'vim swap files (.swp, .swo, .swx)' },
  { pattern: '*~', example: 'notes.txt~', why: 'vim, emacs and gedit backups' },
  { pattern: '\\#*#', example: '#notes.txt#', why: 'emacs auto-save' },
  { pattern: '.#*', example: '.#notes.txt', why: 'emacs lock' },
  { pattern: '*.kate-swp', example: 'notes.txt.kate-swp', why: 'Kate swap files' },
  { pattern: '.~lock.*#', example: '.~lock.report.odt#', why: 'LibreOffice lock' },
  { pattern: '~$*', example: '~$report.docx', why: 'Microsoft Office owner files' },
  { pattern: '~*.tmp', example: '~WRL0001.tmp', why: 'Microsoft Office temporary files' },
  { pattern: '*.part', example: 'film.mkv.part', why: 'partial downloads (Firefox, wget, Transmission)' },
  { pattern: '*.crdownload', example: 'film.mkv.crdownload', why: 'partial downloads (Chrome, Edge)' },
  { pattern: '.DS_Store', example: '.DS_Store', why: 'macOS Finder view settings' },
  { pattern: 'Thumbs.db', example: 'Thumbs.db', why: 'Windows thumbnail cache' },
  { pattern: 'desktop.ini', example: 'desktop.ini', why: 'Windows folder settings' },
  { pattern: '.Trash-*', example: '.Trash-1000', why: 'the trash of a Linux desktop on this drive' },
];

/** Set to `off` (or 0) to turn the defaults off in every linked folder (tests and scripts). */
export const DEFAULTS_ENV = 'SYNCGATE_CLIENT_DEFAULT_IGNORES';

export class IgnoreRules {
  private readonly user: Ignore;
  /** The defaults, then the user's patterns (null: defaults off). */
  private readonly all: Ignore | null;

  constructor(userText = '', defaults = defaultsWanted()) {
    this.user = ignore().add(userText);
    this.all = defaults ? ignore().add(DEFAULT_IGNORES.map((d) => d.pattern)).add(userText) : null;
  }

  /** Whether the user's own patterns leave `rel` out (whatever the gateway holds). */
  byUser(rel: string, kind: Kind): boolean {
    return this.user.ignores(key(rel, kind));
  }

  /** Whether only a default pattern (not taken back by the user) leaves `rel` out. */
  byDefault(rel: string, kind: Kind): boolean {
    return this.all !== null && this.all.ignores(key(rel, kind)) && !this.user.ignores(key(rel, kind));
  }

  /** The default patterns still in force ([] when they are off or all taken back). */
  defaultsOn(): string[] {
    return DEFAULT_IGNORES.filter((d) => this.byDefault(d.example, 'file')).map((d) => d.pattern);
  }
}

function key(rel: string, kind: Kind): string {
  return kind === 'dir' ? `${rel}/` : rel;
}

function defaultsWanted(): boolean {
  const v = (process.env[DEFAULTS_ENV] ?? '').trim().toLowerCase();
  return v !== 'off' && v !== '0' && v !== 'false' && v !== 'no';
}
