import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** Hashes a file on disk (SHA-256, streamed). */
export async function hashFile(file: string, sizeHint?: number): Promise<{ hash: string; size: number }> {
  if (sizeHint !== undefined && sizeHint < 1 << 20) {
    // Small files in one read: a 1 MiB stream buffer per tiny file made scans GC-bound.
    const data = await readFile(file);
    return { hash: createHash('sha256').update(data).digest('hex'), size: data.length };
  }
  const hasher = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hasher.update(chunk);
    size += chunk.length;
  }
  return { hash: hasher.digest('hex'), size };
}
