// @ts-nocheck -- AssemblyScript source, compiled to WebAssembly by `npm run build:delta`
// (scripts/build-delta-wasm.mjs); tsc cannot type-check AssemblyScript's builtins (u32, load<T>).
//
// The hot loops of the delta engine: weak sums of signature blocks, and the rolling search of a new
// file against a signature's weak sums. Strong sums (BLAKE2b) stay in JS (hash-wasm), called only for
// blocks whose weak sum is in the signature. Memory is laid out by the JS side (src/delta/wasm.ts)
// above __heap_base; this module never allocates.

const RK_MULT: u32 = 0x08104225; // librsync rabinkarp.h
const RK_INVM: u32 = 0x98f009ad; // RK_MULT^-1 mod 2^32
const RK_ADJ: u32 = 0x08104224; // (RK_MULT - 1) * seed
const ROLLSUM_OFFSET: u32 = 31; // librsync rollsum.h ROLLSUM_CHAR_OFFSET
const GOLD: u32 = 0x9e3779b1; // multiplicative hash for the filter and buckets (spreads rollsum's clusters)

export const KIND_ROLLSUM: i32 = 0;
export const KIND_RABINKARP: i32 = 1;

export function heapBase(): usize {
  return __heap_base;
}

function rkPow(n: u32): u32 {
  let r: u32 = 1;
  let b: u32 = RK_MULT;
  while (n != 0) {
    if (n & 1) r *= b;
    b *= b;
    n >>= 1;
  }
  return r;
}

// RabinKarp from scratch: h = seed*M^n + sum c_i*M^(n-1-i). SIMD: 16 lanes (four i32x4 vectors)
// each run Horner's rule with M^16 over every 16th byte, then are weighted by M^(15-lane) and summed;
// the tail goes byte by byte. Same value as librsync's byte-at-a-time loop, modulo 2^32.
function rkFresh(p: usize, len: usize): u32 {
  let h: u32 = 1;
  let i: usize = 0;
  if (len >= 64) {
    const m16 = i32x4.splat(<i32>rkPow(16));
    let v0 = i32x4.splat(0);
    let v1 = i32x4.splat(0);
    let v2 = i32x4.splat(0);
    let v3 = i32x4.splat(0);
    const chunks = len >> 4;
    for (let k: usize = 0; k < chunks; k++) {
      const b = v128.load(p + (k << 4));
      const lo = i16x8.extend_low_i8x16_u(b);
      const hi = i16x8.extend_high_i8x16_u(b);
      v0 = i32x4.add(i32x4.mul(v0, m16), i32x4.extend_low_i16x8_u(lo));
      v1 = i32x4.add(i32x4.mul(v1, m16), i32x4.extend_high_i16x8_u(lo));
      v2 = i32x4.add(i32x4.mul(v2, m16), i32x4.extend_low_i16x8_u(hi));
      v3 = i32x4.add(i32x4.mul(v3, m16), i32x4.extend_high_i16x8_u(hi));
    }
    // lane weights M^(15-b) for byte b = 0..15 of a chunk
    const w0 = i32x4(<i32>rkPow(15), <i32>rkPow(14), <i32>rkPow(13), <i32>rkPow(12));
    const w1 = i32x4(<i32>rkPow(11), <i32>rkPow(10), <i32>rkPow(9), <i32>rkPow(8));
    const w2 = i32x4(<i32>rkPow(7), <i32>rkPow(6), <i32>rkPow(5), <i32>rkPow(4));
    const w3 = i32x4(<i32>rkPow(3), <i32>rkPow(2), <i32>RK_MULT, 1);
    const sum = i32x4.add(
      i32x4.add(i32x4.mul(v0, w0), i32x4.mul(v1, w1)),
      i32x4.add(i32x4.mul(v2, w2), i32x4.mul(v3, w3)),
    );
    h = rkPow(<u32>(chunks << 4)) +
      <u32>(i32x4.extract_lane(sum, 0) + i32x4.extract_lane(sum, 1) + i32x4.extract_lane(sum, 2) + i32x4.extract_lane(sum, 3));
    i = chunks << 4;
  }
  for (; i < len; i++) h = h * RK_MULT + <u32>load<u8>(p + i);
  return h;
}

// rollsum state of a fresh window lives in these globals (s1, s2 of librsync's Rollsum).
let rs1: u32 = 0;
let rs2: u32 = 0;

function rollsumFresh(p: usize, len: usize): void {
  let s1: u32 = 0;
  let s2: u32 = 0;
  let i: usize = 0;
  for (; i + 4 <= len; i += 4) {
    const w = load<u32>(p + i);
    const a0 = (w & 0xff) + ROLLSUM_OFFSET;
    const a1 = ((w >> 8) & 0xff) + ROLLSUM_OFFSET;
    const a2 = ((w >> 16) & 0xff) + ROLLSUM_OFFSET;
    const a3 = (w >> 24) + ROLLSUM_OFFSET;
    s2 += 4 * s1 + 4 * a0 + 3 * a1 + 2 * a2 + a3;
    s1 += a0 + a1 + a2 + a3;
  }
  for (; i < len; i++) {
    s1 += <u32>load<u8>(p + i) + ROLLSUM_OFFSET;
    s2 += s1;
  }
  rs1 = s1;
  rs2 = s2;
}

function rollsumDigest(s1: u32, s2: u32): u32 {
  return (s2 << 16) | (s1 & 0xffff);
}

/** Weak sums of consecutive blocks of [p, p+len) (the last one may be short), written as u32 to out. */
export function weakSums(kind: i32, p: usize, len: usize, blockLen: usize, out: usize): void {
  let o = out;
  for (let off: usize = 0; off < len; off += blockLen) {
    const n = len - off < blockLen ? len - off : blockLen;
    let w: u32;
    if (kind == KIND_RABINKARP) {
      w = rkFresh(p + off, n);
    } else {
      rollsumFresh(p + off, n);
      w = rollsumDigest(rs1, rs2);
    }
    store<u32>(o, w);
    o += 4;
  }
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
    rollsumFresh(data + pos, len);
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
