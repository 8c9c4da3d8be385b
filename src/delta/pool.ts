// Strong sums (BLAKE2b-256) are most of the work of a signature or delta of a big file. A HashPool
// spreads them over worker threads, which read the job's shared wasm memory directly (no copies);
// the job's own thread hashes too whenever the workers are busy. Jobs on small inputs never start a
// pool. A pool may be shared by many jobs (pass it in the options) or made and closed by one job.
// Default size: one worker less than the cores (the job's thread is the other), at least one: each
// worker costs some 20-30 MB of memory, so more only pays on machines with cores to spare.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

interface Pending {
  resolve: (digests: Uint8Array) => void;
  reject: (err: Error) => void;
}

export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: Error | undefined;

  constructor(readonly size = Math.max(1, Math.min(3, availableParallelism() - 1))) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./hash-worker.mjs', import.meta.url), {
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
      });
      w.unref(); // an idle pool must not keep the process alive
      w.on('message', ({ id, digests }: { id: number; digests: Uint8Array }) => {
        this.busy[i] = (this.busy[i] ?? 1) - 1;
        if (this.busy[i] === 0) w.unref();
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.resolve(digests);
      });
      w.on('error', (err) => this.fail(err));
      this.workers.push(w);
      this.busy.push(0);
    }
  }

  private fail(err: Error): void {
    this.failed = new Error(`strong-sum worker failed: ${err.message}`);
    for (const p of this.pending.values()) p.reject(this.failed);
    this.pending.clear();
  }

  /** Jobs queued on the least busy worker: callers hash inline instead when this is high. */
  get minQueue(): number {
    return Math.min(...this.busy);
  }

  /** BLAKE2b-256 of each `memory[offsets[i] .. offsets[i] + lengths[i]]`, 32 bytes each, in order.
   * The ranges must stay unchanged until the promise settles. */
  hash(memory: SharedArrayBuffer, offsets: Uint32Array, lengths: Uint32Array): Promise<Uint8Array> {
    if (this.failed) return Promise.reject(this.failed);
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if ((this.busy[i] ?? 0) < (this.busy[best] ?? 0)) best = i;
    const id = this.nextId++;
    this.busy[best] = (this.busy[best] ?? 0) + 1;
    this.workers[best]!.ref(); // keep the process alive while a result is awaited
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[best]!.postMessage({ id, memory, offsets, lengths });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
