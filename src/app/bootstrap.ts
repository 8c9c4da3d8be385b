import path from 'node:path';
import { randomToken } from '../lib/ids.js';
import type { CoreParts } from '../core/index.js';
import type { AppConfig } from './config.js';

export interface FirstStart {
  /** Set only when the admin password was generated now: printed once, never stored in clear. */
  generatedAdminPassword?: string;
}

/** First start: an `admin` account and a `default` root owned by it. Later starts change nothing. */
export async function bootstrap(core: CoreParts, config: AppConfig, dataDir: string): Promise<FirstStart> {
  const out: FirstStart = {};
  let admin = core.accounts.users().find((u) => u.name === 'admin');
  if (!admin) {
    const password = config.admin.password || randomToken(18);
    if (!config.admin.password) out.generatedAdminPassword = password;
    admin = await core.accounts.createUser('admin', password, true);
  }
  if (core.ctx.roots.all().length === 0) {
    const name = config.roots.defaultName;
    const dir = config.roots.defaultDir || path.join(dataDir, 'roots', name);
    // The operator's own setting (roots.defaultDir): not bound by roots.allowedParents.
    await core.roots.create(name, dir, admin.id, undefined, { operator: true });
  }
  return out;
}
