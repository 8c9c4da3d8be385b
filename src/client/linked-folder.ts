/**
 * Whether a linked folder is there to be synced at all. A pass compares the folder with the state
 * of the last sync: a folder that is not there, cannot be read, or is another folder now (an
 * unmounted drive leaves its empty mount point; a folder deleted and made anew) would make every
 * file look deleted, and the pass would delete them all on the gateway and on every other device.
 * Syncthing refuses such a folder the same way (its `.stfolder` marker: "folder marker missing");
 * here the folder is known by its inode, kept in the client's state (nothing is written in the
 * folder). Not by its device number: a network mount gets another one at each mount.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { ClientState, LinkRow } from './state.js';

/** A pass that did not run: nothing was sent, fetched or deleted. */
export class FolderUnavailable extends Error {}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

export async function checkLinkedFolder(state: ClientState, link: LinkRow): Promise<void> {
  const { dir } = link;
  const st = await stat(dir).catch((err: unknown) => {
    if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return null;
    throw new FolderUnavailable(`${dir} cannot be reached (${code(err) ?? (err as Error).message}): nothing was synced and nothing deleted; check the drive or mount`);
  });
  if (!st || !st.isDirectory()) {
    throw new FolderUnavailable(`the linked folder ${dir} is not there (a drive not mounted? moved or deleted?): nothing was synced and nothing deleted on the gateway; put it back, or stop syncing it with \`syncgate client unlink ${dir}\``);
  }
  await access(dir, constants.R_OK | constants.X_OK).catch((err: unknown) => {
    throw new FolderUnavailable(`the linked folder ${dir} cannot be read (${code(err) === 'EACCES' ? 'permission denied' : (code(err) ?? (err as Error).message)}): nothing was synced and nothing deleted; give this user access to it`);
  });
  const known = state.folderInode(link.id);
  if (known === undefined || !state.hasFiles(link.id)) {
    if (known !== st.ino) state.setFolderInode(link.id, st.ino);
    return;
  }
  if (known !== st.ino) {
    throw new FolderUnavailable(`${dir} is not the folder synced before (a drive not mounted, leaving its empty mount point? the folder deleted and made again?): nothing was synced and nothing deleted; mount or put back the folder, or to sync this one as it is: \`syncgate client unlink ${dir}\`, then \`syncgate client link ${dir} ${link.root}\``);
  }
}
