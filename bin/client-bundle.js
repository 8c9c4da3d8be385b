// Which code runs `syncgate client ...`: the prebuilt bundle (scripts/build-client.mjs, made at
// install) when every source file it was made from is unchanged, else the TypeScript sources
// through tsx. The check costs a stat per source file (about 35), far less than tsx's start-up.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = join(root, 'dist/syncgate-client.mjs');
const MARK = '// syncgate-client-inputs ';

/** The bundle's URL when it is current, else undefined (missing, unreadable, or a source changed). */
export function freshClientBundle() {
  if (process.env.SYNCGATE_CLIENT_SOURCES === '1') return undefined;
  let fd;
  try {
    fd = openSync(BUNDLE, 'r');
    // The first line lists the inputs; read until its end.
    let head = '';
    const buf = Buffer.alloc(16 * 1024);
    for (let pos = 0; !head.includes('\n'); ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return undefined;
      head += buf.toString('latin1', 0, n);
      pos += n;
    }
    const line = head.slice(0, head.indexOf('\n'));
    if (!line.startsWith(MARK)) return undefined;
    for (const { path, size, mtimeMs } of JSON.parse(line.slice(MARK.length))) {
      const st = statSync(join(root, path), { throwIfNoEntry: false });
      if (!st || st.size !== size || st.mtimeMs !== mtimeMs) return undefined;
    }
    return pathToFileURL(BUNDLE).href;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Runs the client with these arguments and returns its exit status. */
export async function runClientCommand(args) {
  const bundle = freshClientBundle();
  if (bundle) {
    const { runClient } = await import(bundle);
    return runClient(args);
  }
  const { register } = await import('tsx/esm/api');
  register();
  const { runClient } = await import('../src/client/main.ts');
  return runClient(args);
}
