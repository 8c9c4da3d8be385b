// Bundles the companion client (src/client/main.ts and the repository modules it imports) into one
// JavaScript file, so `syncgate client ...` starts without compiling TypeScript through tsx (about
// 1 s of wall time and 0.5 s of CPU per start). Run by `prepare` (npm install / npm ci) and by the
// tests' global setup. Packages from node_modules stay imports (better-sqlite3 is native; the
// bundle resolves them from the repository's node_modules like the sources do).
//
// The bundle's first line lists every source file it was made from, with its size and mtime: bin/
// loads the bundle only while every one of them is unchanged (bin/client-bundle.js), and runs the
// sources through tsx otherwise, so an edit is never hidden behind a stale bundle. One file, renamed
// into place: a reader never pairs one build's list with another build's code.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// esbuild comes with tsx (a dependency): take tsx's own copy rather than declaring a second one.
const require = createRequire(import.meta.url);
const esbuild = createRequire(require.resolve('tsx/package.json'))('esbuild');

export const BUNDLE = join(root, 'dist/syncgate-client.mjs');
export const INPUTS_MARK = '// syncgate-client-inputs ';

/**
 * A module that finds files beside itself (the delta engine's WebAssembly and hash worker) reads
 * `import.meta.url`; in the bundle that would be the bundle's URL. Each source file gets its own
 * URL back, written relative to the bundle so the checkout can move.
 */
const ownUrl = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(dirname(BUNDLE), args.path).split(sep).join('/');
      const expr = `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', expr), loader: 'ts' };
    });
  },
};

export async function buildClient() {
  mkdirSync(dirname(BUNDLE), { recursive: true });
  const started = Date.now();
  const result = await esbuild.build({
    entryPoints: [join(root, 'src/client/main.ts')],
    outfile: BUNDLE,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'error',
    plugins: [ownUrl],
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => {
    const st = statSync(join(root, p));
    // A file saved while the build read it may be in the bundle in its old form: record it as
    // changed, so the next start runs the sources (and the next build takes it).
    return { path: p, size: st.size, mtimeMs: st.mtimeMs >= started - 1 ? -1 : st.mtimeMs };
  });
  const temp = `${BUNDLE}.${process.pid}.tmp`;
  writeFileSync(temp, `${INPUTS_MARK}${JSON.stringify(inputs)}\n${result.outputFiles[0].text}`);
  renameSync(temp, BUNDLE);
  return { bundle: BUNDLE, inputs: inputs.length };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { inputs } = await buildClient();
  console.log(`build-client: ${relative(root, BUNDLE)} from ${inputs} source files`);
}
