// Signature of a basis (rdiff signature), streamed: the input passes through a fixed wasm buffer of a
// few MiB, weak sums are computed in wasm for a whole batch of blocks at once, strong sums (BLAKE2b-256,
// truncated, exactly as librsync's rs_calc_strong_sum) with hash-wasm.
import { createBLAKE2b } from 'hash-wasm';
import { ByteReader, type ByteSource } from './bytes.js';
import {
  BLAKE2_SIG_MAGIC, BLAKE2_SUM_LENGTH, DeltaError, MD4_SIG_MAGIC, ResultCode, RK_BLAKE2_SIG_MAGIC,
  RK_MD4_SIG_MAGIC, resolveSignatureParams, type SignatureOptions, type SignatureParams,
} from './format.js';
import { Engine, KIND_RABINKARP, KIND_ROLLSUM } from './wasm.js';

const BATCH_BYTES = 4 * 1024 * 1024;
/** Largest block we accept: a block (twice, for delta) must fit in the engine's 32-bit memory. */
export const MAX_BLOCK_LEN = 256 * 1024 * 1024;

export function signatureHeader(p: SignatureParams): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32BE(p.magic, 0);
  h.writeUInt32BE(p.blockLen, 4);
  h.writeUInt32BE(p.strongLen, 8);
  return h;
}

/** Streams the signature of `input`; pass `fileSize` to get rdiff's recommended block length. */
export async function* signature(input: ByteSource, opts: SignatureOptions = {}): AsyncGenerator<Uint8Array> {
  const params = resolveSignatureParams(opts);
  const { blockLen: bl, strongLen: sl } = params;
  if (bl > MAX_BLOCK_LEN) {
    throw new DeltaError(ResultCode.PARAM_ERROR, `block length ${bl} is larger than the supported ${MAX_BLOCK_LEN}`);
  }
  const engine = await Engine.create();
  const hasher = await createBLAKE2b(BLAKE2_SUM_LENGTH * 8);
  const perBatch = Math.max(1, Math.floor(BATCH_BYTES / bl));
  const cap = perBatch * bl;
  const bufP = engine.alloc(cap);
  const weakP = engine.alloc(perBatch * 4);
  const mem = engine.u8;
  const weakView = new DataView(mem.buffer, weakP, perBatch * 4);
  const kind = params.kind === 'rabinkarp' ? KIND_RABINKARP : KIND_ROLLSUM;

  const batch = (len: number): Buffer => {
    const n = Math.ceil(len / bl);
    engine.exports.weakSums(kind, bufP, len, bl, weakP);
    const out = Buffer.allocUnsafe(n * (4 + sl));
    let o = 0;
    for (let i = 0; i < n; i++) {
      out.writeUInt32BE(weakView.getUint32(i * 4, true), o);
      const start = bufP + i * bl;
      hasher.init();
      hasher.update(mem.subarray(start, Math.min(start + bl, bufP + len)));
      out.set(hasher.digest('binary').subarray(0, sl), o + 4);
      o += 4 + sl;
    }
    return out;
  };

  yield signatureHeader(params);
  let fill = 0;
  for await (const chunk of input) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(cap - fill, chunk.length - off);
      mem.set(chunk.subarray(off, off + n), bufP + fill);
      fill += n;
      off += n;
      if (fill === cap) {
        yield batch(cap);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield batch(fill);
}

/** A signature loaded for delta computation (rdiff loads it whole too: it is ~0.1% of the file). */
export interface Signature {
  params: SignatureParams;
  blockCount: number;
  /** Weak sums in native order. */
  weak: Uint32Array;
  /** `blockCount * strongLen` bytes. */
  strong: Uint8Array;
}

export function parseSignature(buf: Uint8Array): Signature {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12) {
    throw new DeltaError(ResultCode.INPUT_ENDED, `signature is truncated: ${b.length} bytes, the header alone is 12`);
  }
  const magic = b.readUInt32BE(0);
  let kind: SignatureParams['kind'];
  if (magic === RK_BLAKE2_SIG_MAGIC) kind = 'rabinkarp';
  else if (magic === BLAKE2_SIG_MAGIC) kind = 'rollsum';
  else if (magic === MD4_SIG_MAGIC || magic === RK_MD4_SIG_MAGIC) {
    throw new DeltaError(ResultCode.UNIMPLEMENTED, 'MD4 signatures are not supported (insecure); make a BLAKE2 one');
  } else {
    throw new DeltaError(ResultCode.BAD_MAGIC, `not a librsync signature: magic 0x${magic.toString(16).padStart(8, '0')}`);
  }
  const blockLen = b.readUInt32BE(4);
  const strongLen = b.readUInt32BE(8);
  if (blockLen < 1 || blockLen > MAX_BLOCK_LEN) {
    throw new DeltaError(ResultCode.CORRUPT, `signature is corrupt: block length ${blockLen} is implausible`);
  }
  if (strongLen < 1 || strongLen > BLAKE2_SUM_LENGTH) {
    throw new DeltaError(ResultCode.CORRUPT, `signature is corrupt: strong sum length ${strongLen} is implausible`);
  }
  const rec = 4 + strongLen;
  const body = b.length - 12;
  if (body % rec !== 0) {
    throw new DeltaError(
      ResultCode.INPUT_ENDED,
      `signature is truncated: ${body} bytes of block sums is not a multiple of ${rec}`,
    );
  }
  const n = body / rec;
  const weak = new Uint32Array(n);
  const strong = new Uint8Array(n * strongLen);
  for (let i = 0, o = 12; i < n; i++, o += rec) {
    weak[i] = b.readUInt32BE(o);
    strong.set(b.subarray(o + 4, o + rec), i * strongLen);
  }
  return { params: { magic, kind, blockLen, strongLen }, blockCount: n, weak, strong };
}

export async function readSignature(input: ByteSource): Promise<Signature> {
  return parseSignature(await new ByteReader(input, 'signature').rest());
}
