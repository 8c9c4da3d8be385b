// Signature of a basis (rdiff signature), streamed: the input passes through a fixed wasm buffer of a
// few MiB, weak sums are computed in wasm for a whole batch of blocks at once, strong sums (BLAKE2b-256,
// truncated, exactly as librsync's rs_calc_strong_sum) with hash-wasm.
import { createBLAKE2b } from 'hash-wasm';
import { Filler, type ByteSource, type DataSource } from './bytes.js';
import {
  BLAKE2_SIG_MAGIC, BLAKE2_SUM_LENGTH, DeltaError, MD4_SIG_MAGIC, ResultCode, RK_BLAKE2_SIG_MAGIC,
  RK_MD4_SIG_MAGIC, resolveSignatureParams, type SignatureOptions, type SignatureParams,
} from './format.js';
import { HashPool } from './pool.js';
import { Engine, KIND_RABINKARP, KIND_ROLLSUM } from './wasm.js';

const BATCH_BYTES = 2 * 1024 * 1024;
/** Largest block we accept: a block (twice, for delta) must fit in the engine's 32-bit memory. */
export const MAX_BLOCK_LEN = 256 * 1024 * 1024;

export function signatureHeader(p: SignatureParams): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32BE(p.magic, 0);
  h.writeUInt32BE(p.blockLen, 4);
  h.writeUInt32BE(p.strongLen, 8);
  return h;
}

/** Inputs at least this big hash their blocks on worker threads (smaller ones are not worth it). */
export const POOL_THRESHOLD = 32 * 1024 * 1024;

export interface SignatureJobOptions extends SignatureOptions {
  /** Worker threads for the strong sums; by default a job on a big input makes its own. */
  pool?: HashPool;
}

/** Streams the signature of `input`; pass `fileSize` to get rdiff's recommended block length. */
export async function* signature(input: DataSource, opts: SignatureJobOptions = {}): AsyncGenerator<Uint8Array> {
  const params = resolveSignatureParams(opts);
  const { blockLen: bl, strongLen: sl } = params;
  if (bl > MAX_BLOCK_LEN) {
    throw new DeltaError(ResultCode.PARAM_ERROR, `block length ${bl} is larger than the supported ${MAX_BLOCK_LEN}`);
  }
  const big = (opts.fileSize ?? 0) >= POOL_THRESHOLD;
  const ownPool = !opts.pool && big && HashPool.worthStarting() ? new HashPool() : undefined;
  const pool = opts.pool ?? ownPool;
  try {
    const engine = await Engine.create(pool !== undefined);
    const hasher = await createBLAKE2b(BLAKE2_SUM_LENGTH * 8);
    const perBatch = Math.max(1, Math.floor(BATCH_BYTES / bl));
    const cap = perBatch * bl;
    // Batches in flight on the pool each keep their slot of wasm memory until hashed, and the next
    // slot is being read into meanwhile.
    const slots = pool ? 2 * pool.size + 2 : 2;
    const slotP: number[] = [];
    const weakP: number[] = [];
    const digP: number[] = []; // where a worker writes the slot's strong sums
    const stateP: number[] = []; // the slot's job state word (see pool.ts)
    for (let i = 0; i < slots; i++) {
      slotP.push(engine.alloc(cap));
      weakP.push(engine.alloc(perBatch * 4));
      digP.push(engine.alloc(perBatch * 32));
      stateP.push(engine.alloc(4));
    }
    const mem = engine.u8;
    const shared = mem.buffer as SharedArrayBuffer;
    const kind = params.kind === 'rabinkarp' ? KIND_RABINKARP : KIND_ROLLSUM;

    const assemble = (n: number, wp: number, digests: Uint8Array): Buffer => {
      const out = Buffer.allocUnsafe(n * (4 + sl));
      const wv = new DataView(mem.buffer, wp, n * 4);
      for (let i = 0, o = 0; i < n; i++, o += 4 + sl) {
        out.writeUInt32BE(wv.getUint32(i * 4, true), o);
        out.set(digests.subarray(i * 32, i * 32 + sl), o + 4);
      }
      return out;
    };
    const strongHere = (p: number, len: number, n: number): Uint8Array => {
      const digests = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++) {
        hasher.init();
        hasher.update(mem.subarray(p + i * bl, p + Math.min((i + 1) * bl, len)));
        digests.set(hasher.digest('binary'), i * 32);
      }
      return digests;
    };
    interface Batch {
      k: number;
      len: number;
      n: number;
      token?: number; // submitted to the pool
      out?: Buffer;
    }
    // Weak sums here (wasm); strong sums on the pool when a worker has room, else on this thread.
    const batch = (k: number, len: number): Batch => {
      const p = slotP[k]!;
      const n = Math.ceil(len / bl);
      engine.exports.weakSums(kind, p, len, bl, weakP[k]!);
      if (pool?.hasRoom()) {
        const offsets = new Uint32Array(n);
        const lengths = new Uint32Array(n);
        for (let i = 0; i < n; i++) {
          offsets[i] = p + i * bl;
          lengths[i] = Math.min(bl, len - i * bl);
        }
        return { k, len, n, token: pool.submit(shared, offsets, lengths, digP[k]!, stateP[k]!) };
      }
      return { k, len, n, out: assemble(n, weakP[k]!, strongHere(p, len, n)) };
    };
    // The oldest batch's bytes; a job no worker has started yet is done here instead of waited for.
    const finish = (b: Batch): Buffer => {
      if (b.out) return b.out;
      const byWorker = pool!.claim(shared, stateP[b.k]!, b.token!);
      const digests = byWorker ? mem.subarray(digP[b.k]!, digP[b.k]! + b.n * 32) : strongHere(slotP[b.k]!, b.len, b.n);
      return assemble(b.n, weakP[b.k]!, digests);
    };

    const queue: Batch[] = [];
    const filler = new Filler(input, true);
    const slotView = (k: number): Uint8Array => mem.subarray(slotP[k]!, slotP[k]! + cap);
    let reading: Promise<number> | undefined;
    try {
      yield signatureHeader(params);
      reading = filler.fill(slotView(0));
      for (let i = 0; ; i++) {
        const len = (await reading) ?? 0;
        reading = undefined;
        // Slot i+1 was last used by batch i+1-slots: it must be done with before reading into it.
        while (queue.length >= slots - 1) yield finish(queue.shift()!);
        if (len === cap) {
          reading = filler.fill(slotView((i + 1) % slots));
          reading.catch(() => undefined); // reported when awaited
        }
        const k = i % slots;
        if (len > 0) queue.push(batch(k, len));
        if (len < cap) break;
      }
      while (queue.length > 0) yield finish(queue.shift()!);
    } finally {
      for (const b of queue) if (b.token !== undefined) pool?.claim(shared, stateP[b.k]!, b.token);
      await reading?.catch(() => undefined);
    }
  } finally {
    await ownPool?.close();
  }
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

/**
 * Reads a signature as it streams in, straight into its final arrays (grown as it comes): no copy of
 * the whole signature is ever held beside them. With `maxBytes`, a longer input is refused as soon as
 * it passes that many bytes (a request body must not grow without bound).
 */
export async function readSignature(input: ByteSource, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Signature> {
  const head = Buffer.alloc(12);
  let headLen = 0;
  let total = 0;
  let rec = 0;
  let sl = 0;
  let n = 0; // whole records so far
  let weak = new Uint32Array(0);
  let strong = new Uint8Array(0);
  const partial = new Uint8Array(4 + BLAKE2_SUM_LENGTH);
  let partialLen = 0;
  const grow = (need: number) => {
    if (need <= weak.length) return;
    const cap = Math.max(need, weak.length * 2, 1024);
    const w = new Uint32Array(cap);
    w.set(weak);
    weak = w;
    const st = new Uint8Array(cap * sl);
    st.set(strong);
    strong = st;
  };
  const record = (b: Uint8Array, o: number) => {
    grow(n + 1);
    weak[n] = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    strong.set(b.subarray(o + 4, o + rec), n * sl);
    n++;
  };
  let params: SignatureParams | undefined;
  for await (const chunk of input) {
    total += chunk.length;
    if (total > maxBytes) throw new DeltaError(ResultCode.PARAM_ERROR, `signature is larger than the ${maxBytes} bytes accepted`);
    let c = chunk;
    if (headLen < 12) {
      const k = Math.min(12 - headLen, c.length);
      head.set(c.subarray(0, k), headLen);
      headLen += k;
      c = c.subarray(k);
      if (headLen < 12) continue;
      params = parseSignature(head).params; // checks magic, block and strong-sum lengths
      sl = params.strongLen;
      rec = 4 + sl;
    }
    if (partialLen > 0) {
      const k = Math.min(rec - partialLen, c.length);
      partial.set(c.subarray(0, k), partialLen);
      partialLen += k;
      c = c.subarray(k);
      if (partialLen < rec) continue;
      record(partial, 0);
      partialLen = 0;
    }
    const whole = Math.floor(c.length / rec);
    grow(n + whole);
    for (let i = 0, o = 0; i < whole; i++, o += rec) record(c, o);
    partial.set(c.subarray(whole * rec), 0);
    partialLen = c.length - whole * rec;
  }
  if (!params) throw new DeltaError(ResultCode.INPUT_ENDED, `signature is truncated: ${headLen} bytes, the header alone is 12`);
  if (partialLen > 0) {
    throw new DeltaError(ResultCode.INPUT_ENDED, `signature is truncated: ${total - 12} bytes of block sums is not a multiple of ${rec}`);
  }
  return { params, blockCount: n, weak: weak.subarray(0, n), strong: strong.subarray(0, n * sl) };
}
