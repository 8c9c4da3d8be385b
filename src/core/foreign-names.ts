import type { Logger } from 'pino';
import { normalizeRelPath, UnsafePathError } from '../lib/paths.js';

/** At most this many skipped paths are remembered (each is reported once); past it, only counted. */
const REMEMBERED = 10_000;

/**
 * Names made on disk by other programs that no door can represent: a control character (CR/LF would
 * add a line to an FTP listing), a backslash (`..\..\x` broke REST and share zips), an encoded dot
 * or slash, a segment over 255 characters. The core refuses such paths from every door, so no client
 * could read, rename or delete them either: they are not recorded at all (never injected, never
 * quoted into something else), and each is reported once in the log.
 */
export class ForeignNames {
  private readonly reported = new Set<string>();
  /** Paths skipped since the start (each counted once while remembered). */
  skipped = 0;

  constructor(private readonly log: Logger) {}

  /** Why `rel` cannot be recorded, or null when every door can represent it. */
  static problem(rel: string): string | null {
    try {
      return normalizeRelPath(rel) === rel ? null : 'not in normal form';
    } catch (err) {
      if (err instanceof UnsafePathError) return err.message;
      throw err;
    }
  }

  /** True (and reported once) when `rel` in root `root` is a name no door can represent. */
  skip(root: { id: number; name: string }, rel: string): boolean {
    const problem = ForeignNames.problem(rel);
    if (problem === null) return false;
    const key = `${root.id}\u0000${rel}`;
    if (!this.reported.has(key)) {
      if (this.reported.size < REMEMBERED) this.reported.add(key);
      this.skipped += 1;
      // pino escapes the path inside its JSON string: a CR/LF cannot start a log line either.
      this.log.warn({ root: root.name, path: rel, problem }, 'name on disk not recorded: no door can represent it');
    }
    return true;
  }
}
