/**
 * `npm run bench`: runs every bench/*.ts in turn (each measures syncgate and its peer in the same run
 * and prints ratios). Arguments select benchmarks by name: `npm run bench -- core webdav`.
 * A failing benchmark is reported and the others still run; the exit code is non-zero if any failed.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, '')))
  .sort();

const failed: string[] = [];
for (const file of files) {
  console.log(`\n######## bench/${file}`);
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, file)], { stdio: 'inherit' });
    child.on('exit', (c) => resolve(c));
    child.on('error', () => resolve(1));
  });
  console.log(`######## bench/${file}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (code !== 0) failed.push(file);
}
if (files.length === 0) console.log('no benchmark matched');
if (failed.length > 0) {
  console.log(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
