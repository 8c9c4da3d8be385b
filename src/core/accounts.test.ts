import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { makeCore, type TestCore } from '../../test/helpers/core.js';
import { secretMatches } from '../lib/kdf.js';
import { Accounts } from './accounts.js';
import { LoginGuard } from './guard.js';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

describe('user names are not told by timing (issue 22 item 10)', () => {
  it('an unknown or disabled user costs one Argon2 run at the configured cost, like a wrong password', async () => {
    const kdf = { memoryKiB: 256, iterations: 2 };
    const runs: string[] = [];
    const counting = (encoded: string, password: string) => {
      runs.push(encoded);
      return secretMatches(encoded, password);
    };
    const guard = new LoginGuard({ freeAttempts: 100, banAfter: 100, windowMs: 60_000, banMs: 60_000, maxDelayMs: 0 });
    const accounts = new Accounts(t.core.ctx, guard, kdf, { verify: counting });
    await accounts.createUser('real', 'real-password');
    await accounts.createUser('gone', 'gone-password');
    accounts.setDisabled('gone', true);
    const meta = { address: '192.0.2.1', protocol: 'rest' as const };
    const attempt = async (name: string, secret: string) => {
      const before = runs.length;
      await expect(accounts.authenticate(name, secret, meta)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      return runs.slice(before);
    };

    const wrongPassword = await attempt('real', 'not-it');
    const unknown = await attempt('nobody-here', 'not-it');
    const disabled = await attempt('gone', 'gone-password');
    expect(wrongPassword).toHaveLength(1);
    expect(unknown).toHaveLength(1);
    expect(disabled).toHaveLength(1);
    // The same cost parameters as a real hash (m, t, p), so the same time.
    const cost = (encoded: string) => /\$m=\d+,t=\d+,p=\d+\$/.exec(encoded)?.[0];
    expect(cost(unknown[0]!)).toBe('$m=256,t=2,p=1$');
    expect(cost(unknown[0]!)).toBe(cost(wrongPassword[0]!));
    expect(cost(disabled[0]!)).toBe(cost(wrongPassword[0]!));
    // One dummy hash for the process, not one per attempt (which would cost a hash and a verify).
    expect((await attempt('someone-else', 'x'))[0]).toBe(unknown[0]);
  });
});

describe('a device seen again', () => {
  it('writes its last-seen time once a minute or on a new address, not on every request', async () => {
    let now = 1_000_000;
    const accounts = new Accounts(t.core.ctx, new LoginGuard({ freeAttempts: 100, banAfter: 100, windowMs: 60_000, banMs: 60_000, maxDelayMs: 0 }), { memoryKiB: 64, iterations: 1 }, { now: () => now });
    const user = await accounts.createUser('dev-owner', 'dev-owner-password');
    const d = accounts.registerDevice({ id: user.id, name: user.name, isAdmin: false }, '0123456789abcdef0123', 'laptop', null);
    const seen = () => t.core.ctx.accounts.deviceByTokenHash(createHash('sha256').update(d.token).digest('hex'))!;
    const open = (address: string) => accounts.deviceSession(d.token, 'sync', 'r', address);

    open('192.0.2.1');
    expect(seen()).toMatchObject({ lastSeenAt: 1_000_000, lastAddress: '192.0.2.1' });
    now += 30_000;
    open('192.0.2.1');
    // Each such write committed the pending group commit and synced the WAL on the event loop.
    expect(seen().lastSeenAt).toBe(1_000_000);
    open('192.0.2.7');
    expect(seen()).toMatchObject({ lastSeenAt: 1_030_000, lastAddress: '192.0.2.7' });
    now += 61_000;
    open('192.0.2.7');
    expect(seen().lastSeenAt).toBe(1_091_000);
  });
});

describe('an API token used again', () => {
  it('writes its last use once a minute, not on every request', async () => {
    let now = 5_000_000;
    const accounts = new Accounts(t.core.ctx, new LoginGuard({ freeAttempts: 100, banAfter: 100, windowMs: 60_000, banMs: 60_000, maxDelayMs: 0 }), { memoryKiB: 64, iterations: 1 }, { now: () => now });
    const user = await accounts.createUser('token-owner', 'token-owner-password');
    const tok = accounts.createToken(user.id, 'script');
    const lastUsed = () => t.core.ctx.accounts.tokenByHash(createHash('sha256').update(tok.token).digest('hex'))!.lastUsedAt;

    accounts.authenticateToken(tok.token, { address: '192.0.2.1' });
    expect(lastUsed()).toBe(5_000_000);
    now += 30_000;
    accounts.authenticateToken(tok.token, { address: '192.0.2.1' });
    await accounts.authenticate('token-owner', tok.token, { address: '192.0.2.1', protocol: 'webdav' });
    expect(lastUsed()).toBe(5_000_000);
    now += 31_000;
    accounts.authenticateToken(tok.token, { address: '192.0.2.1' });
    expect(lastUsed()).toBe(5_061_000);
  });
});
