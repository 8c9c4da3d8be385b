// @ts-nocheck -- AssemblyScript source, compiled to WebAssembly by `npm run build:delta`
// (scripts/build-delta-wasm.mjs); tsc cannot type-check AssemblyScript's builtins (u32, load<T>).
//
// The hot loops of the delta engine: weak sums of signature blocks, and the rolling search of a new
// file against a signature's weak sums. Strong sums (BLAKE2b) stay in JS (hash-wasm), called only for
// blocks whose weak sum is in the signature. Memory is laid out by the JS side (src/delta/wasm.ts)
// above __heap_base; this module never allocates.

import { KIND_RABINKARP, RK_ADJ, RK_INVM, RK_MULT, ROLLSUM_OFFSET, rkFresh, rkPow, rollsumDigest, rollsumFresh } from './weaksum';

// The module's exports: weak sums for signatures come from weaksum.ts.
export { KIND_ROLLSUM, KIND_RABINKARP, weakSums } from './weaksum';

const GOLD: u32 = 0x9e3779b1; // multiplicative hash for the filter and buckets (spreads rollsum's clusters)

// rollsum state of the current window (s1, s2 of librsync's Rollsum).
let rs1: u32 = 0;
let rs2: u32 = 0;

export function heapBase(): usize {
  return __heap_base;
}

// ---- delta search state ----
let kind: i32 = KIND_RABINKARP;
let blockLen: u32 = 0;
let nBlocks: i32 = 0;
let weakPtr: usize = 0; // u32[nBlocks], the signature's weak sums
let strongPtr: usize = 0; // u8[nBlocks * strongLen]
let strongLen: u32 = 0;
let filterPtr: usize = 0; // bitset of 2^filterBits bits: "some block may have this weak sum"
let filterShift: u32 = 0;
let bucketsPtr: usize = 0; // i32[2^bucketBits]: 1 + first block of the bucket's chain, 0 = empty
let bucketShift: u32 = 0;
let nextPtr: usize = 0; // i32[nBlocks]: 1 + next block in the chain
let rotPtr: usize = 0; // u32[256]: what rolling a byte out of a full window subtracts

let data: usize = 0; // the scan buffer
let dataLen: u32 = 0;
let pos: u32 = 0; // window start
let count: u32 = 0; // window length, 0 = no window yet
let hash: u32 = 0; // RabinKarp hash of the window
let mult: u32 = 1; // RK_MULT^count
let hitIdx: i32 = -1;

export function setup(
  k: i32, bl: u32, n: i32, weak: usize, strong: usize, sl: u32,
  filter: usize, filterBits: u32, buckets: usize, bucketBits: u32, next: usize, rot: usize, buf: usize,
): void {
  kind = k;
  blockLen = bl;
  nBlocks = n;
  weakPtr = weak;
  strongPtr = strong;
  strongLen = sl;
  filterPtr = filter;
  filterShift = 32 - filterBits;
  bucketsPtr = buckets;
  bucketShift = 32 - bucketBits;
  nextPtr = next;
  rotPtr = rot;
  data = buf;
  dataLen = 0;
  pos = 0;
  count = 0;
  const full = rkPow(bl);
  for (let c: u32 = 0; c < 256; c++) {
    store<u32>(rot + (c << 2), k == KIND_RABINKARP ? full * (c + RK_ADJ) : bl * (c + ROLLSUM_OFFSET));
  }
  buildTable();
}

function strongEq(i: i32, other: usize): bool {
  const a = strongPtr + <usize>i * strongLen;
  for (let k: u32 = 0; k < strongLen; k++) {
    if (load<u8>(a + k) != load<u8>(other + k)) return false;
  }
  return true;
}

// Blocks identical in weak and strong sum are entered once (the first, as librsync does), so that a
// file of zeros does not make one endless chain.
function buildTable(): void {
  memory.fill(filterPtr, 0, (<usize>1 << (32 - filterShift)) >> 3);
  memory.fill(bucketsPtr, 0, (<usize>1 << (32 - bucketShift)) << 2);
  for (let i: i32 = 0; i < nBlocks; i++) {
    const w = load<u32>(weakPtr + (<usize>i << 2));
    store<i32>(nextPtr + (<usize>i << 2), 0);
    const hv = w * GOLD;
    const fi = hv >> filterShift;
    const fp = filterPtr + ((<usize>fi >> 5) << 2);
    store<u32>(fp, load<u32>(fp) | (<u32>1 << (fi & 31)));
    const bp = bucketsPtr + (<usize>(hv >> bucketShift) << 2);
    let j = load<i32>(bp) - 1;
    let last: i32 = -1;
    let dup = false;
    while (j >= 0) {
      if (load<u32>(weakPtr + (<usize>j << 2)) == w && strongEq(j, strongPtr + <usize>i * strongLen)) {
        dup = true;
        break;
      }
      last = j;
      j = load<i32>(nextPtr + (<usize>j << 2)) - 1;
    }
    if (dup) continue;
    if (last < 0) store<i32>(bp, i + 1);
    else store<i32>(nextPtr + (<usize>last << 2), i + 1);
  }
}

function chainFind(w: u32, hv: u32): i32 {
  let j = load<i32>(bucketsPtr + (<usize>(hv >> bucketShift) << 2)) - 1;
  while (j >= 0) {
    if (load<u32>(weakPtr + (<usize>j << 2)) == w) return j;
    j = load<i32>(nextPtr + (<usize>j << 2)) - 1;
  }
  return -1;
}

function lookup(w: u32): i32 {
  const hv = w * GOLD;
  const fi = hv >> filterShift;
  if ((load<u32>(filterPtr + ((<usize>fi >> 5) << 2)) & (<u32>1 << (fi & 31))) == 0) return -1;
  return chainFind(w, hv);
}

function digest(): u32 {
  return kind == KIND_RABINKARP ? hash : rollsumDigest(rs1, rs2);
}

function fresh(len: u32): void {
  if (kind == KIND_RABINKARP) {
    hash = rkFresh(data + pos, len);
    mult = rkPow(len);
  } else {
    const s = rollsumFresh(data + pos, len);
    rs1 = <u32>s;
    rs2 = <u32>(s >> 32);
  }
  count = len;
}

// Roll full windows one byte at a time while the byte after the window is in the buffer. This is the
// loop that runs over every byte of a changed region, so it is kept free of calls.
function rotateLoop(): i32 {
  const d = data;
  const bl = blockLen;
  const end = dataLen - bl;
  const fshift = filterShift;
  const filter = filterPtr;
  const rot = rotPtr;
  let p = pos;
  if (kind == KIND_RABINKARP) {
    let h = hash;
    while (p < end) {
      const out = <u32>load<u8>(d + p);
      const inb = <u32>load<u8>(d + p + bl);
      h = h * RK_MULT + inb - load<u32>(rot + (out << 2));
      p++;
      const hv = h * GOLD;
      const fi = hv >> fshift;
      if ((load<u32>(filter + ((<usize>fi >> 5) << 2)) & (<u32>1 << (fi & 31))) != 0) {
        const j = chainFind(h, hv);
        if (j >= 0) {
          hash = h;
          pos = p;
          hitIdx = j;
          return 1;
        }
      }
    }
    hash = h;
  } else {
    let s1 = rs1;
    let s2 = rs2;
    while (p < end) {
      const out = <u32>load<u8>(d + p);
      const inb = <u32>load<u8>(d + p + bl);
      s1 += inb - out;
      s2 += s1 - load<u32>(rot + (out << 2));
      p++;
      const w = rollsumDigest(s1, s2);
      const hv = w * GOLD;
      const fi = hv >> fshift;
      if ((load<u32>(filter + ((<usize>fi >> 5) << 2)) & (<u32>1 << (fi & 31))) != 0) {
        const j = chainFind(w, hv);
        if (j >= 0) {
          rs1 = s1;
          rs2 = s2;
          pos = p;
          hitIdx = j;
          return 1;
        }
      }
    }
    rs1 = s1;
    rs2 = s2;
  }
  pos = p;
  return 0;
}

function rollout(): void {
  const out = <u32>load<u8>(data + pos);
  if (kind == KIND_RABINKARP) {
    mult *= RK_INVM;
    hash -= mult * (out + RK_ADJ);
  } else {
    rs1 -= out + ROLLSUM_OFFSET;
    rs2 -= count * (out + ROLLSUM_OFFSET);
  }
  count--;
  pos++;
}

/**
 * Advance the search to the next window whose weak sum is in the signature.
 * Returns 1 for such a hit (window at getPos(), length getCount(), first candidate getHit()), or 0 when
 * more input is needed (or, with eof, when the input is exhausted: getPos() == dataLen). A window that
 * was reported and not accepted is stepped over on the next call.
 */
export function scan(eof: bool): i32 {
  for (;;) {
    if (count == 0) {
      const remain = dataLen - pos;
      if (remain == 0) return 0;
      if (remain < blockLen && !eof) return 0;
      fresh(remain < blockLen ? remain : blockLen);
      const j = lookup(digest());
      if (j >= 0) {
        hitIdx = j;
        return 1;
      }
    }
    if (count == blockLen && pos + blockLen < dataLen) {
      if (rotateLoop()) return 1;
      continue;
    }
    if (!eof) return 0;
    // End of input: the window shrinks from the front, as librsync does for a short last block.
    rollout();
    if (count == 0) return 0;
    const j = lookup(digest());
    if (j >= 0) {
      hitIdx = j;
      return 1;
    }
  }
  return 0; // unreachable: the loop only exits by returning
}

/** The block (preferring `prefer`, to extend the previous copy) whose strong sum matches, or -1. */
export function matchStrong(dig: usize, prefer: i32): i32 {
  return matchStrongFor(dig, prefer, digest(), hitIdx);
}

/** matchStrong for a hit recorded by scanBatch (weak sum `w`, first candidate `hit`). */
export function matchStrongFor(dig: usize, prefer: i32, w: u32, hit: i32): i32 {
  if (prefer >= 0 && prefer < nBlocks && load<u32>(weakPtr + (<usize>prefer << 2)) == w && strongEq(prefer, dig)) {
    return prefer;
  }
  let j = hit;
  while (j >= 0) {
    if (load<u32>(weakPtr + (<usize>j << 2)) == w && strongEq(j, dig)) return j;
    j = load<i32>(nextPtr + (<usize>j << 2)) - 1;
  }
  return -1;
}

/**
 * Speculative search: records up to `maxHits` weak hits as 16-byte records (pos, count, weak sum,
 * first candidate) at `out`, assuming each one matches and continuing after it. The caller checks the
 * strong sums of all of them at once (on worker threads) and calls resume() at the first that fails.
 * Returns the number of records; 0 means: more input needed (or, with eof, input exhausted).
 */
export function scanBatch(eof: bool, maxHits: i32, out: usize): i32 {
  let n: i32 = 0;
  while (n < maxHits && scan(eof) == 1) {
    const r = out + (<usize>n << 4);
    store<u32>(r, pos);
    store<u32>(r, count, 4);
    store<u32>(r, digest(), 8);
    store<i32>(r, hitIdx, 12);
    n++;
    pos += count;
    count = 0;
  }
  return n;
}

/** Back to a window reported by scanBatch that did not match: the next scan() steps past it. */
export function resume(p: u32, c: u32): void {
  pos = p;
  fresh(c);
}

/** The current window matched: continue after it with a fresh window. */
export function accept(): void {
  pos += count;
  count = 0;
}

/** The JS side moved the unscanned bytes to the buffer start, or appended input. */
export function setWindow(newPos: u32, newLen: u32): void {
  pos = newPos;
  dataLen = newLen;
}

export function getPos(): u32 {
  return pos;
}

export function getCount(): u32 {
  return count;
}

export function getHit(): i32 {
  return hitIdx;
}
