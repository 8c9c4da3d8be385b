import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** V8's %GetOptimizationStatus bits (src/runtime/runtime.h, V8 11.3 of Node 20). */
const BASELINE = 1 << 15;
const INTERPRETED = 1 << 7;

/**
 * The gateway's process as src/main.ts starts it: engine-flags imported first, then a function of
 * the program called once, as a rarely run path (a big GET after an upload) is. Its V8 status is
 * read in a process of its own (flags are per process).
 */
function statusAfterOneCall(): number {
  const script = [
    `await import(${JSON.stringify(path.join(REPO, 'src/app/engine-flags.ts'))});`,
    // Compiled after the flags were set, as every module of the program is.
    'const rare = new Function("a", "b", "let s = 0; for (const x of [a, b]) s += x.length; return s;");',
    'rare("ab", "c");',
    'const status = new Function("f", "return %GetOptimizationStatus(f)");',
    'process.stdout.write(String(status(rare)));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
  return Number(out.trim());
}

describe('engine flags of the gateway process', () => {
  it('runs a function as baseline machine code from its first call, not in the interpreter', () => {
    const status = statusAfterOneCall();
    expect(status & BASELINE).toBe(BASELINE);
    expect(status & INTERPRETED).toBe(0);
  });
});
