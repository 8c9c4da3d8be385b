#!/usr/bin/env node
// The tools nobody here wrote that the tests drive (interop tests and the sync door's peers), in
// one list used by `npm test` (its pretest step) and by CI (`.ci/run`).
//
//   node scripts/test-tools.mjs           check; install what is missing when this machine can
//   node scripts/test-tools.mjs --ci      apt-get update and install every package, always
//   node scripts/test-tools.mjs --list    print the Debian packages, one line
//
// The check only looks for files on PATH (no process is started), so it takes a few milliseconds.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Command the tests run -> the Debian package that provides it. */
export const TOOLS = {
  litmus: 'litmus',
  lftp: 'lftp',
  rclone: 'rclone',
  rdiff: 'rdiff',
  rsync: 'rsync',
  curl: 'curl',
  cadaver: 'cadaver',
  'pure-ftpd': 'pure-ftpd',
  chromium: 'chromium',
  wget: 'wget',
  unzip: 'unzip',
  diff: 'diffutils',
  python3: 'python3',
  syncthing: 'syncthing',
};

// Daemons such as pure-ftpd live in sbin, which a user's PATH often lacks.
const SBIN = ['/usr/sbin', '/sbin'];

function found(command, dirs) {
  for (const dir of dirs) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

export function missingTools(pathVar = process.env.PATH ?? '') {
  const dirs = [...pathVar.split(delimiter).filter(Boolean), ...SBIN];
  return Object.keys(TOOLS).filter((command) => !found(command, dirs));
}

function packagesOf(commands) {
  return [...new Set(commands.map((c) => TOOLS[c]))];
}

function installCommand(packages) {
  return `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  return run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
}

function canInstall() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return process.getuid?.() === 0 && found('apt-get', dirs);
}

function main(args) {
  const every = Object.keys(TOOLS);
  if (args.includes('--list')) {
    console.log(packagesOf(every).join(' '));
    return 0;
  }
  if (args.includes('--ci')) {
    if (!aptInstall(packagesOf(every))) {
      console.error(`test tools: apt-get failed; run: ${installCommand(packagesOf(every))}`);
      return 1;
    }
    return 0;
  }
  const missing = missingTools();
  if (missing.length === 0) return 0;
  const packages = packagesOf(missing);
  if (!canInstall()) {
    console.error(`test tools missing: ${missing.join(' ')}; install them as root with: ${installCommand(packages)}`);
    return 1;
  }
  console.log(`test tools missing: ${missing.join(' ')}; installing with apt-get: ${packages.join(' ')}`);
  if (!aptInstall(packages)) {
    console.error(`test tools: apt-get failed; run: ${installCommand(packages)}`);
    return 1;
  }
  const still = missingTools();
  if (still.length > 0) {
    console.error(`test tools still missing after apt-get: ${still.join(' ')}`);
    return 1;
  }
  console.log('test tools installed');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exit(main(process.argv.slice(2)));
