import { stat } from 'node:fs/promises';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { hashSecret, secretMatches } from './kdf.js';

describe('password hashing (Argon2id)', () => {
  it('hashes with the configured cost and a fresh salt, and verifies', async () => {
    const cost = { memoryKiB: 64, iterations: 1 };
    const a = await hashSecret('correct horse', cost);
    const b = await hashSecret('correct horse', cost);
    expect(a).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
    expect(a).not.toBe(b);
    expect(await secretMatches(a, 'correct horse')).toBe(true);
    expect(await secretMatches(a, 'correct horsE')).toBe(false);
    expect(await secretMatches('not a hash', 'correct horse')).toBe(false);
  });

  it('verifies the hashes stored by earlier versions (made with hash-wasm)', async () => {
    const stored = '$argon2id$v=19$m=19456,t=2,p=1$IlaqmXOlSCKAAPNwjCzY/Q$L7oquh58ZZAAw5VgcNmAQE+f4ttvLel5QGm8fpHcxVg';
    expect(await secretMatches(stored, 'pw-12345678')).toBe(true);
    expect(await secretMatches(stored, 'pw-12345679')).toBe(false);
  });

  it('leaves the event loop free while it works (a wrong password stalled every door for 100 ms)', async () => {
    const stored = await hashSecret('slow to check', { memoryKiB: 65536, iterations: 3 });
    let longestGap = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 2);
    const started = performance.now();
    const matched = await secretMatches(stored, 'wrong guess');
    const took = performance.now() - started;
    clearInterval(tick);
    expect(matched).toBe(false);
    // Computed on the event loop, the longest gap would be the whole computation.
    expect(took).toBeGreaterThan(40);
    expect(longestGap).toBeLessThan(took / 2);
  });

  it('leaves thread-pool room for file I/O while many passwords are checked', async () => {
    const stored = await hashSecret('slow to check', { memoryKiB: 65536, iterations: 3 });
    const started = performance.now();
    const checks = Array.from({ length: 6 }, (_, i) => secretMatches(stored, `guess ${i}`));
    await new Promise((r) => setTimeout(r, 5)); // the checks have taken their threads
    const statStarted = performance.now();
    await stat(os.tmpdir());
    const statTook = performance.now() - statStarted;
    expect(await Promise.all(checks)).toEqual([false, false, false, false, false, false]);
    const oneCheck = (performance.now() - started) / 3; // two at a time
    expect(statTook).toBeLessThan(oneCheck / 2);
  });
});
