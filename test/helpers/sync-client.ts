import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Api } from '../../src/client/api.js';
import { LinkSync, type PassReport } from '../../src/client/engine.js';
import { afterEach, beforeEach } from 'vitest';
import { ClientState } from '../../src/client/state.js';
import { watchLinks, type Watching } from '../../src/client/watch.js';
import { startTestGateway, type TestGateway } from './gateway.js';

export interface TestClient {
  name: string;
  dir: string;
  home: string;
  api: Api;
  token: string;
  deviceId: number;
  state: ClientState;
  sync: LinkSync;
  once(): Promise<PassReport>;
  watch(): Promise<Watching>;
  close(): Promise<void>;
}

/** A companion client with its own state folder and synced folder, logged in as alice, linked to docs. */
export async function startTestClient(t: TestGateway, name: string, root = 'docs', opts: { dir?: string } = {}): Promise<TestClient> {
  const home = await mkdtemp(path.join(os.tmpdir(), `sg-client-${name}-home-`));
  // A linked folder the test chose (on a small disk, say) must exist; it is removed at close too.
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), `sg-client-${name}-dir-`)));
  const anon = new Api(t.url, null);
  const login = await anon.login({ uuid: randomUUID(), name, user: t.alice.name, password: t.alice.password });
  const api = new Api(t.url, login.token);
  const state = new ClientState(home);
  const link = state.link(dir, root);
  const sync = new LinkSync(api, state, link, login.device.id);
  let watching: Watching | null = null;
  return {
    name,
    dir,
    home,
    api,
    token: login.token,
    deviceId: login.device.id,
    state,
    sync,
    once: () => sync.syncOnce(),
    async watch() {
      watching = watchLinks([sync], { url: t.url, token: login.token, say: () => {}, debounceMs: 10, pollMs: 2000 });
      await watching.ready;
      return watching;
    },
    async close() {
      await watching?.stop();
      state.close();
      await rm(home, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A folder's tree, sorted, folders with a trailing slash: what a client's folder holds. */
export async function tree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(`${p}/`, ...(await tree(dir, p)));
    else out.push(p);
  }
  return out.sort();
}

/** A gateway and two clients of alice on root docs, as twoClients gives them to each test. */
export interface TwoClients {
  t: TestGateway;
  a: TestClient;
  b: TestClient;
}

/**
 * Registers the hooks of a file whose tests each get a new gateway and two clients, 'laptop' (a)
 * and 'desktop' (b): `set` receives them before each test (`twoClients((s) => ({ t, a, b } = s))`),
 * and whatever was started is closed after it, a start that failed halfway included.
 */
export function twoClients(set: (s: TwoClients) => void, gateway: Parameters<typeof startTestGateway>[0] = {}): void {
  let open: Partial<TwoClients> = {};
  beforeEach(async () => {
    open = {};
    open.t = await startTestGateway(gateway);
    open.a = await startTestClient(open.t, 'laptop');
    open.b = await startTestClient(open.t, 'desktop');
    set(open as TwoClients);
  });
  afterEach(async () => {
    await open.a?.close();
    await open.b?.close();
    await open.t?.close();
  });
}
