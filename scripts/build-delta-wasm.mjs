// Compiles the delta engine's AssemblyScript source to WebAssembly with the asc compiler from
// node_modules, so a fresh checkout needs nothing but `npm install` (run by the `prepare` script,
// and on demand by src/delta/wasm.ts when the output is missing).
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/delta/assembly/engine.ts');
const output = join(root, 'src/delta/assembly/build/engine.wasm');
mkdirSync(dirname(output), { recursive: true });
// Built beside and renamed into place, so that concurrent builds (parallel test workers finding it
// missing) never let anyone read a half-written module.
const temp = `${output}.${process.pid}.tmp`;

const { error, stderr } = await asc.main([
  source, '-O3', '--runtime', 'stub', '--noAssert',
  '--initialMemory', '64', '--maximumMemory', '32768', '--sharedMemory', '--enable', 'simd', '--enable', 'threads', '-o', temp,
]);
if (error) {
  process.stderr.write(stderr.toString());
  process.stderr.write(`build-delta-wasm: ${error.message}\n`);
  process.exit(1);
}
renameSync(temp, output);
