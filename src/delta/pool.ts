// Strong sums (BLAKE2b-256) are most of the work of a signature or delta of a big file. A HashPool
// spreads them over worker threads, which read the job's shared wasm memory directly (no copies);
// the job's own thread hashes too whenever the workers are busy. Jobs on small inputs never start a
// pool. A pool may be shared by many jobs (pass it in the options) or made and closed by one job.
// Default size: one worker less than the cores (the job's thread is the other), at least one: each
// worker costs some 20-30 MB of memory, so more only pays on machines with cores to spare.
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

interface Pending {
  resolve: (digests: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  port: MessagePort;
  busy: number;
  memory: SharedArrayBuffer | undefined; // what the worker was last sent
}

export class HashPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: Error | undefined;

  constructor(readonly size = Math.max(1, Math.min(3, availableParallelism() - 1))) {
    for (let i = 0; i < size; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./hash-worker.mjs', import.meta.url), {
        workerData: { port: port2 },
        transferList: [port2],
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
      });
      const slot: Slot = { worker, port: port1, busy: 0, memory: undefined };
      port1.on('message', (m: { id: number; digests: Uint8Array }) => this.done(slot, m));
      worker.on('error', (err) => this.fail(err));
      this.idle(slot);
      this.slots.push(slot);
    }
  }

  // An idle pool must not keep the process alive; a busy one must, while its results are awaited.
  private idle(slot: Slot): void {
    slot.worker.unref();
    slot.port.unref();
  }

  private done(slot: Slot, { id, digests }: { id: number; digests: Uint8Array }): void {
    slot.busy--;
    if (slot.busy === 0) this.idle(slot);
    const p = this.pending.get(id);
    this.pending.delete(id);
    p?.resolve(digests);
  }

  private fail(err: Error): void {
    this.failed = new Error(`strong-sum worker failed: ${err.message}`);
    for (const p of this.pending.values()) p.reject(this.failed);
    this.pending.clear();
  }

  /** Jobs queued on the least busy worker, after taking in results that have arrived (without
   * waiting for the event loop): callers hash on their own thread when no worker is free. */
  get minQueue(): number {
    for (const slot of this.slots) {
      for (let m = receiveMessageOnPort(slot.port); m; m = receiveMessageOnPort(slot.port)) this.done(slot, m.message);
    }
    return Math.min(...this.slots.map((s) => s.busy));
  }

  /** BLAKE2b-256 of each `memory[offsets[i] .. offsets[i] + lengths[i]]`, 32 bytes each, in order.
   * The ranges must stay unchanged until the promise settles. */
  hash(memory: SharedArrayBuffer, offsets: Uint32Array, lengths: Uint32Array): Promise<Uint8Array> {
    if (this.failed) return Promise.reject(this.failed);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    slot.worker.ref();
    slot.port.ref();
    const send = slot.memory === memory ? undefined : memory;
    slot.memory = memory;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.port.postMessage({ id, memory: send, offsets, lengths });
    });
  }

  async close(): Promise<void> {
    for (const s of this.slots) s.port.close();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
