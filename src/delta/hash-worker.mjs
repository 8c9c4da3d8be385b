// Worker thread of HashPool (pool.ts): BLAKE2b-256 of byte ranges of a job's shared wasm memory,
// written back into that memory, so strong sums of big files use more than one core without copying
// data or answering by message. Each job has an Int32 state word in the same memory: the job's
// token while queued (a fresh number per job, so that a stale message never takes a reused word),
// 1 taken by this worker, 2 taken by the job's own thread, 3 done here.
// Plain JS so that it runs unchanged under node, tsx and vitest.
import { workerData } from 'node:worker_threads';
import { createBLAKE2b } from 'hash-wasm';

const port = workerData.port;
const hasher = await createBLAKE2b(256);
let mem = new Uint8Array(0);
let words = new Int32Array(0);
port.on('message', ({ memory, offsets, lengths, out, state, token }) => {
  if (memory) {
    // sent only when the job (its memory) changes
    mem = new Uint8Array(memory);
    words = new Int32Array(memory);
  }
  const w = state >> 2;
  if (Atomics.compareExchange(words, w, token, 1) !== token) return; // the job's thread did it itself
  for (let i = 0; i < offsets.length; i++) {
    hasher.init();
    hasher.update(mem.subarray(offsets[i], offsets[i] + lengths[i]));
    mem.set(hasher.digest('binary'), out + i * 32);
  }
  Atomics.store(words, w, 3);
  Atomics.notify(words, w);
});
