/**
 * The dependency rule of CONVENTIONS.md, checked mechanically over src/** and protocols/**:
 *   src/main -> src/app -> protocols/* -> src/core -> src/db | src/storage | src/delta -> src/lib
 * Every door may import protocols/common (what the HTTP doors share); no door imports another.
 * Test files (*.test.ts) and test-only helpers are exempt: tests may reach any layer.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface Import {
  file: string; // repo-relative, '/' separated
  spec: string; // as written
  target: string; // repo-relative path for relative imports, else the bare specifier
}

function listTs(dir: string): string[] {
  const abs = path.join(REPO, dir);
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const rel = `${dir}/${name}`;
    if (statSync(path.join(REPO, rel)).isDirectory()) out.push(...listTs(rel));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Source without comments (strings kept: a URL's '//' inside quotes is not a comment here). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

export function importsOf(file: string, src: string): Import[] {
  const code = stripComments(src);
  const specs = new Set<string>();
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, // import x from, export * from
    /\bimport\s*['"]([^'"]+)['"]/g, // side-effect import
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // dynamic import
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.add(m[1]!);
  return [...specs].map((spec) => ({
    file,
    spec,
    target: spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : spec,
  }));
}

const isTest = (f: string) => /\.test\.ts$/.test(f) || /(^|\/)testing\.ts$/.test(f);
const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
const protocolOf = (p: string) => (p.startsWith('protocols/') ? p.split('/')[1] : null);
const isSyncClient = (f: string) => under(f, 'src/client') || under(f, 'src/sync-wire') || under(f, 'src/sync') || /^protocols\/sync\/(client|wire)/.test(f);
/**
 * The only door files that read the disk: the web page's own files (public/ and the page's
 * libraries from node_modules), part of the program, never user data or anything in a root.
 */
const PROGRAM_FILES = new Set(['protocols/http/shares/static.ts', 'protocols/http/shares/vendor.ts']);
/** What a door may take from src/core/index as a value: the error type and its helpers. */
const CORE_VALUES_FOR_DOORS = new Set(['fail', 'isCoreError', 'SyncgateError', 'ERROR_CODES']);

/** Names imported as values (not `type`) from src/core/index; `* as` counts as '*'. */
export function coreValuesImported(src: string): string[] {
  const out: string[] = [];
  const code = stripComments(src);
  for (const m of code.matchAll(/\bimport\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]*src\/core\/index(?:\.js)?)['"]/g)) {
    if (m[1]) continue;
    const clause = m[2]!;
    if (/\*\s+as\s+/.test(clause)) out.push('*');
    const named = /\{([^}]*)\}/.exec(clause);
    if (!named) continue;
    for (const raw of named[1]!.split(',')) {
      const n = raw.trim();
      if (n === '' || n.startsWith('type ')) continue;
      out.push(n.split(/\s+as\s+/)[0]!.trim());
    }
  }
  return out;
}
const HTTP_STACK = /^(koa|@koa\/.*|webdav-server|ftp-srv|(node:)?https?|(node:)?http2|ws)(\/.*)?$/;

/** Every violation of the rule in a set of files (file -> source). */
export function violations(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, src] of files) {
    if (isTest(file)) continue;
    const imports = importsOf(file, src);
    const say = (i: Import, why: string) => out.push(`${file}: imports '${i.spec}' (${why})`);
    if (under(file, 'src/core')) {
      if (/\bprocess\.env\b/.test(stripComments(src))) out.push(`${file}: reads process.env (the core gets its settings passed in)`);
      for (const i of imports) {
        if (under(i.target, 'protocols')) say(i, 'the core never imports a protocol');
        if (HTTP_STACK.test(i.target)) say(i, 'the core never imports koa, webdav-server, ftp-srv or HTTP');
      }
    }
    const proto = protocolOf(file);
    if (proto) {
      for (const i of imports) {
        const other = protocolOf(i.target);
        // protocols/common is what every door shares (safe download headers, ...): any door may use it;
        // it, like every door, imports no door.
        if (other && other !== proto && other !== 'common') say(i, 'protocols never import each other');
        if (under(i.target, 'src/db') || under(i.target, 'src/storage')) say(i, 'protocols go through the core, never the stores');
        if (under(i.target, 'src/app')) say(i, 'only the composition root knows every piece');
        if (/^node:fs(\/promises)?$|^fs(\/promises)?$/.test(i.target) && !PROGRAM_FILES.has(file)) say(i, 'a door never touches the disk: the core does');
        // A door reaches the core through its index (the connection, the session, errors and the
        // types the connection returns), never a service or a repository inside it.
        if (under(i.target, 'src/core') && i.target.replace(/\.js$/, '') !== 'src/core/index') say(i, 'a door imports the core only through src/core/index');
      }
      // Through the index, a door takes types and the error helpers, no function of the core: a rule
      // (a lock's coverage, an entity tag's meaning) a door computed itself would be a second copy.
      for (const name of coreValuesImported(src)) {
        if (!CORE_VALUES_FOR_DOORS.has(name)) out.push(`${file}: takes '${name}' from the core (a door gets types, errors and the connection's answers)`);
      }
    }
    // The core's services and stores stay inside the core and the composition root.
    if (!under(file, 'src/core') && !under(file, 'src/app') && !under(file, 'src/db') && !under(file, 'src/cli')) {
      const code = stripComments(src);
      if (/\bcore\.ctx\b/.test(code)) out.push(`${file}: reaches past the connection into the core's context (core.ctx)`);
      for (const i of imports) if (/^src\/db\/.*-repo(\.js)?$/.test(i.target)) say(i, 'repositories are the core\'s');
    }
    // Inside the core, only the repositories (src/db) speak drizzle.
    if (under(file, 'src/core')) {
      for (const i of imports) if (/^drizzle-orm(\/.*)?$/.test(i.target)) say(i, 'drizzle queries live in the repositories (src/db), not in the core');
    }
    for (const i of imports) {
      if (under(i.target, 'src/app') && !under(file, 'src/app') && file !== 'src/main.ts' && !/^src\/cli\/[^/]+\.ts$/.test(file)) {
        say(i, 'nothing imports src/app except src/main.ts, src/cli/*.ts, tests and benchmarks');
      }
    }
    if (isSyncClient(file)) {
      for (const i of imports) {
        if (under(i.target, 'src/core') || under(i.target, 'src/db') || under(i.target, 'src/storage')) say(i, 'the companion client ships without the server core');
        if (under(i.target, 'protocols') || under(i.target, 'src/app') || under(i.target, 'src/cli')) say(i, 'the companion client ships without the server');
        if (under(file, 'src/sync-wire') && i.target.startsWith('src/')) say(i, 'the wire types import nothing of the project');
      }
    }
    // Lower layers never reach up.
    if (['src/db', 'src/storage', 'src/delta', 'src/lib'].some((d) => under(file, d))) {
      for (const i of imports) {
        if (['src/core', 'src/app', 'protocols', 'src/main.ts'].some((d) => under(i.target.replace(/\.js$/, '.ts'), d) || under(i.target, d))) {
          say(i, 'a lower layer never imports the core, the app or a protocol');
        }
      }
    }
    if (under(file, 'src/lib')) {
      for (const i of imports) if (i.target.startsWith('src/') && !under(i.target, 'src/lib')) say(i, 'src/lib depends on nothing of the project');
    }
  }
  return out;
}

describe('dependency rule', () => {
  it('finds imports in every syntax (a self-check of the parser)', () => {
    const src = [
      "import a from '../db/index.js';",
      "import type { B } from 'koa';",
      'import {\n  c,\n  d,\n} from "../../protocols/ftp/index.js";',
      "export * from './x.js';",
      "import 'webdav-server';",
      "const e = await import('node:http');",
      "// import z from 'ignored-comment';",
      "const env = process.env.HOME;",
    ].join('\n');
    const files = new Map([['src/core/bad.ts', src]]);
    expect(importsOf('src/core/bad.ts', src).map((i) => i.target).sort()).toEqual(
      ['koa', 'node:http', 'protocols/ftp/index.js', 'src/core/x.js', 'src/db/index.js', 'webdav-server'].sort(),
    );
    const v = violations(files);
    expect(v.some((x) => x.includes('process.env'))).toBe(true);
    expect(v.filter((x) => x.includes("imports '")).length).toBe(4); // koa, protocols/ftp, webdav-server, node:http
    const proto = violations(new Map([['protocols/webdav/files.ts', "import { x } from '../ftp/index.js';\nimport { y } from '../../src/storage/content-store.js';\nimport { z } from '../../src/app/gateway.js';"]]));
    expect(proto).toHaveLength(4); // src/app is refused twice: by the protocol rule and by the app rule
    const common = violations(new Map([
      ['protocols/webdav/files.ts', "import { safeDownloadHeaders } from '../common/safe-download.js';"],
      ['protocols/common/safe-download.ts', "import { x } from '../http/context.js';"],
    ]));
    expect(common).toEqual([`protocols/common/safe-download.ts: imports '../http/context.js' (protocols never import each other)`]);
    const sealed = violations(new Map([
      ['protocols/ftp/files.ts', "import { readFile } from 'node:fs/promises';\nimport { Locks } from '../../src/core/locks.js';\nimport type { Session } from '../../src/core/index.js';\nconst x = deps.core.ctx.db;"],
      ['src/core/shares.ts', "import { eq } from 'drizzle-orm';"],
    ]));
    expect(sealed).toHaveLength(4); // node:fs, core/locks.js, core.ctx, drizzle in the core
    const values = violations(new Map([
      ['protocols/webdav/props.ts', "import { lockCovers, fail, type EntryInfo } from '../../src/core/index.js';\nimport type { Session } from '../../src/core/index.js';"],
      ['protocols/http/x.ts', "import * as core from '../../src/core/index.js';\nimport {\n  isCoreError,\n  versionOfEtag as v,\n} from '../../src/core/index.js';"],
    ]));
    expect(values).toEqual([
      "protocols/webdav/props.ts: takes 'lockCovers' from the core (a door gets types, errors and the connection's answers)",
      "protocols/http/x.ts: takes '*' from the core (a door gets types, errors and the connection's answers)",
      "protocols/http/x.ts: takes 'versionOfEtag' from the core (a door gets types, errors and the connection's answers)",
    ]);
    const client = violations(new Map([['src/sync/planner.ts', "import { c } from '../core/index.js';"]]));
    expect(client).toHaveLength(1);
  });

  it('holds for src/** and protocols/**', () => {
    const files = new Map<string, string>();
    for (const f of [...listTs('src'), ...listTs('protocols')]) files.set(f, readFileSync(path.join(REPO, f), 'utf8'));
    expect(files.size).toBeGreaterThan(20);
    expect(violations(files)).toEqual([]);
  });
});
