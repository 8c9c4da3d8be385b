import { describe, expect, it } from 'vitest';
import { intLen, putInt, resolveSignatureParams, RK_BLAKE2_SIG_MAGIC, BLAKE2_SIG_MAGIC } from './format.js';

describe('resolveSignatureParams (librsync rs_sig_args)', () => {
  it('recommends sqrt(size) rounded down to 128, at least 256', () => {
    expect(resolveSignatureParams({ fileSize: 0 }).blockLen).toBe(256);
    expect(resolveSignatureParams({ fileSize: 65536 }).blockLen).toBe(256);
    expect(resolveSignatureParams({ fileSize: 1_000_000 }).blockLen).toBe(896);
    expect(resolveSignatureParams({ fileSize: 2 ** 30 }).blockLen).toBe(32768);
    expect(resolveSignatureParams({ fileSize: 5 * 2 ** 30 }).blockLen).toBe(73216);
  });
  it('uses 2048-byte blocks when the size is unknown, like rdiff reading a pipe', () => {
    expect(resolveSignatureParams({}).blockLen).toBe(2048);
  });
  it('defaults to RabinKarp with the full 32-byte BLAKE2 sum; -1 gives the minimum', () => {
    expect(resolveSignatureParams({ fileSize: 10 })).toEqual({ magic: RK_BLAKE2_SIG_MAGIC, kind: 'rabinkarp', blockLen: 256, strongLen: 32 });
    expect(resolveSignatureParams({ fileSize: 1_000_000, strongLen: -1 }).strongLen).toBe(7);
    expect(resolveSignatureParams({ strongLen: -1 }).strongLen).toBe(12);
    expect(resolveSignatureParams({ kind: 'rollsum' }).magic).toBe(BLAKE2_SIG_MAGIC);
  });
  it('rejects impossible parameters with a clear error', () => {
    expect(() => resolveSignatureParams({ strongLen: 33 })).toThrow(/strong sum length 33/);
    expect(() => resolveSignatureParams({ blockLen: -5 })).toThrow(/block length/);
    expect(() => resolveSignatureParams({ kind: 'md5' as never })).toThrow(/unknown rolling sum/);
  });
});

describe('command integers', () => {
  it('use the smallest of 1, 2, 4, 8 bytes, big-endian, up to 64-bit offsets', () => {
    expect([0, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32].map(intLen)).toEqual([1, 1, 2, 2, 4, 4, 8]);
    const b = new Uint8Array(8);
    putInt(b, 0, 5 * 2 ** 30 + 7, 8);
    expect([...b]).toEqual([0, 0, 0, 1, 0x40, 0, 0, 7]);
  });
});
