// The delta's command encoding, byte for byte as librsync's emit.c chooses it (rdiff reads what we
// write, and the same delta comes out of both).
import type { ChunkBatcher } from './bytes.js';
import { intLen, OP_COPY_N1_N1, OP_END, OP_LITERAL_N1, putInt } from './format.js';

/** Command byte offset for an integer of 1, 2, 4 or 8 bytes. */
const WIDTH_INDEX: Record<number, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };

/** Encodes delta commands exactly as librsync's emit.c chooses them. */
export class CommandWriter {
  constructor(private readonly out: ChunkBatcher) {}

  literal(data: Uint8Array): void {
    const len = data.length;
    if (len === 0) return;
    const r = this.out.reserve(9);
    if (len <= 64) {
      r.buf[r.off] = len;
      this.out.unreserve(8);
    } else {
      const w = intLen(len);
      r.buf[r.off] = OP_LITERAL_N1 + (WIDTH_INDEX[w] ?? 0);
      putInt(r.buf, r.off + 1, len, w);
      this.out.unreserve(8 - w);
    }
    this.out.push(data);
  }

  copy(where: number, len: number): void {
    const ww = intLen(where);
    const lw = intLen(len);
    const r = this.out.reserve(17);
    r.buf[r.off] = OP_COPY_N1_N1 + 4 * (WIDTH_INDEX[ww] ?? 0) + (WIDTH_INDEX[lw] ?? 0);
    putInt(r.buf, putInt(r.buf, r.off + 1, where, ww), len, lw);
    this.out.unreserve(16 - ww - lw);
  }

  end(): void {
    this.out.push(Uint8Array.of(OP_END));
  }
}
