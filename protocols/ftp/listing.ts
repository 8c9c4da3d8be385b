import type { FtpEntry } from './filesystem.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS = 182 * 24 * 3600 * 1000;

const pad2 = (n: number) => String(n).padStart(2, '0');

/** YYYYMMDDHHMMSS in UTC (MDTM, MLSD modify fact). */
export function ftpTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;
}

/** Parses MFMT's YYYYMMDDHHMMSS[.sss] (UTC); null when malformed. */
export function parseFtpTime(s: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return null;
  // Date.UTC reads years 0-99 as 1900-1999 and rolls a day the month lacks (Feb 31) into the next:
  // the year is set on its own, and a date that changed on the way names no such day.
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, se, m[7] ? Number(m[7].padEnd(3, '0')) : 0));
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  const ms = date.getTime();
  return Number.isFinite(ms) ? ms : null;
}

/**
 * `ls -l` lines, the format every FTP client parses. `dateColumns` carries the date columns made so
 * far from one page of a listing to the next.
 */
export function lsLines(entries: FtpEntry[], now = Date.now(), dateColumns = new Map<number, string>()): string[] {
  // Date columns by minute: a 10,000-entry folder has few distinct minutes.
  const dateColumn = (mtimeMs: number): string => {
    const minute = Math.floor(mtimeMs / 60_000);
    const recent = Math.abs(now - mtimeMs) < SIX_MONTHS;
    const key = recent ? minute : -minute - 1;
    let col = dateColumns.get(key);
    if (col === undefined) {
      const d = new Date(mtimeMs);
      const when = recent ? `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}` : ` ${d.getUTCFullYear()}`;
      col = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${when}`;
      dateColumns.set(key, col);
    }
    return col;
  };
  return entries.map((e) => {
    const perms = e.kind === 'dir' ? (e.writable ? 'drwxr-xr-x' : 'dr-xr-xr-x') : e.writable ? '-rw-r--r--' : '-r--r--r--';
    const size = String(e.kind === 'dir' ? 4096 : e.size).padStart(12);
    return `${perms} 1 ftp ftp ${size} ${dateColumn(e.mtimeMs)} ${e.name}`;
  });
}

/**
 * RFC 3659 facts (MLSD lines, MLST's second line), without the name. `times` carries the modify
 * facts made so far within one listing (by second: a large folder has few distinct ones).
 */
export function mlsxFacts(e: FtpEntry, type?: 'cdir', times?: Map<number, string>): string {
  const kind = type ?? (e.kind === 'dir' ? 'dir' : 'file');
  const perm = e.kind === 'dir' ? (e.writable ? 'elcmpf' : 'el') : e.writable ? 'radfwc' : 'r';
  const size = e.kind === 'file' ? `size=${e.size};` : '';
  const second = Math.floor(e.mtimeMs / 1000);
  let modify = times?.get(second);
  if (modify === undefined) {
    modify = ftpTime(e.mtimeMs);
    times?.set(second, modify);
  }
  return `type=${kind};${size}modify=${modify};perm=${perm};`;
}

/** Joins listing lines for one write on the data connection. */
export function listingText(lines: string[]): string {
  return lines.length ? `${lines.join('\r\n')}\r\n` : '';
}
