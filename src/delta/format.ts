// librsync 2.x file formats (doc/format.md of librsync): all integers big-endian.
// A signature is: magic, block length, strong-sum length, then per block a 4-byte weak sum and the
// first `strongLen` bytes of the block's BLAKE2b-256. A delta is: magic, then commands (prototab.h).

export const DELTA_MAGIC = 0x72730236;
export const MD4_SIG_MAGIC = 0x72730136;
export const RK_MD4_SIG_MAGIC = 0x72730146;
export const BLAKE2_SIG_MAGIC = 0x72730137; // rollsum + BLAKE2
export const RK_BLAKE2_SIG_MAGIC = 0x72730147; // RabinKarp + BLAKE2, rdiff's default

export const BLAKE2_SUM_LENGTH = 32;
/** librsync's RS_DEFAULT_BLOCK_LEN, used when the basis length is unknown (a pipe). */
export const DEFAULT_BLOCK_LEN = 2048;
/** librsync's RS_DEFAULT_MIN_STRONG_LEN, for `-S -1` when the basis length is unknown. */
export const DEFAULT_MIN_STRONG_LEN = 12;

export type WeakSumKind = 'rabinkarp' | 'rollsum';

/** Codes are rdiff's exit statuses (librsync's rs_result), so the CLI can exit like rdiff. */
export const ResultCode = {
  IO_ERROR: 100,
  SYNTAX_ERROR: 101,
  INPUT_ENDED: 103,
  BAD_MAGIC: 104,
  UNIMPLEMENTED: 105,
  CORRUPT: 106,
  PARAM_ERROR: 108,
} as const;
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

export class DeltaError extends Error {
  constructor(
    readonly code: ResultCode,
    message: string,
  ) {
    super(message);
    this.name = 'DeltaError';
  }
}

export interface SignatureOptions {
  /** Weak (rolling) sum: 'rabinkarp' (rdiff's default) or 'rollsum'. */
  kind?: WeakSumKind;
  /** Block length in bytes; 0 or absent = librsync's recommendation for `fileSize`. */
  blockLen?: number;
  /** Strong-sum bytes kept per block: 0 or absent = 32 (the maximum), -1 = the recommended minimum. */
  strongLen?: number;
  /** Length of the basis, when known (it decides the recommended block and strong-sum lengths). */
  fileSize?: number;
}

export interface SignatureParams {
  magic: number;
  kind: WeakSumKind;
  blockLen: number;
  strongLen: number;
}

function ln2(v: number): number {
  let n = 0;
  while (v >= 2) {
    v = Math.floor(v / 2);
    n++;
  }
  return n;
}

/** Mirrors librsync's rs_sig_args() so our signature headers equal rdiff's. */
export function resolveSignatureParams(opts: SignatureOptions = {}): SignatureParams {
  const kind = opts.kind ?? 'rabinkarp';
  if (kind !== 'rabinkarp' && kind !== 'rollsum') {
    throw new DeltaError(ResultCode.PARAM_ERROR, `unknown rolling sum '${String(kind)}' (use rabinkarp or rollsum)`);
  }
  const size = opts.fileSize;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new DeltaError(ResultCode.PARAM_ERROR, `invalid file size ${size}`);
  }
  let blockLen = opts.blockLen ?? 0;
  if (!Number.isInteger(blockLen) || blockLen < 0 || blockLen > 0x7fffffff) {
    throw new DeltaError(ResultCode.PARAM_ERROR, `invalid block length ${blockLen}`);
  }
  if (blockLen === 0) {
    if (size === undefined) blockLen = DEFAULT_BLOCK_LEN;
    else blockLen = size <= 256 * 256 ? 256 : Math.floor(Math.sqrt(size)) & ~127;
  }
  let strongLen = opts.strongLen ?? 0;
  if (!Number.isInteger(strongLen) || strongLen < -1 || strongLen > BLAKE2_SUM_LENGTH) {
    throw new DeltaError(ResultCode.PARAM_ERROR, `invalid strong sum length ${strongLen} (1..32, 0 = max, -1 = min)`);
  }
  if (strongLen === 0) strongLen = BLAKE2_SUM_LENGTH;
  else if (strongLen === -1) {
    strongLen =
      size === undefined
        ? DEFAULT_MIN_STRONG_LEN
        : 2 + Math.floor((ln2(size + 2 ** 24) + ln2(Math.floor(size / blockLen) + 1) + 7) / 8);
  }
  return { magic: kind === 'rabinkarp' ? RK_BLAKE2_SIG_MAGIC : BLAKE2_SIG_MAGIC, kind, blockLen, strongLen };
}

/** Bytes needed for a delta command parameter: librsync's rs_int_len(). */
export function intLen(v: number): 1 | 2 | 4 | 8 {
  if (v < 0x100) return 1;
  if (v < 0x10000) return 2;
  if (v < 0x100000000) return 4;
  return 8;
}

/** Writes `v` big-endian in `len` bytes at `off`; returns the offset after it. */
export function putInt(buf: Uint8Array, off: number, v: number, len: number): number {
  for (let i = len - 1; i >= 0; i--) {
    buf[off + i] = v % 256;
    v = Math.floor(v / 256);
  }
  return off + len;
}

export const OP_END = 0x00;
export const OP_LITERAL_N1 = 0x41;
export const OP_COPY_N1_N1 = 0x45;
export const OP_COPY_N8_N8 = 0x54;

