import { describe, expect, it } from 'vitest';
import { nextRetryMs } from './watch.js';

describe('retrying what a watch pass could not sync', () => {
  it('waits 2 s, then twice as long after each failed pass, at most 5 minutes', () => {
    const waits: number[] = [];
    let ms = 0;
    for (let i = 0; i < 10; i += 1) waits.push((ms = nextRetryMs(ms)));
    expect(waits).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
  });
});
