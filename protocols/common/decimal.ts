import { z } from 'zod';

/**
 * Integer parameters (query values, ids in paths, numeric headers and tus metadata) as plain decimal
 * digits only. Number() and z.coerce read '1e3' as 1000, '0x10' as 16, ' 7 ' as 7 and '' as 0: a
 * client that sent any of those meant something else, and a version or offset guessed from it
 * names the wrong data. One parser for every door so they all refuse the same text the same way.
 */
export const DECIMAL_RULE = 'must be a plain decimal integer (digits only: no sign, exponent, hex, point or spaces)';

/** Why `text` is not an integer of at least `min`, or null when it is one. */
export function decimalProblem(text: string, min = 0): string | null {
  if (!/^\d+$/.test(text)) return DECIMAL_RULE;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) return `must be at most ${Number.MAX_SAFE_INTEGER}`;
  if (n < min) return `must be at least ${min}`;
  return null;
}

/** `text` as an integer of at least `min`, or null (see decimalProblem for why). */
export function parseDecimal(text: string, min = 0): number | null {
  return decimalProblem(text, min) === null ? Number(text) : null;
}

/** A zod schema for a string parameter holding an integer of at least `min`. */
export function decimalInteger(min = 0) {
  return z.string().transform((text, ctx) => {
    const problem = decimalProblem(text, min);
    if (problem === null) return Number(text);
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  });
}
