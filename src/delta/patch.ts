// Applies a delta to a basis (rdiff patch), streamed: literal data passes through as views of the
// delta's chunks, COPY commands read the basis at 64-bit (safe-integer) offsets in bounded pieces.
// Every malformed input ends in a DeltaError; nothing is guessed.
import type { FileHandle } from 'node:fs/promises';
import { ByteReader, ChunkBatcher, type ByteSource } from './bytes.js';
import { DELTA_MAGIC, DeltaError, OP_COPY_N1_N1, OP_COPY_N8_N8, OP_END, OP_LITERAL_N1, ResultCode } from './format.js';

/** Random access to the basis: fills `buf` from `position`, returns the bytes read (0 at its end). */
export type BasisReader = (buf: Uint8Array, position: number) => Promise<number>;

export function fileBasis(fh: FileHandle): BasisReader {
  return async (buf, position) => (await fh.read(buf, 0, buf.length, position)).bytesRead;
}

export function bufferBasis(data: Uint8Array): BasisReader {
  return async (buf, position) => {
    const part = data.subarray(Math.min(position, data.length), Math.min(position + buf.length, data.length));
    buf.set(part);
    return part.length;
  };
}

const COPY_PIECE = 2 * 1024 * 1024;
const WIDTHS = [1, 2, 4, 8] as const;

export function patch(basis: BasisReader, deltaInput: ByteSource): AsyncGenerator<Uint8Array> {
  return patchChunks(basis, deltaInput, false);
}

/**
 * With `reuse`, chunks read from the basis take turns in three buffers: each yielded chunk is valid
 * only until the consumer asks for the one after the next (patchFile writes each before pulling on;
 * the client's FileSink writes one while it hashes the next), which keeps memory flat without
 * waiting for the garbage collector. The next piece of a COPY is read while the consumer works on
 * the current one.
 */
export async function* patchChunks(basis: BasisReader, deltaInput: ByteSource, reuse: boolean): AsyncGenerator<Uint8Array> {
  const r = new ByteReader(deltaInput, 'delta');
  const buffers = reuse ? [Buffer.allocUnsafe(COPY_PIECE), Buffer.allocUnsafe(COPY_PIECE), Buffer.allocUnsafe(COPY_PIECE)] : undefined;
  let turn = 0;
  const readPiece = async (pos: number, size: number, where: number, len: number): Promise<Buffer> => {
    const piece = buffers ? buffers[turn++ % 3]!.subarray(0, size) : Buffer.allocUnsafe(size);
    for (let got = 0; got < size; ) {
      const k = await basis(piece.subarray(got), pos + got);
      if (k <= 0) {
        throw new DeltaError(
          ResultCode.CORRUPT,
          `delta does not fit the basis: COPY of ${len} bytes at ${where} reads past the basis end at ${pos + got}`,
        );
      }
      got += k;
    }
    return piece;
  };
  const out = new ChunkBatcher();
  const magic = await r.uint(4, 'missing the 4-byte magic');
  if (magic !== DELTA_MAGIC) {
    throw new DeltaError(ResultCode.BAD_MAGIC, `not a librsync delta: magic 0x${magic.toString(16).padStart(8, '0')}`);
  }
  for (;;) {
    const op = await r.byte();
    if (op === undefined) throw r.truncated('no END command');
    if (op === OP_END) break;
    if (op < OP_COPY_N1_N1) {
      const len = op < OP_LITERAL_N1 ? op : await r.uint(WIDTHS[op - OP_LITERAL_N1] ?? 8, 'LITERAL length');
      if (len <= 0) throw new DeltaError(ResultCode.CORRUPT, `delta is corrupt: LITERAL of length ${len}`);
      for await (const part of r.take(len, `LITERAL of ${len} bytes`)) {
        out.push(part, false);
      }
    } else if (op >= OP_COPY_N1_N1 && op <= OP_COPY_N8_N8) {
      const k = op - OP_COPY_N1_N1;
      const where = await r.uint(WIDTHS[k >> 2] ?? 8, 'COPY position');
      const len = await r.uint(WIDTHS[k & 3] ?? 8, 'COPY length');
      if (len <= 0) throw new DeltaError(ResultCode.CORRUPT, `delta is corrupt: COPY of length ${len}`);
      if (!Number.isSafeInteger(where + len)) {
        throw new DeltaError(ResultCode.CORRUPT, `delta is corrupt: COPY of ${len} bytes at ${where} is out of range`);
      }
      let pos = where;
      let left = len;
      let next: Promise<Buffer> | undefined = readPiece(pos, Math.min(left, COPY_PIECE), where, len);
      while (next) {
        const piece = await next;
        pos += piece.length;
        left -= piece.length;
        next = left > 0 ? readPiece(pos, Math.min(left, COPY_PIECE), where, len) : undefined;
        next?.catch(() => undefined); // reported when awaited
        out.push(piece, true);
        if (buffers) yield* out.take(); // written before its buffer's next turn
      }
    } else {
      throw new DeltaError(
        ResultCode.CORRUPT,
        `delta is corrupt: unknown command byte 0x${op.toString(16).padStart(2, '0')} at byte ${r.position - 1}`,
      );
    }
    const ready = out.take();
    if (ready.length > 0) yield* ready;
  }
  if (!(await r.atEnd())) {
    throw new DeltaError(ResultCode.CORRUPT, `delta is corrupt: data after the END command (at byte ${r.position})`);
  }
  out.flush();
  yield* out.take();
}
