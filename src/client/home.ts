/**
 * Where the client keeps its own files, outside every synced folder: the credentials (0600) and
 * the state database. $SYNCGATE_CLIENT_HOME, else $XDG_CONFIG_HOME/syncgate-client, else
 * ~/.config/syncgate-client.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Credentials {
  url: string;
  token: string;
  user: string;
  device: { id: number; uuid: string; name: string };
}

export function clientHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SYNCGATE_CLIENT_HOME) return path.resolve(env.SYNCGATE_CLIENT_HOME);
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'syncgate-client');
}

export async function saveCredentials(home: string, creds: Credentials): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const file = path.join(home, 'credentials.json');
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

export async function loadCredentials(home: string): Promise<Credentials | null> {
  try {
    return JSON.parse(await readFile(path.join(home, 'credentials.json'), 'utf8')) as Credentials;
  } catch {
    return null;
  }
}

/** The device's own id, made once and kept: a re-login keeps the same device on the server. */
export async function deviceUuid(home: string): Promise<string> {
  const file = path.join(home, 'device-id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const { randomUUID } = await import('node:crypto');
    const id = randomUUID();
    await mkdir(home, { recursive: true, mode: 0o700 });
    await writeFile(file, `${id}\n`, { mode: 0o600 });
    return id;
  }
}
