// Worker thread of HashPool (pool.ts): BLAKE2b-256 of byte ranges of a job's shared wasm memory, so
// that strong sums of big files use more than one core without copying the data.
// Plain JS so that it runs unchanged under node, tsx and vitest.
import { parentPort } from 'node:worker_threads';
import { createBLAKE2b } from 'hash-wasm';

const hasher = await createBLAKE2b(256);
parentPort.on('message', ({ id, memory, offsets, lengths }) => {
  const mem = new Uint8Array(memory);
  const out = new Uint8Array(offsets.length * 32);
  for (let i = 0; i < offsets.length; i++) {
    hasher.init();
    hasher.update(mem.subarray(offsets[i], offsets[i] + lengths[i]));
    out.set(hasher.digest('binary'), i * 32);
  }
  parentPort.postMessage({ id, digests: out }, [out.buffer]);
});
