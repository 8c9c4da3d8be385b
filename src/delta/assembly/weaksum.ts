// @ts-nocheck -- AssemblyScript source, compiled to WebAssembly by `npm run build:delta`
// (scripts/build-delta-wasm.mjs); tsc cannot type-check AssemblyScript's builtins (u32, load<T>).
//
// Weak sums of the delta engine (librsync's RabinKarp and rollsum), for signature blocks and for
// fresh windows of the rolling search in engine.ts. Kept apart from the search: the sums must match
// librsync bit for bit, the search only has to be fast.
//
// Like engine.ts, it never allocates: the JS side lays out memory.

export const RK_MULT: u32 = 0x08104225; // librsync rabinkarp.h
export const RK_INVM: u32 = 0x98f009ad; // RK_MULT^-1 mod 2^32
export const RK_ADJ: u32 = 0x08104224; // (RK_MULT - 1) * seed
export const ROLLSUM_OFFSET: u32 = 31; // librsync rollsum.h ROLLSUM_CHAR_OFFSET

export const KIND_ROLLSUM: i32 = 0;
export const KIND_RABINKARP: i32 = 1;

export function rkPow(n: u32): u32 {
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
export function rkFresh(p: usize, len: usize): u32 {
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

/** librsync's Rollsum (s1, s2) of a fresh window, packed as s2 << 32 | s1. */
export function rollsumFresh(p: usize, len: usize): u64 {
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
  return (<u64>s2 << 32) | <u64>s1;
}

export function rollsumDigest(s1: u32, s2: u32): u32 {
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
      const s = rollsumFresh(p + off, n);
      w = rollsumDigest(<u32>s, <u32>(s >> 32));
    }
    store<u32>(o, w);
    o += 4;
  }
}
