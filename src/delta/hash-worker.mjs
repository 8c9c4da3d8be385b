// Worker thread of HashPool (pool.ts): BLAKE2b-256 of byte ranges of a job's shared wasm memory, so
// that strong sums of big files use more than one core without copying the data. Results go back on
// the pool's MessagePort, which the job's thread can also poll synchronously.
// Plain JS so that it runs unchanged under node, tsx and vitest.
import { workerData } from 'node:worker_threads';
import { createBLAKE2b } from 'hash-wasm';

const port = workerData.port;
const hasher = await createBLAKE2b(256);
let mem = new Uint8Array(0);
port.on('message', ({ id, memory, offsets, lengths }) => {
  if (memory) mem = new Uint8Array(memory); // sent only when the job (its memory) changes
  const out = new Uint8Array(offsets.length * 32);
  for (let i = 0; i < offsets.length; i++) {
    hasher.init();
    hasher.update(mem.subarray(offsets[i], offsets[i] + lengths[i]));
    out.set(hasher.digest('binary'), i * 32);
  }
  port.postMessage({ id, digests: out }, [out.buffer]);
});
