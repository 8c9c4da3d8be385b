// Loads the engine compiled from ./assembly/engine.ts. Each signature or delta job gets its own
// instance (its own memory and search state), so concurrent jobs never share state; only the compiled
// module is cached, because compiling is the expensive part and it holds no state.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const wasmPaths = {
  private: fileURLToPath(new URL('./assembly/build/engine.wasm', import.meta.url)),
  shared: fileURLToPath(new URL('./assembly/build/engine-shared.wasm', import.meta.url)),
};
const buildScript = fileURLToPath(new URL('../../scripts/build-delta-wasm.mjs', import.meta.url));

export interface EngineExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  weakSums(kind: number, p: number, len: number, blockLen: number, out: number): void;
  setup(
    kind: number, blockLen: number, n: number, weak: number, strong: number, strongLen: number,
    filter: number, filterBits: number, buckets: number, bucketBits: number, next: number, rot: number,
    buf: number,
  ): void;
  scan(eof: number): number;
  matchStrong(digest: number, prefer: number): number;
  matchStrongFor(digest: number, prefer: number, weak: number, hit: number): number;
  scanBatch(eof: number, maxHits: number, out: number): number;
  resume(pos: number, count: number): void;
  accept(): void;
  setWindow(pos: number, len: number): void;
  getPos(): number;
  getCount(): number;
  getHit(): number;
}

export const KIND_ROLLSUM = 0;
export const KIND_RABINKARP = 1;

const compiled: { private?: Promise<WebAssembly.Module>; shared?: Promise<WebAssembly.Module> } = {};

async function compile(path: string): Promise<WebAssembly.Module> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    // Not built yet (e.g. installed with --ignore-scripts): build it now with the same script.
    await promisify(execFile)(process.execPath, [buildScript]);
    bytes = await readFile(path);
  }
  return WebAssembly.compile(new Uint8Array(bytes));
}

/** A fresh engine instance whose memory is laid out by the caller with `alloc`. */
export class Engine {
  readonly exports: EngineExports;
  private top: number;

  private constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as EngineExports;
    this.top = align(this.exports.heapBase(), 64);
  }

  /** `shared`: memory that HashPool workers can read (a SharedArrayBuffer); slower to copy from. */
  static async create(shared = false): Promise<Engine> {
    const kind = shared ? 'shared' : 'private';
    const module = (compiled[kind] ??= compile(wasmPaths[kind]).catch((err: unknown) => {
      compiled[kind] = undefined;
      throw err;
    }));
    return new Engine(await WebAssembly.instantiate(await module, {}));
  }

  /** Reserves `bytes` of wasm memory (64-byte aligned), growing it as needed. Views made before
   * an alloc may be detached: take `bytes()` views after the last alloc. */
  alloc(bytes: number): number {
    const p = this.top;
    this.top = align(p + bytes, 64);
    const mem = this.exports.memory;
    if (this.top > mem.buffer.byteLength) {
      mem.grow(Math.ceil((this.top - mem.buffer.byteLength) / 65536));
    }
    return p;
  }

  get u8(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }
}

function align(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
