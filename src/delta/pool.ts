// Strong sums (BLAKE2b-256) are most of the work of a signature or delta of a big file. A HashPool
// spreads them over worker threads, which read the job's shared wasm memory and write the digests
// back into it. The job's own thread hashes too whenever the workers are busy, and never waits for
// a job a worker has not started: it takes it back (a state word in shared memory decides who does
// it), so a busy machine whose workers get little CPU never makes a job slower than doing it alone,
// and no work is done twice. Jobs on small inputs never start a pool. A pool may be shared by many
// jobs (pass it in the options) or made and closed by one job. Default size: one worker less than
// the cores (the job's thread is the other), at least one; each worker costs some 20-30 MB.
import { availableParallelism, loadavg } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

const WORKING = 1;
const MINE = 2;
const DONE = 3;
/** A worker that holds a job this long is taken for dead (it cannot be waited for forever). */
const STALL_MS = 60_000;

interface Job {
  words: Int32Array;
  index: number;
  token: number;
}

interface Slot {
  worker: Worker;
  port: MessagePort;
  jobs: Job[]; // submitted, perhaps not finished
  memory: SharedArrayBuffer | undefined; // what the worker was last sent
}

export class HashPool {
  private readonly slots: Slot[] = [];
  private views = new WeakMap<SharedArrayBuffer, Int32Array>();
  private dead = false;
  private token = 3; // queued-job tokens are > DONE, unique among recent jobs

  /**
   * Whether a job should start a pool of its own: not on a machine whose cores are already all busy
   * (load average at or above their count), where extra threads only get a thin share of CPU and
   * the job would wait on them; there one thread does best.
   */
  static worthStarting(): boolean {
    return availableParallelism() > 1 && loadavg()[0]! < availableParallelism();
  }

  static defaultSize(): number {
    return Math.max(1, Math.min(3, availableParallelism() - 1));
  }

  constructor(readonly size = HashPool.defaultSize()) {
    for (let i = 0; i < size; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./hash-worker.mjs', import.meta.url), {
        workerData: { port: port2 },
        transferList: [port2],
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
      });
      worker.on('error', () => {
        this.dead = true; // jobs left queued are taken back by their threads
      });
      worker.unref(); // a pool never keeps the process alive: results are waited for synchronously
      port1.unref();
      this.slots.push({ worker, port: port1, jobs: [], memory: undefined });
    }
  }

  private words(memory: SharedArrayBuffer): Int32Array {
    let v = this.views.get(memory);
    if (!v) this.views.set(memory, (v = new Int32Array(memory)));
    return v;
  }

  private busy(slot: Slot): number {
    slot.jobs = slot.jobs.filter((j) => {
      const v = Atomics.load(j.words, j.index);
      return v === j.token || v === WORKING;
    });
    return slot.jobs.length;
  }

  /** Whether some worker has fewer than `depth` jobs that are not finished. */
  hasRoom(depth = 2): boolean {
    return !this.dead && this.slots.some((s) => this.busy(s) < depth);
  }

  /**
   * Queues BLAKE2b-256 of each `memory[offsets[i] .. +lengths[i]]` on the least busy worker, digests
   * (32 bytes each, in order) to `memory[out ..]`. `state` is the byte offset of a 4-byte-aligned
   * Int32 in `memory`; settle the job with claim(), passing the returned token, before touching
   * any of it (or reusing the state word).
   */
  submit(memory: SharedArrayBuffer, offsets: Uint32Array, lengths: Uint32Array, out: number, state: number): number {
    const words = this.words(memory);
    this.token = this.token >= 0x3fffffff ? DONE + 1 : this.token + 1;
    const token = this.token;
    Atomics.store(words, state >> 2, token);
    const slot = this.slots.reduce((a, b) => (this.busy(b) < this.busy(a) ? b : a));
    slot.jobs.push({ words, index: state >> 2, token });
    const send = slot.memory === memory ? undefined : memory;
    slot.memory = memory;
    slot.port.postMessage({ memory: send, offsets, lengths, out, state, token });
    return token;
  }

  /**
   * Settles a submitted job: true if a worker computed it (the digests are in place), false if the
   * caller must compute them itself (the worker had not started; it will now skip the job).
   * Waits only for a job a worker is in the middle of.
   */
  claim(memory: SharedArrayBuffer, state: number, token: number): boolean {
    const words = this.words(memory);
    const i = state >> 2;
    const was = Atomics.compareExchange(words, i, token, MINE);
    if (was === token) return false;
    if (was === DONE) return true;
    if (Atomics.wait(words, i, WORKING, STALL_MS) === 'timed-out') {
      throw new Error('a strong-sum worker stopped responding');
    }
    return Atomics.load(words, i) === DONE;
  }

  async close(): Promise<void> {
    for (const s of this.slots) s.port.close();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
