import type { Readable } from 'node:stream';
import { fail, isCoreError } from './errors.js';
import { addressKey } from './guard.js';
import type { Session } from './session.js';
import type { DropOptions, OpenedShare } from './share-types.js';
import type { ShareUses } from './share-uses.js';
import type { WriteResult } from './types.js';
import type { Vfs } from './vfs.js';

const DROP_NAME_TRIES = 1000;

function splitExt(name: string): [string, string] {
  const i = name.lastIndexOf('.');
  return i <= 0 ? [name, ''] : [name.slice(0, i), name.slice(i)];
}

/**
 * How a drop is named: never over an existing file; the visitor's name, else ' (1)', ' (2)', ...
 * before the extension. The writer refuses an existing name before it reads the body, so the next
 * name can be tried with the same body. A name another drop into the same folder is still sending
 * is skipped as taken (`inFlight`): otherwise both pass that early check and the later one is
 * refused by the writer's final check, after its whole body was read, and the visitor's upload is lost.
 */
export async function dropUnderFreeName(vfs: Vfs, session: Session, root: string, base: string, name: string, source: Readable, opts: { maxSize?: number; declaredSize?: number }, inFlight: Set<string> = new Set()): Promise<WriteResult> {
  const [stem, ext] = splitExt(name);
  for (let i = 0; i < DROP_NAME_TRIES; i += 1) {
    const candidate = i === 0 ? name : `${stem} (${i})${ext}`;
    const key = candidate.normalize('NFC');
    if (inFlight.has(key)) continue;
    inFlight.add(key);
    try {
      return await vfs.write(session, root, base === '' ? candidate : `${base}/${candidate}`, source, { createOnly: true, ...opts });
    } catch (err) {
      if (!isCoreError(err, 'ALREADY_EXISTS')) throw err;
      // Taken after the body was read: by another door at the same moment (drops skip each
      // other's names). Said without the stored path: a visitor sees neither the owner's folders
      // nor which names exist.
      if (source.readableDidRead) fail('CONFLICT', 'a file with this name arrived at the same moment; send it again', { reason: 'name-taken' });
    } finally {
      inFlight.delete(key);
    }
  }
  fail('ALREADY_EXISTS', 'too many files with this name');
}

export interface DropLimits {
  /** Largest file an anonymous visitor may drop (bytes; 0 = only the caller's cap). */
  maxFileBytes: number;
  /** Drop uploads in progress at once through one link. */
  maxOpenUploads: number;
}

/**
 * The open uploads one client address may hold through one link: half the link's, at least one.
 * Without it a stranger holds every slot with slow bodies (each just over the minimum body rate)
 * and nobody else can drop anything for as long as they keep sending. Keyed like the login guard
 * (addressKey: IPv6 by its /64) on the address the door resolved (behind a trusted proxy, the one
 * the proxy appended). The shape of nginx's limit_conn per $binary_remote_addr beside a total.
 */
export function openUploadsPerAddress(maxOpenUploads: number): number {
  return Math.max(1, Math.floor(maxOpenUploads / 2));
}

/**
 * Anonymous visitors dropping files through upload-only links. The link's rules: a plain file
 * name, never an overwrite (dropUnderFreeName), at most maxFileBytes (refused before the body is
 * read when the size is announced, and nothing is kept when the body runs over), at most the link's
 * uses (ShareUses: the creator's limit or the server's default), at most maxOpenUploads at once;
 * only a stored file uses up the link. The file is written as the link's creator: once quotas
 * exist, a drop counts against that user's quota like any upload.
 */
export class ShareDrops {
  /** Drop uploads in progress, per link id. */
  private readonly open = new Map<number, number>();
  /** Drop uploads in progress, per link id and client address (see openUploadsPerAddress). */
  private readonly openFrom = new Map<string, number>();
  /** Names being written by drops, per folder (root and path): links into one folder share it. */
  private readonly sending = new Map<string, Set<string>>();

  constructor(
    private readonly vfs: Vfs | undefined,
    private readonly uses: ShareUses,
    private readonly limits: DropLimits,
  ) {}

  async drop(opened: OpenedShare, name: string, source: Readable, opts: DropOptions = {}): Promise<WriteResult> {
    const { link, session, root } = opened;
    if (!this.vfs) throw new Error('ShareLinks was built without a Vfs: drops need one');
    if (!link.uploadOnly) fail('PERMISSION_DENIED', 'this link does not accept uploads');
    if (!name || name.includes('/') || name.includes('\\') || name.length > 255) fail('INVALID_PATH', 'an upload needs a plain file name');
    const caps = [this.limits.maxFileBytes, opts.maxSize ?? 0].filter((c) => c > 0);
    const maxSize = caps.length > 0 ? Math.min(...caps) : undefined;
    if (maxSize !== undefined && opts.declaredSize !== undefined && opts.declaredSize > maxSize) {
      fail('QUOTA_EXCEEDED', `this link accepts files of at most ${maxSize} bytes`, { reason: 'too-large' });
    }
    const open = this.open.get(link.id) ?? 0;
    if (open >= this.limits.maxOpenUploads) fail('TOO_MANY_ATTEMPTS', 'too many uploads through this link at once; try again when one has finished', { reason: 'open-uploads', retryAfterSec: 5 });
    const from = `${link.id}\u0000${addressKey(session.address)}`;
    const mine = this.openFrom.get(from) ?? 0;
    const perAddress = openUploadsPerAddress(this.limits.maxOpenUploads);
    if (mine >= perAddress) {
      fail('TOO_MANY_ATTEMPTS', `this address already has ${mine} upload${mine === 1 ? '' : 's'} under way through this link (at most ${perAddress} at once); wait until one has finished, or cancel one, then send this again`, { reason: 'open-uploads-address', retryAfterSec: 5 });
    }
    this.open.set(link.id, open + 1);
    this.openFrom.set(from, mine + 1);
    try {
      const use = this.uses.begin(link.id);
      try {
        const folder = `${root}\u0000${link.path}`;
        const inFlight = this.sending.get(folder) ?? new Set<string>();
        this.sending.set(folder, inFlight);
        let result: WriteResult;
        try {
          result = await dropUnderFreeName(this.vfs, session, root, link.path, name, source, { maxSize, declaredSize: opts.declaredSize }, inFlight);
        } finally {
          if (inFlight.size === 0) this.sending.delete(folder);
        }
        this.uses.log(link.id, { ...opts, action: 'upload', bytes: result.entry.size, path: link.path === '' ? result.entry.path : result.entry.path.slice(link.path.length + 1) });
        return result;
      } catch (err) {
        use.cancel();
        throw err;
      }
    } finally {
      const left = (this.open.get(link.id) ?? 1) - 1;
      if (left > 0) this.open.set(link.id, left);
      else this.open.delete(link.id);
      const mineLeft = (this.openFrom.get(from) ?? 1) - 1;
      if (mineLeft > 0) this.openFrom.set(from, mineLeft);
      else this.openFrom.delete(from);
    }
  }
}
