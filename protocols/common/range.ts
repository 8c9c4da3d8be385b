/**
 * One `Range: bytes=` range (RFC 9110 14.1.2) against a representation of `size` bytes, for every
 * HTTP door: `first-last`, `first-` or `-suffix`, with `end` inclusive and cut to the last byte.
 * Several ranges, another unit or a malformed header mean the whole content (null), as RFC 9110
 * allows; a range that starts past the end (any range of an empty file) is 'unsatisfiable' (416).
 */
export function parseByteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
