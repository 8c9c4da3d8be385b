// Compiles the delta engine's AssemblyScript source to WebAssembly with the asc compiler from
// node_modules, so a fresh checkout needs nothing but `npm install` (run by the `prepare` script,
// and on demand by src/delta/wasm.ts when the output is missing).
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/delta/assembly/engine.ts');
const outDir = join(root, 'src/delta/assembly/build');
mkdirSync(outDir, { recursive: true });

// Two builds of the same source: engine.wasm with private memory for jobs on one thread, and
// engine-shared.wasm with shared memory that hash worker threads read directly. Copying out of
// shared memory is several times slower in V8, so a single-threaded job should not pay for it.
for (const [name, extra] of [
  ['engine.wasm', ['--maximumMemory', '32768']],
  ['engine-shared.wasm', ['--maximumMemory', '32768', '--sharedMemory', '--enable', 'threads']],
]) {
  const output = join(outDir, name);
  // Built beside and renamed into place, so that concurrent builds (parallel test workers finding
  // it missing) never let anyone read a half-written module.
  const temp = `${output}.${process.pid}.tmp`;
  const { error, stderr } = await asc.main([
    source, '-O3', '--runtime', 'stub', '--noAssert', '--initialMemory', '64', '--enable', 'simd', ...extra, '-o', temp,
  ]);
  if (error) {
    process.stderr.write(stderr.toString());
    process.stderr.write(`build-delta-wasm: ${error.message}\n`);
    process.exit(1);
  }
  renameSync(temp, output);
}
