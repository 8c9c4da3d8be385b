import { hash, verify, type Algorithm } from '@node-rs/argon2';
import pLimit from 'p-limit';

export interface KdfCost {
  /** Argon2id memory in KiB (OWASP's minimum is 19 MiB) and passes. */
  memoryKiB: number;
  iterations: number;
}

/**
 * Argon2id on the thread pool (@node-rs/argon2, native). hash-wasm computed it on the event loop:
 * about 100 ms during which no request of any door moved, once per user and minute, and on every
 * wrong password, so a guessing client could stall the gateway. Two at a time: the pool (four
 * threads) keeps room for file I/O, and memory stays bounded (each run holds `memoryKiB`).
 */
const runKdf = pLimit(2);
/** Algorithm.Argon2id: a const enum, which isolated modules cannot read. */
const ARGON2ID = 2 as Algorithm;

/** An encoded (PHC) Argon2id hash with a fresh random salt. */
export function hashSecret(password: string, cost: KdfCost): Promise<string> {
  return runKdf(() => hash(password, { algorithm: ARGON2ID, memoryCost: cost.memoryKiB, timeCost: cost.iterations, parallelism: 1, outputLen: 32 }));
}

/** True if `password` matches the encoded hash; false, not an error, for a malformed hash. */
export function secretMatches(encoded: string, password: string): Promise<boolean> {
  return runKdf(() => verify(encoded, password).catch(() => false));
}
