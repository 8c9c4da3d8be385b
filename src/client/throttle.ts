/** A bandwidth limit shared by every transfer of a client (bytes per second; 0 = none). */
export class Throttle {
  private allowance: number;
  private last = Date.now();

  constructor(readonly bytesPerSec: number) {
    this.allowance = bytesPerSec;
  }

  /** Waits until `n` more bytes may pass. */
  async take(n: number): Promise<void> {
    if (this.bytesPerSec <= 0) return;
    for (;;) {
      const now = Date.now();
      this.allowance = Math.min(this.bytesPerSec, this.allowance + ((now - this.last) / 1000) * this.bytesPerSec);
      this.last = now;
      if (this.allowance >= n || this.allowance >= this.bytesPerSec) {
        this.allowance -= n;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((n - this.allowance) / this.bytesPerSec) * 1000)));
    }
  }
}

/** `source` passed on with each piece counted, under the throttle when there is one. */
export async function* counted(source: AsyncIterable<Uint8Array>, onBytes: (n: number) => void, throttle?: Throttle): AsyncGenerator<Uint8Array> {
  for await (const c of source) {
    if (throttle) {
      // In pieces, so a big chunk does not pass as one burst.
      for (let off = 0; off < c.length; off += 65536) {
        const piece = c.subarray(off, Math.min(c.length, off + 65536));
        await throttle.take(piece.length);
        onBytes(piece.length);
        yield piece;
      }
      continue;
    }
    onBytes(c.length);
    yield c;
  }
}
