/**
 * `syncgate client ...`: the companion client. A program of its own: it reaches the gateway only
 * through the sync protocol (src/sync-wire) and never imports the server.
 */
import { mkdir, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ConflictResolution } from '../sync-wire/index.js';
import { Api, ApiError } from './api.js';
import { resolveGateway, runDiscover } from './discover.js';
import { LinkSync } from './engine.js';
import { checkLinkedFolder, FolderUnavailable } from './linked-folder.js';
import { printable } from './failure-text.js';
import { describeSelection, selectCommand } from './cli-select.js';
import { conflictLine } from './conflict-text.js';
import { clientHome, deviceUuid, loadCredentials, saveCredentials, type Credentials } from './home.js';
import { chosenNotifier, tellConflict } from './notify.js';
import { DEFAULT_IGNORES, DEFAULTS_ENV } from './ignore-rules.js';
import { loadIgnore } from './local.js';
import { DEFAULT_CONCURRENCY } from './pass-order.js';
import { terminalProgress } from './progress.js';
import { cleanSubPath } from './selection.js';
import { ClientState } from './state.js';
import { Throttle } from './throttle.js';
import { watchLinks } from './watch.js';

const USAGE = `usage: syncgate client <command>

  discover [--timeout SECONDS]
                          list the gateways that answer over mDNS on this network (name, URL)
  login URL|NAME [--user NAME] [--password P | --token sgt_...] [--code PAIRING-CODE] [--name DEVICE]
                          register this device (password also from SYNCGATE_PASSWORD; a pairing code
                          comes from \`syncgate device pair USER\`); the device token is saved 0600
  link DIR ROOT [--only SUBFOLDER]...
                          keep the folder DIR in sync with the gateway's root ROOT (--only: just
                          these sub-folders, repeatable)
  select DIR PATH... | select DIR --all
                          sync these sub-folders too (they are fetched) / everything again
  exclude DIR PATH...     stop syncing these sub-folders here: their local copies go at the next
                          sync, the gateway keeps them (files with unsent edits stay)
  unlink DIR              stop syncing DIR (its files stay)
  sync [--watch] [--limit KB/s] [--transfers N] [--notify]
                          sync every linked folder once; --watch keeps going in real time;
                          --limit caps the bandwidth of all transfers together (also
                          SYNCGATE_CLIENT_LIMIT_KBPS); --transfers: files moved at once (default 8,
                          also SYNCGATE_CLIENT_TRANSFERS); --notify shows conflicts as desktop
                          notifications (also SYNCGATE_CLIENT_NOTIFY=1)
  status                  per folder: pending changes, last sync, conflicts
  conflicts [resolve ID keep-mine|keep-theirs|keep-both]

State lives in $SYNCGATE_CLIENT_HOME (default ~/.config/syncgate-client), never in a synced folder.
Files named in DIR/.syncgateignore (gitignore syntax) are not synced. By default, new files with
these names are not sent either (temporary or of this machine only):
  ${DEFAULT_IGNORES.map((d) => d.pattern).join('  ')}
Files the gateway holds already keep syncing whatever their name. A line !PATTERN in .syncgateignore
sends such files again (!* as its first line: all of them); ${DEFAULTS_ENV}=off turns the
defaults off in every folder.`;

type Out = (line: string) => void;

async function session(home: string): Promise<{ creds: Credentials; api: Api }> {
  const creds = await loadCredentials(home);
  if (!creds) throw new ApiError('UNAUTHENTICATED', 'not logged in: run `syncgate client login URL` first');
  return { creds, api: new Api(creds.url, creds.token) };
}

async function readSecret(given: string | undefined): Promise<string> {
  if (given) return given;
  if (process.env.SYNCGATE_PASSWORD) return process.env.SYNCGATE_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split('\n')[0]!.trim();
}

export async function runClient(argv: string[], out: Out = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' }, password: { type: 'string' }, token: { type: 'string' }, code: { type: 'string' }, name: { type: 'string' },
      watch: { type: 'boolean' }, limit: { type: 'string' }, transfers: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      only: { type: 'string', multiple: true }, all: { type: 'boolean' }, notify: { type: 'boolean' },
    },
  });
  const [command, ...args] = positionals;
  if (!command || values.help) {
    out(USAGE);
    return command || values.help ? 0 : 2;
  }
  const home = clientHome();
  await mkdir(home, { recursive: true, mode: 0o700 });
  try {
    switch (command) {
      case 'discover':
        return await runDiscover(values.timeout, out);
      case 'login':
        // A name from `discover` is looked up over mDNS first.
        return await login(home, args[0] && (await resolveGateway(args[0])), values, out);
      case 'link':
        return await link(home, args[0], args[1], out, values.only ?? []);
      case 'select':
      case 'exclude': {
        const state = new ClientState(home);
        try {
          return await selectCommand(state, command, args, Boolean(values.all), out);
        } finally {
          state.close();
        }
      }
      case 'unlink':
        return await unlink(home, args[0], out);
      case 'sync':
        return await sync(home, Boolean(values.watch), out, values.limit, values.notify, values.transfers);
      case 'status':
        return await status(home, out);
      case 'help':
        out(USAGE);
        return 0;
      case 'conflicts':
        return await conflicts(home, args, out);
      default:
        out(USAGE);
        return 2;
    }
  } catch (err) {
    // Refused after login: the device token is unknown or revoked, only a new login helps.
    const refused = err instanceof ApiError && err.code === 'UNAUTHENTICATED' && command !== 'login' && err.status === 401;
    // A sync cut off by the network: say that nothing is lost, and what to do (the watch mode retries by itself).
    const cut = command === 'sync' && err instanceof ApiError && err.code === 'UNREACHABLE';
    const hint = refused ? '; this device was refused (revoked?): run `syncgate client login URL` again' : cut ? '; local edits are kept and a transfer cut off goes on from where it stopped: run `syncgate client sync` again once it is back (`sync --watch` retries by itself)' : '';
    process.stderr.write(`syncgate client: ${(err as Error).message}${hint}\n`);
    return err instanceof ApiError && err.code === 'UNREACHABLE' ? 3 : 1;
  }
}

async function login(home: string, url: string | undefined, v: { user?: string; password?: string; token?: string; code?: string; name?: string }, out: Out): Promise<number> {
  if (!url || !/^https?:\/\/[^/]+/.test(url)) throw new Error('login needs the gateway URL, e.g. http://192.168.1.10:8080, or its name from `syncgate client discover`');
  const api = new Api(url, null);
  const uuid = await deviceUuid(home);
  const name = v.name ?? os.hostname();
  const res = v.code
    ? await api.login({ uuid, name, pairingCode: v.code }).catch((err: unknown) => {
        // What to do next: a code works once, for 10 minutes.
        if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') err.message += '; make a new one on the gateway (`syncgate device pair USER`), or log in with --user';
        throw err;
      })
    : await api.login({ uuid, name, user: v.user ?? os.userInfo().username, password: v.token ?? (await readSecret(v.password)) });
  await saveCredentials(home, { url: url.replace(/\/+$/, ''), token: res.token, user: res.user, device: res.device });
  out(`logged in to ${url} as ${res.user}, device "${res.device.name}" (#${res.device.id})`);
  return 0;
}

async function link(home: string, dir: string | undefined, root: string | undefined, out: Out, only: string[]): Promise<number> {
  if (!dir || !root) throw new Error('usage: syncgate client link DIR ROOT [--only SUBFOLDER]...');
  const rules = only.map((p) => ({ path: cleanSubPath(p), rule: 'only' as const }));
  const { api } = await session(home);
  const roots = (await api.roots()).roots;
  const r = roots.find((x) => x.name === root);
  if (!r) throw new Error(`the gateway has no root "${root}" for you (roots: ${roots.map((x) => x.name).join(', ') || 'none'})`);
  await mkdir(dir, { recursive: true });
  const abs = await realpath(dir);
  const realHome = await realpath(home);
  if (realHome === abs || realHome.startsWith(abs + path.sep) || abs.startsWith(realHome + path.sep)) throw new Error('a linked folder may not hold, nor lie in, the client\'s own state folder');
  const state = new ClientState(home);
  try {
    if (state.links().some((l) => l.dir !== abs && (abs.startsWith(l.dir + path.sep) || l.dir.startsWith(abs + path.sep)))) throw new Error('linked folders may not overlap');
    const l = state.link(abs, root);
    if (rules.length) state.setSelection(l.id, rules, []);
  } finally {
    state.close();
  }
  out(`${abs} <-> ${root}${r.access === 'read' ? ' (read-only)' : ''}${rules.length ? `, ${describeSelection(rules)}` : ''}; run \`syncgate client sync\``);
  return 0;
}

async function unlink(home: string, dir: string | undefined, out: Out): Promise<number> {
  if (!dir) throw new Error('usage: syncgate client unlink DIR');
  const abs = await realpath(dir).catch(() => path.resolve(dir));
  const state = new ClientState(home);
  try {
    if (!state.unlink(abs)) throw new Error(`${abs} is not linked`);
  } finally {
    state.close();
  }
  out(`${abs} is no longer synced (its files stay)`);
  return 0;
}

async function sync(home: string, keepWatching: boolean, out: Out, limitKbps?: string, notify?: boolean, transfers?: string): Promise<number> {
  const { creds, api } = await session(home);
  const notifier = chosenNotifier(notify);
  const state = new ClientState(home);
  const progress = terminalProgress();
  const limit = Number(process.env.SYNCGATE_CLIENT_LIMIT_KBPS ?? limitKbps ?? 0);
  const throttle = limit > 0 ? new Throttle(limit * 1024) : undefined;
  const concurrency = Number(process.env.SYNCGATE_CLIENT_TRANSFERS ?? transfers ?? DEFAULT_CONCURRENCY);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error('--transfers takes a whole number from 1 to 64');
  const links = state.links().map((l) => new LinkSync(api, state, l, creds.device.id, { progress, throttle, concurrency }));
  if (links.length === 0) {
    state.close();
    throw new Error('no folder is linked: run `syncgate client link DIR ROOT`');
  }
  if (!keepWatching) {
    let failed = 0;
    // Ctrl-C mid-way: the terminal gets its cursor back (the bars hide it), the files done so far
    // are recorded (their rows in the open batch: else they were hashed again at the next run),
    // and the user hears that nothing is lost. Killed by the default handler, it said nothing.
    const interrupted = (signal: NodeJS.Signals) => {
      progress?.end?.();
      state.close();
      process.stderr.write(`syncgate client: stopped (${signal}); what was sent or fetched is kept, and a big file cut off goes on from where it stopped: run \`syncgate client sync\` again to finish\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
    try {
      for (const l of links) {
        const r = await l.syncOnce().catch((err: unknown) => {
          // This folder only: the others are synced all the same.
          if (!(err instanceof FolderUnavailable)) throw err;
          out(`${l.link.dir}: not synced: ${err.message}`);
          failed += 1;
          return null;
        });
        if (!r) continue;
        out(`${l.link.dir}: ${r.uploaded} up, ${r.downloaded} down, ${r.deleted} deleted, ${r.moved} moved${r.conflicts.length ? `, ${r.conflicts.length} conflict(s)` : ''} (${r.bytesUp} bytes sent, ${r.bytesDown} received)`);
        for (const note of r.conflictNotes) {
          out(`  conflict: ${printable(note)}`);
          tellConflict(notifier, l.link.dir, note);
        }
        for (const e of r.errors) out(`  not synced: ${printable(e)}`);
        failed += r.errors.length;
      }
    } finally {
      process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
      state.close();
    }
    return failed ? 1 : 0;
  }
  const w = watchLinks(links, { url: creds.url, token: creds.token, say: out, notifier });
  await w.ready;
  out(`watching ${links.length} folder(s); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await w.stop();
  state.close();
  return 0;
}

async function status(home: string, out: Out): Promise<number> {
  const { creds, api } = await session(home);
  const state = new ClientState(home);
  try {
    out(`gateway ${creds.url}, user ${creds.user}, device "${creds.device.name}"`);
    for (const l of state.links()) {
      const page = await api.changes(l.root, l.cursor, 1).catch((e: unknown) => e as ApiError);
      const remote = page instanceof ApiError ? `gateway: ${page.message}` : `${page.seq - l.cursor} change(s) to fetch`;
      const open = await api.conflicts(l.root).then((c) => c.conflicts.length).catch(() => 0);
      const there = await checkLinkedFolder(state, l).then(() => null, (err: unknown) => {
        if (err instanceof FolderUnavailable) return err.message;
        throw err;
      });
      if (there) {
        out(`${l.dir} <-> ${l.root}: not synced: ${there}`);
        continue;
      }
      const sync = new LinkSync(api, state, l, creds.device.id);
      const local = await sync.pendingLocal();
      const up = local === 0 && !(page instanceof ApiError) && page.seq === l.cursor;
      const rules = state.selection(l.id);
      out(`${l.dir} <-> ${l.root}: ${up ? 'up to date' : `${local} local change(s) to send, ${remote}`}; last sync ${l.lastSyncAt ? new Date(l.lastSyncAt).toISOString() : 'never'}; ${open} conflict(s)${rules.length ? `; syncs ${describeSelection(rules)}` : ''}; ${defaultsLine((await loadIgnore(l.dir)).defaultsOn().length)}`);
    }
  } finally {
    state.close();
  }
  return 0;
}

/** Whether the default ignore patterns are on here, and how to change that (see `help`). */
function defaultsLine(on: number): string {
  if (on === 0) return 'default ignores off';
  const of = DEFAULT_IGNORES.length;
  return `default ignores on (${on === of ? 'all' : `${on} of`} ${of} patterns: temporary files, .DS_Store...; \`syncgate client help\` says which and how to turn them off)`;
}

const RESOLUTION: Record<string, ConflictResolution> = { 'keep-mine': 'keep-incoming', 'keep-theirs': 'keep-server', 'keep-both': 'keep-both' };

async function conflicts(home: string, args: string[], out: Out): Promise<number> {
  const { api } = await session(home);
  const state = new ClientState(home);
  const links = state.links();
  state.close();
  if (args[0] === 'resolve') {
    const id = Number(args[1]);
    const how = RESOLUTION[args[2] ?? ''];
    if (!Number.isInteger(id) || !how) throw new Error('usage: syncgate client conflicts resolve ID keep-mine|keep-theirs|keep-both');
    for (const root of new Set(links.map((l) => l.root))) {
      if ((await api.conflicts(root)).conflicts.some((c) => c.id === id)) {
        await api.resolve(root, id, how);
        out(`conflict ${id} resolved (${args[2]}); run \`syncgate client sync\` to fetch the result`);
        return 0;
      }
    }
    throw new Error(`no open conflict ${id}`);
  }
  let n = 0;
  for (const root of new Set(links.map((l) => l.root))) {
    for (const c of (await api.conflicts(root)).conflicts) {
      n += 1;
      out(conflictLine(root, c));
    }
  }
  if (n === 0) out('no conflicts');
  return 0;
}
