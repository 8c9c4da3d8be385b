import type { Readable } from 'node:stream';

/**
 * Reads `source` until it ends or passes `limit` bytes. Small sources end here (rest: null); a
 * larger one comes back as `rest`, the chunks read so far followed by the remainder; `release`
 * lets the source go without reading it.
 */
export async function readHead(source: Readable | AsyncIterable<Uint8Array>, limit: number): Promise<{ chunks: Uint8Array[]; rest: AsyncIterable<Uint8Array> | null; release: () => Promise<void> }> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= limit) {
      const r = await it.next();
      if (r.done) return { chunks, rest: null, release: async () => {} };
      chunks.push(r.value);
      size += r.value.length;
    }
  } catch (err) {
    await it.return?.();
    throw err;
  }
  async function* rest(): AsyncIterable<Uint8Array> {
    try {
      yield* chunks;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      // Stopped early (an error downstream): release the source.
      await it.return?.();
    }
  }
  // For a caller that gives up before reading `rest`: its finally would never run.
  const release = async () => void (await it.return?.());
  return { chunks, rest: rest(), release };
}
