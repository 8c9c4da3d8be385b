import path from 'node:path';
import { parseArgs } from 'node:util';
import { openAdminCore } from '../app/admin.js';
import { runServer } from '../app/run.js';
import { isCoreError } from '../core/errors.js';
import type { CoreParts } from '../core/index.js';
import { systemSession } from '../core/session.js';

const USAGE = `usage: syncgate <command>

  start [--config FILE]                      run the gateway in the foreground
  user add NAME [--admin] [--password P]     create a user (password also from SYNCGATE_NEW_PASSWORD)
  user passwd NAME [--password P]            set a password
  user list | user disable NAME | user enable NAME | user delete NAME
  token add USER NAME                        create an API token (printed once)
  root add NAME [--dir DIR] [--owner USER]   create a root (an existing folder is fine)
  root list | root remove NAME
  root policy NAME keep-both|newest-wins|server-wins
                                             what an outdated edit does in the root (conflict policy)
  grant ROOT USER read|write                 share a root with a user
  revoke ROOT USER
  device pair USER                           a one-time code (10 minutes) to log a companion client in
  device list USER                           a user's devices, how far each is behind per root
  client ...                                 the companion client (see syncgate client --help)
  rdiff signature|delta|patch ...            librsync-compatible delta tool (see syncgate rdiff --help)

Admin commands read the same configuration as start (--config FILE, SYNCGATE_* variables).`;

async function readPassword(given: string | undefined): Promise<string> {
  if (given) return given;
  if (process.env.SYNCGATE_NEW_PASSWORD) return process.env.SYNCGATE_NEW_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split('\n')[0]!.trim();
}

async function admin(core: CoreParts, words: string[], flags: Record<string, string | boolean | undefined>): Promise<number> {
  const [noun, verb, a, b, c] = words;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const userId = (name: string) => core.accounts.user(name).id;
  switch (`${noun} ${verb ?? ''}`.trim()) {
    case 'user add':
      out(JSON.stringify(await core.accounts.createUser(a!, await readPassword(flags.password as string), Boolean(flags.admin))));
      return 0;
    case 'user passwd':
      await core.accounts.setPassword(a!, await readPassword(flags.password as string));
      out(`password of ${a} changed`);
      return 0;
    case 'user list':
      for (const u of core.accounts.users()) out(`${u.name}${u.isAdmin ? ' (admin)' : ''}${u.disabled ? ' (disabled)' : ''}`);
      return 0;
    case 'user disable':
    case 'user enable':
      core.accounts.setDisabled(a!, verb === 'disable');
      out(`${a} ${verb}d`);
      return 0;
    case 'user delete':
      core.accounts.deleteUser(a!);
      out(`${a} deleted`);
      return 0;
    case 'token add':
      out(core.accounts.createToken(userId(a!), b!).token);
      return 0;
    case 'root add': {
      const owner = flags.owner ? userId(flags.owner as string) : null;
      // The operator on the machine, who also writes the configuration: roots.allowedParents binds
      // the API (a stolen admin credential), not this command.
      const row = await core.roots.create(a!, (flags.dir as string) ?? path.join(core.ctx.store.dataDir, 'roots', a!), owner, undefined, { operator: true });
      out(`root ${row.name} -> ${row.dir}`);
      return 0;
    }
    case 'device pair': {
      const p = core.devices.pair(userId(a!));
      out(`pairing code for ${a}: ${p.code} (single use, until ${new Date(p.expiresAt).toISOString()})`);
      out(`on the new device: syncgate client login URL --code ${p.code}`);
      return 0;
    }
    case 'device list':
      for (const d of core.devices.list(userId(a!))) {
        const roots = d.roots.map((r) => `${r.root} ${r.behind === 0 ? 'up to date' : `${r.behind} behind`}`).join(', ');
        out(`#${d.id} ${d.name}${d.revoked ? ' (revoked)' : ''}\tlast seen ${d.lastSeenAt ? new Date(d.lastSeenAt).toISOString() : 'never'}\t${roots || 'no root synced yet'}`);
      }
      return 0;
    case 'root list':
      for (const r of core.ctx.roots.all()) out(`${r.name}\t${r.dir}\tconflicts: ${r.conflictPolicy}`);
      return 0;
    case 'root policy': {
      // Through a connection, as every other door sets it: the core checks the name and the value.
      const root = await core.connect(systemSession('core', 'cli')).setConflictPolicy(a!, b);
      out(`root ${root.name}: conflict policy ${root.conflictPolicy}`);
      return 0;
    }
    case 'root remove':
      core.roots.remove(a!);
      out(`root ${a} removed (its folder is left on disk)`);
      return 0;
  }
  if (noun === 'grant' && verb && a && (b === 'read' || b === 'write')) {
    const root = core.ctx.roots.byName(verb) ?? (() => { throw new Error(`root ${verb} does not exist`); })();
    core.ctx.roots.grant(root.id, userId(a), b);
    out(`${a} may ${b} ${verb}`);
    return 0;
  }
  if (noun === 'revoke' && verb && a) {
    const root = core.ctx.roots.byName(verb) ?? (() => { throw new Error(`root ${verb} does not exist`); })();
    core.ctx.roots.revoke(root.id, userId(a));
    out(`${a} no longer has access to ${verb}`);
    return 0;
  }
  void c;
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === 'client') {
    const { runClient } = await import('../client/main.js');
    return runClient(argv.slice(1));
  }
  if (command === 'rdiff') {
    const { runRdiff } = await import('./rdiff.js');
    return runRdiff(argv.slice(1));
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, admin: { type: 'boolean' }, password: { type: 'string' }, dir: { type: 'string' }, owner: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (!command || values.help) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  if (command === 'start') return runServer({ configFile: values.config });
  const core = await openAdminCore(values.config);
  try {
    return await admin(core, positionals, values);
  } catch (err) {
    process.stderr.write(`syncgate: ${isCoreError(err) || err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    core.close();
  }
}
