// Helpers for the delta tests (also used by test/interop): whole-buffer forms of the streaming APIs.
import { delta } from './delta.js';
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

export async function deltaOf(sig: Uint8Array, next: Uint8Array, chunk?: number): Promise<Buffer> {
  return collect(delta(parseSignature(sig), chunksOf(next, chunk)));
}

export async function patchOf(basis: Uint8Array, d: Uint8Array, chunk?: number): Promise<Buffer> {
  return collect(patch(bufferBasis(basis), chunksOf(d, chunk)));
}
