// Delta of a new file against a basis signature (rdiff delta), streamed. The search runs in wasm
// (engine.ts: rolling weak sum, filter, hash chains); JS only computes the strong sum of windows whose
// weak sum is in the signature, and encodes commands. Like librsync, a match needs weak AND strong sums
// equal, the last short window is matched by rolling bytes out at end of input, and adjacent matches
// merge into one COPY.
import { createBLAKE2b } from 'hash-wasm';
import { ChunkBatcher, Filler, type DataSource } from './bytes.js';
import { CommandWriter } from './command-writer.js';
import { BLAKE2_SUM_LENGTH, DELTA_MAGIC } from './format.js';
import { HashPool } from './pool.js';
import { POOL_THRESHOLD, type Signature } from './signature.js';
import { Engine, KIND_RABINKARP, KIND_ROLLSUM } from './wasm.js';

const MIN_BUFFER = 8 * 1024 * 1024;
/** Most weak hits per speculative batch. */
const MAX_HITS = 256;

function log2ceil(n: number): number {
  let b = 0;
  while (2 ** b < n) b++;
  return b;
}

interface Batch {
  rec: Uint32Array; // records from scanBatch: pos, count, weak sum, first candidate
  n: number;
  /** Per record: where its strong sum is among the batch's digests, -1 if none was computed. */
  slot: Int32Array;
  /** How many strong sums the batch holds. */
  m: number;
  r: number; // ring index of its digest area and state word
  token?: number; // submitted to the pool
  digests?: Uint8Array; // computed on this thread
}

export interface DeltaOptions {
  /** Worker threads for the strong sums; by default a job on a big input makes its own. */
  pool?: HashPool;
  /**
   * Take a window that starts where the last match ended and has the weak sum of the basis block
   * after it as that block, without computing its strong sum (the first match of a run is still
   * checked in full). An unchanged stretch of a big file then costs a weak sum per block instead of
   * a BLAKE2b of every byte, the bulk of a delta's CPU. Only for a caller that checks the patched
   * result with a strong hash and makes the delta again without this when it is wrong: a weak-sum
   * collision (about 1 in 2^32 per block for ordinary data, or a file made to collide) gives a wrong
   * COPY. rsync does the same: its whole-file checksum catches block matches that were wrong, and
   * it then sends the file again. The sync client does (the gateway checks SHA-256 before it records).
   */
  trustRuns?: boolean;
}

export async function* delta(sig: Signature, input: DataSource, opts: DeltaOptions = {}): AsyncGenerator<Uint8Array> {
  const out = new ChunkBatcher();
  const cmd = new CommandWriter(out);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(DELTA_MAGIC, 0);
  out.push(header);
  if (sig.blockCount === 0) {
    // Empty basis: nothing can match, the delta is all literal (librsync's "slack delta").
    const filler = new Filler(input);
    const piece = new Uint8Array(1024 * 1024);
    while (!filler.eof) {
      cmd.literal(piece.subarray(0, await filler.fill(piece)));
      yield* out.take();
    }
    cmd.end();
    out.flush();
    yield* out.take();
    return;
  }

  const { blockLen: bl, strongLen: sl } = sig.params;
  const n = sig.blockCount;
  // Strong sums on worker threads for a big basis (a stand-in for the new file's size, which a
  // stream does not tell): decided now, because only then does the engine need shared memory.
  // With trustRuns only the first block of each run is hashed: too few to pay for starting threads.
  const wantPool = opts.pool !== undefined || (!opts.trustRuns && n * bl >= POOL_THRESHOLD && HashPool.worthStarting());
  const engine = await Engine.create(wantPool);
  const hasher = await createBLAKE2b(BLAKE2_SUM_LENGTH * 8);
  const filterBits = Math.min(32, Math.max(10, log2ceil(n) + 4));
  const bucketBits = Math.min(28, Math.max(4, log2ceil(n) + 1));
  const weakP = engine.alloc(n * 4);
  const strongP = engine.alloc(n * sl);
  const filterP = engine.alloc(2 ** filterBits / 8);
  const bucketsP = engine.alloc(2 ** bucketBits * 4);
  const nextP = engine.alloc(n * 4);
  const rotP = engine.alloc(256 * 4);
  const digP = engine.alloc(BLAKE2_SUM_LENGTH);
  const cap = Math.max(MIN_BUFFER, 2 * bl + 1024 * 1024);
  const bufP = engine.alloc(cap);
  const recP = engine.alloc(MAX_HITS * 16);
  // Batches in flight each have an area for their strong sums and a job state word (pool.ts), in a
  // ring one longer than the most batches in flight.
  const ring = 16;
  const areaP: number[] = [];
  const stateP: number[] = [];
  for (let i = 0; i < ring; i++) {
    areaP.push(engine.alloc(MAX_HITS * 32));
    stateP.push(engine.alloc(4));
  }
  const mem = engine.u8;
  new Uint32Array(mem.buffer, weakP, n).set(sig.weak);
  mem.set(sig.strong, strongP);
  const ex = engine.exports;
  const kind = sig.params.kind === 'rabinkarp' ? KIND_RABINKARP : KIND_ROLLSUM;
  ex.setup(kind, bl, n, weakP, strongP, sl, filterP, filterBits, bucketsP, bucketBits, nextP, rotP, bufP);

  let fill = 0; // bytes in the buffer
  let litStart = 0; // first byte not yet emitted (misses between litStart and the window)
  let copyPos = 0; // the pending COPY, extended while matches are adjacent in the basis
  let copyLen = 0;
  const flushCopy = (): void => {
    if (copyLen > 0) cmd.copy(copyPos, copyLen);
    copyLen = 0;
  };
  const flushLiteral = (upTo: number): void => {
    if (upTo > litStart) {
      flushCopy();
      cmd.literal(mem.subarray(bufP + litStart, bufP + upTo));
      litStart = upTo;
    }
  };

  const ownPool = wantPool && !opts.pool ? new HashPool() : undefined;
  const pool = opts.pool ?? ownPool;
  let maxHits = 8;
  // Strong sums of a batch of recorded windows: here, or on a worker (which reads the shared wasm
  // memory and writes them into the batch's area) when one has room; see pool.ts for who does a job.
  // Strong sums of the records with a slot (all of them, or those trustRuns cannot vouch for).
  const strongHere = (rec: Uint32Array, slot: Int32Array, m: number): Uint8Array => {
    const digests = new Uint8Array(m * 32);
    for (let i = 0; i < slot.length; i++) {
      if (slot[i]! < 0) continue;
      const p = bufP + rec[i * 4]!;
      hasher.init();
      hasher.update(mem.subarray(p, p + rec[i * 4 + 1]!));
      digests.set(hasher.digest('binary'), slot[i]! * 32);
    }
    return digests;
  };
  const shared = mem.buffer as SharedArrayBuffer;
  const submit = (rec: Uint32Array, slot: Int32Array, m: number, r: number): number | undefined => {
    if (!pool?.hasRoom(3)) return undefined;
    const offsets = new Uint32Array(m);
    const lengths = new Uint32Array(m);
    for (let i = 0; i < slot.length; i++) {
      if (slot[i]! < 0) continue;
      offsets[slot[i]!] = bufP + rec[i * 4]!;
      lengths[slot[i]!] = rec[i * 4 + 1]!;
    }
    return pool.submit(shared, offsets, lengths, areaP[r]!, stateP[r]!);
  };
  const settle = (b: Batch): Uint8Array =>
    b.digests ??
    (pool!.claim(shared, stateP[b.r]!, b.token!) ? mem.subarray(areaP[b.r]!, areaP[b.r]! + b.m * 32) : strongHere(b.rec, b.slot, b.m));
  // trustRuns: the block a record would continue, predicted while scanning so that its strong sum
  // is not computed; what counts is the check in order below (a wrong guess only costs a hash then).
  const trust = opts.trustRuns === true;
  const weak = sig.weak;
  let nextPos = -1; // where the run predicted so far ends (buffer offset)
  let nextBlock = -1; // the basis block that would continue it
  const continues = (blockIdx: number, w: number, c: number): boolean =>
    // The last block may be short: it is always checked in full (a wrong COPY of it would read
    // past the basis end, which a patch reports as a corrupt delta rather than a wrong result).
    trust && blockIdx >= 0 && blockIdx < n - 1 && c === bl && weak[blockIdx] === w;
  const plan = (rec: Uint32Array, count: number): { slot: Int32Array; m: number } => {
    const slot = new Int32Array(count);
    let m = 0;
    for (let i = 0; i < count; i++) {
      const [p, c, w, first] = [rec[i * 4]!, rec[i * 4 + 1]!, rec[i * 4 + 2]!, rec[i * 4 + 3]! | 0];
      if (p === nextPos && continues(nextBlock, w, c)) {
        slot[i] = -1;
        nextBlock += 1;
      } else {
        slot[i] = m++;
        nextBlock = first >= 0 ? first + 1 : -1;
      }
      nextPos = p + c;
    }
    return { slot, m };
  };
  const single = new Int32Array(1);
  let batches = 0;
  // Batches of at most ~2 MiB of windows keep the workers and this thread evenly busy.
  const hitsCap = Math.min(MAX_HITS, Math.max(4, Math.floor((1024 * 1024) / bl)));

  const filler = new Filler(input, true);
  let eof = false;
  // A read into the free end of the buffer, started as soon as the scan runs out of data so that
  // it overlaps the checking of the last batches.
  let reading: Promise<number> | undefined;
  try {
    while (!eof || ex.getPos() < fill) {
      if (!reading && cap - fill < cap / 4) {
        // Make room: emit misses before the window, then move the window to the buffer start.
        const pos = ex.getPos();
        flushLiteral(pos);
        mem.copyWithin(bufP, bufP + pos, bufP + fill);
        fill -= pos;
        nextPos -= pos;
        litStart = 0;
        ex.setWindow(0, fill);
      }
      if (!eof) {
        fill += await (reading ?? filler.fill(mem.subarray(bufP + fill, bufP + cap)));
        reading = undefined;
        eof = filler.eof;
      }
      ex.setWindow(ex.getPos(), fill);
      // Scan ahead while earlier batches are hashed, then check them in order. A batch holds
      // windows that were assumed to match; at the first that does not, scanning resumes there and
      // the batches after it are dropped.
      const inflight: Batch[] = [];
      let scanning = true;
      for (;;) {
        while (scanning && inflight.length < (pool ? ring - 1 : 1)) {
          // Batches shrink towards the end of the buffer, where everything in flight must be
          // checked before the buffer is refilled: the last ones are small, so is the wait.
          const room = Math.floor((fill - ex.getPos()) / (2 * bl));
          const n = ex.scanBatch(eof ? 1 : 0, Math.max(1, Math.min(maxHits, room)), recP);
          if (n === 0) {
            scanning = false;
            if (!eof && !reading && cap - fill >= cap / 4) {
              reading = filler.fill(mem.subarray(bufP + fill, bufP + cap));
              reading.catch(() => undefined); // reported when awaited
            }
            break;
          }
          const rec = new Uint32Array(mem.buffer, recP, n * 4).slice();
          const { slot, m } = plan(rec, n);
          if (m === 0) {
            inflight.push({ rec, n, slot, m, r: -1, digests: new Uint8Array(0) });
            continue;
          }
          // Hash here right away what no worker has room for: by the time the oldest batch is
          // checked, its worker has had that long to finish it.
          const r = batches++ % ring;
          const token = submit(rec, slot, m, r);
          inflight.push(token === undefined ? { rec, n, slot, m, r, digests: strongHere(rec, slot, m) } : { rec, n, slot, m, r, token });
        }
        const batch = inflight.shift();
        if (!batch) break;
        const { rec, n, slot } = batch;
        const digests = settle(batch);
        let k = 0;
        for (; k < n; k++) {
          const p = rec[k * 4]!;
          const c = rec[k * 4 + 1]!;
          const end = copyPos + copyLen;
          const prefer = copyLen > 0 && p === litStart && end % bl === 0 ? end / bl : -1;
          let j: number;
          if (continues(prefer, rec[k * 4 + 2]!, c)) j = prefer;
          else {
            if (slot[k]! >= 0) mem.set(digests.subarray(slot[k]! * 32, slot[k]! * 32 + 32), digP);
            else {
              // Predicted as a run's next block, but the run went another way: hash it now.
              single[0] = 0;
              mem.set(strongHere(rec.subarray(k * 4, k * 4 + 4), single, 1), digP);
            }
            j = ex.matchStrongFor(digP, prefer, rec[k * 4 + 2]!, rec[k * 4 + 3]! | 0);
          }
          if (j < 0) {
            ex.resume(p, c); // weak sums collided: roll on from this window
            break;
          }
          const matchPos = j * bl;
          flushLiteral(p);
          if (copyLen > 0 && copyPos + copyLen === matchPos) copyLen += c;
          else {
            flushCopy();
            copyPos = matchPos;
            copyLen = c;
          }
          litStart = p + c;
        }
        if (k < n) {
          for (const b of inflight) if (b.token !== undefined) settle(b); // dropped, but settled
          inflight.length = 0;
          nextPos = -1; // the scan goes on from the failed window: predict afresh
          scanning = true;
          maxHits = 4; // speculate little right after a collision
        } else {
          maxHits = Math.min(hitsCap, maxHits * 2);
        }
      }
      if (eof) break;
      yield* out.take();
    }
    flushLiteral(fill);
    flushCopy();
    cmd.end();
    out.flush();
    yield* out.take();
  } finally {
    await reading?.catch(() => undefined);
    await ownPool?.close();
  }
}
