// Helpers for the delta tests (also used by test/interop): whole-buffer forms of the streaming APIs.
import { delta, type DeltaOptions } from './delta.js';
import type { SignatureOptions } from './format.js';
import { bufferBasis, patch } from './patch.js';
import { parseSignature, signature } from './signature.js';

/** Yields `data` in pieces of `chunk` bytes, to exercise chunk boundaries. */
export async function* chunksOf(data: Uint8Array, chunk = 65536): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, Math.min(i + chunk, data.length));
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of source) parts.push(p);
  return Buffer.concat(parts);
}

export async function sigOf(basis: Uint8Array, opts: SignatureOptions = {}, chunk?: number): Promise<Buffer> {
  return collect(signature(chunksOf(basis, chunk), { fileSize: basis.length, ...opts }));
}

export async function deltaOf(sig: Uint8Array, next: Uint8Array, chunk?: number, opts?: DeltaOptions): Promise<Buffer> {
  return collect(delta(parseSignature(sig), chunksOf(next, chunk), opts));
}

export async function patchOf(basis: Uint8Array, d: Uint8Array, chunk?: number): Promise<Buffer> {
  return collect(patch(bufferBasis(basis), chunksOf(d, chunk)));
}

const RK_MULT = 0x08104225; // librsync's RabinKarp multiplier

/**
 * A copy of `block` with other bytes but the same RabinKarp weak sum (librsync's default kind), for
 * tests of what a weak-sum collision does. A change of byte i by d changes the sum by
 * d * MULT^(n-1-i) mod 2^32, so the last five bytes are searched meet-in-the-middle: two of them for
 * every value, three until their change cancels one of those.
 */
export function weakTwin(block: Uint8Array): Buffer {
  const n = block.length;
  if (n < 5) throw new Error('a weak twin needs a block of at least 5 bytes');
  const pow = [1];
  for (let e = 1; e < 5; e++) pow.push(Math.imul(pow[e - 1]!, RK_MULT));
  const o = (i: number) => block[n - 1 - i]!; // the byte whose weight is MULT^i
  const byChange = new Map<number, number>();
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      const s = (Math.imul(a - o(0), pow[0]!) + Math.imul(b - o(1), pow[1]!)) >>> 0;
      byChange.set(s, (a << 8) | b);
    }
  }
  for (let c = 0; c < 256; c++) {
    for (let d = 0; d < 256; d++) {
      for (let e = 0; e < 256; e++) {
        if (c === o(2) && d === o(3) && e === o(4)) continue;
        const t = (Math.imul(c - o(2), pow[2]!) + Math.imul(d - o(3), pow[3]!) + Math.imul(e - o(4), pow[4]!)) | 0;
        const ab = byChange.get(-t >>> 0);
        if (ab === undefined) continue;
        const twin = Buffer.from(block);
        [twin[n - 1], twin[n - 2], twin[n - 3], twin[n - 4], twin[n - 5]] = [ab >> 8, ab & 255, c, d, e];
        return twin;
      }
    }
  }
  throw new Error('no weak twin found');
}

/** An edit a property test makes to a basis: bytes inserted, deleted or replaced at `at` (wrapped). */
export interface Edit {
  at: number;
  kind: 'insert' | 'delete' | 'replace';
  bytes: Uint8Array;
}

/** `basis` with the edits made one after the other. */
export function applyEdits(basis: Uint8Array, edits: Edit[]): Buffer {
  let next = Buffer.from(basis);
  for (const e of edits) {
    const at = next.length === 0 ? 0 : e.at % next.length;
    const b = Buffer.from(e.bytes);
    if (e.kind === 'insert') next = Buffer.concat([next.subarray(0, at), b, next.subarray(at)]);
    else if (e.kind === 'delete') next = Buffer.concat([next.subarray(0, at), next.subarray(at + b.length)]);
    else next = Buffer.concat([next.subarray(0, at), b, next.subarray(at + b.length)]);
  }
  return next;
}
