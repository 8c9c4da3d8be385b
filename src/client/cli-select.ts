/**
 * Selective sync from the command line: `link DIR ROOT --only a/b --only c`, `select DIR PATH...`,
 * `exclude DIR PATH...`, `select DIR --all`. Rules are kept in the state; a running `sync --watch`
 * notices them at its next pass (a full one), like the next `sync`.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { cleanSubPath, Selection } from './selection.js';
import type { ClientState, LinkRow, SelectionRule } from './state.js';

type Out = (line: string) => void;

export async function findLink(state: ClientState, dir: string | undefined): Promise<LinkRow> {
  if (!dir) throw new Error('name the linked folder (DIR)');
  const abs = await realpath(dir).catch(() => path.resolve(dir));
  const l = state.links().find((x) => x.dir === abs);
  if (!l) throw new Error(`${abs} is not linked: run \`syncgate client link DIR ROOT\` first`);
  return l;
}

const within = (p: string, top: string) => p === top || p.startsWith(`${top}/`);

/** Rules after selecting `paths` (or everything), and the folders that now come in (to fetch whole). */
export function select(rules: SelectionRule[], paths: string[], all: boolean): { rules: SelectionRule[]; fetch: string[] } {
  const before = new Selection(rules);
  if (all) return { rules: [], fetch: before.everything ? [] : [''] };
  for (const p of paths) {
    const over = rules.find((r) => r.rule === 'exclude' && within(p, r.path) && r.path !== p);
    if (over) throw new Error(`${over.path} is excluded: select ${over.path} first, then exclude what you do not want in it`);
  }
  // Excludes inside a selected folder go (the whole folder is wanted); with `only` rules, it joins them.
  const dropped = rules.filter((r) => r.rule === 'exclude' && paths.some((p) => within(r.path, p)));
  let next = rules.filter((r) => !dropped.includes(r));
  if (next.some((r) => r.rule === 'only')) next = [...next.filter((r) => !(r.rule === 'only' && paths.some((p) => within(r.path, p)))), ...paths.map((p) => ({ path: p, rule: 'only' as const }))];
  const fetch = paths.filter((p) => !before.includes(p, 'dir') || dropped.some((r) => within(r.path, p)));
  return { rules: next, fetch };
}

export function exclude(rules: SelectionRule[], paths: string[]): SelectionRule[] {
  return [...rules.filter((r) => !paths.some((p) => within(r.path, p))), ...paths.map((p) => ({ path: p, rule: 'exclude' as const }))];
}

export function describeSelection(rules: SelectionRule[]): string {
  if (rules.length === 0) return 'everything';
  const only = rules.filter((r) => r.rule === 'only').map((r) => r.path);
  const ex = rules.filter((r) => r.rule === 'exclude').map((r) => r.path);
  return [only.length ? `only ${only.join(', ')}` : 'everything', ex.length ? `except ${ex.join(', ')}` : ''].filter(Boolean).join(' ');
}

export async function selectCommand(state: ClientState, command: 'select' | 'exclude', args: string[], all: boolean, out: Out): Promise<number> {
  const [dir, ...raw] = args;
  const l = await findLink(state, dir);
  if (!all && raw.length === 0) throw new Error(`usage: syncgate client ${command} DIR PATH...${command === 'select' ? ' | select DIR --all' : ''}`);
  const paths = raw.map(cleanSubPath);
  const rules = state.selection(l.id);
  const next = command === 'select' ? select(rules, paths, all) : { rules: exclude(rules, paths), fetch: [] };
  state.setSelection(l.id, next.rules, next.fetch);
  out(`${l.dir} syncs ${describeSelection(next.rules)}${command === 'exclude' ? ' (the gateway keeps the excluded folders; their copies here go at the next sync)' : ''}`);
  return 0;
}
