import type { Readable } from 'node:stream';
import { fail, isCoreError } from './errors.js';
import type { Session } from './session.js';
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
 * name can be tried with the same body.
 */
export async function dropUnderFreeName(vfs: Vfs, session: Session, root: string, base: string, name: string, source: Readable, opts: { maxSize?: number; declaredSize?: number }): Promise<WriteResult> {
  const [stem, ext] = splitExt(name);
  for (let i = 0; i < DROP_NAME_TRIES; i += 1) {
    const candidate = i === 0 ? name : `${stem} (${i})${ext}`;
    try {
      return await vfs.write(session, root, base === '' ? candidate : `${base}/${candidate}`, source, { createOnly: true, ...opts });
    } catch (err) {
      if (!isCoreError(err, 'ALREADY_EXISTS') || source.readableDidRead) throw err;
    }
  }
  fail('ALREADY_EXISTS', 'too many files with this name');
}
