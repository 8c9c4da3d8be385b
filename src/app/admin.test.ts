import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { body, makeCore, type TestCore } from '../../test/helpers/core.js';
import { openAdminCore } from './admin.js';

let t: TestCore;
afterEach(async () => {
  await t.close();
});

describe('admin commands beside a running gateway', () => {
  // `syncgate user add` (or any admin command) while the gateway runs opened the core with its
  // start-up clean-up, which dropped the gateway's staging files: uploads in flight failed.
  it('leave the gateway staging files alone', async () => {
    t = await makeCore();
    const staged = await t.core.ctx.store.stage(body('an upload in flight'));
    const config = path.join(t.dir, 'admin.json');
    await writeFile(config, JSON.stringify({ data: { dir: t.dir } }));
    const admin = await openAdminCore(config);
    try {
      expect(admin.accounts.users().map((u) => u.name)).toContain('alice');
    } finally {
      admin.close();
    }
    expect(existsSync(staged.tempPath)).toBe(true);
    await t.core.vfs.write(t.admin, 'docs', 'after.txt', body('still works'));
  });
});
