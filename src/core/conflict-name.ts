import { baseName, joinRel, parentOf, splitExtension } from '../lib/paths.js';

/** `report (conflict 2026-11-22 101530 from laptop).pdf`, in UTC, beside the original. */
export function conflictCopyPath(rel: string, device: string, at: Date, attempt = 0): string {
  const [stem, ext] = splitExtension(baseName(rel));
  const iso = at.toISOString();
  const stamp = `${iso.slice(0, 10)} ${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  const who = device.replace(/[/\\\u0000-\u001f]/g, '_').slice(0, 64);
  const suffix = attempt > 0 ? ` ${attempt + 1}` : '';
  return joinRel(parentOf(rel), `${stem} (conflict ${stamp} from ${who}${suffix})${ext}`);
}

export function isConflictCopy(name: string): boolean {
  return / \(conflict \d{4}-\d{2}-\d{2} \d{6} from .*\)(\.[^.]*)?$/.test(name);
}
