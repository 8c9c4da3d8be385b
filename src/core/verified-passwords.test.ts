/**
 * The verified-password cache (verified-passwords.ts): a password in use costs Argon2 once, a change
 * made through the core ends it at once, a change written beside the gateway within a minute. The
 * clock is the core's (makeCore's now), never a sleep or a patched Date.now.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCore, type TestCore } from '../../test/helpers/core.js';
import { secretMatches } from '../lib/kdf.js';
import { isCoreError } from './errors.js';
import { VERIFIED_FOR_MS, VerifiedPasswords } from './verified-passwords.js';

let t: TestCore;
let clock = 0;
let argon2Runs = 0;
beforeEach(async () => {
  clock = Date.now();
  t = await makeCore({ now: () => clock });
  argon2Runs = 0;
  // Count the full verifications: the cache exists to skip them.
  (t.core.accounts as unknown as { verify: typeof secretMatches }).verify = (encoded, password) => {
    argon2Runs += 1;
    return secretMatches(encoded, password);
  };
});
afterEach(async () => {
  await t.close();
});

const refused = (e: unknown) => isCoreError(e, 'UNAUTHENTICATED');
const login = (name: string, password: string) => t.core.accounts.authenticate(name, password, { protocol: 'webdav' });

describe('verified passwords', () => {
  it('cost one Argon2 run for a client in constant use, across many cache periods', async () => {
    await t.core.accounts.createUser('fay', 'fay-password');
    for (let i = 0; i < 10; i += 1) {
      expect((await login('fay', 'fay-password')).name).toBe('fay');
      clock += VERIFIED_FOR_MS / 2 + 1;
    }
    expect(argon2Runs).toBe(1);
    await expect(login('fay', 'wrong-password')).rejects.toSatisfy(refused);
    expect(argon2Runs).toBe(2);
  });

  it('end at once when the password changes, the account is disabled or deleted through the core', async () => {
    const { accounts } = t.core;
    await accounts.createUser('dave', 'dave-password');
    await login('dave', 'dave-password');
    await accounts.setPassword('dave', 'new-dave-password');
    await expect(login('dave', 'dave-password')).rejects.toSatisfy(refused);
    await login('dave', 'new-dave-password');
    accounts.setDisabled('dave', true);
    await expect(login('dave', 'new-dave-password')).rejects.toSatisfy(refused);
    accounts.setDisabled('dave', false);
    await login('dave', 'new-dave-password');
    accounts.deleteUser('dave');
    await expect(login('dave', 'new-dave-password')).rejects.toSatisfy(refused);
  });

  // The key joined name and password with NUL, which either may hold: 'alice' with 'p\0q...' and
  // 'alice\0p' with 'q...' hashed the same, so the second (no such user) got ann's session from memory.
  it('never answer one name and password from the memory of another pair that joins to the same text', async () => {
    await t.core.accounts.createUser('ann', 'p\u0000q-password');
    expect((await login('ann', 'p\u0000q-password')).name).toBe('ann');
    await expect(login('ann\u0000p', 'q-password')).rejects.toSatisfy(refused);
    expect(t.core.accounts.recentlyVerified('ann\u0000p', 'q-password', undefined)).toBeUndefined();
    expect((await login('ann', 'p\u0000q-password')).name).toBe('ann');
    expect(argon2Runs).toBe(2); // ann's once, and the wrong pair's dummy run: no second run for ann
    // UTF-8 would turn a lone surrogate into U+FFFD: the key keeps them apart.
    const keys = new VerifiedPasswords(() => clock);
    expect(keys.keyOf('a\uD800', 'pw')).not.toBe(keys.keyOf('a\uFFFD', 'pw'));
    expect(keys.keyOf('ann', 'p\u0000q')).not.toBe(keys.keyOf('ann\u0000p', 'q'));
  });

  // The admin CLI beside a running gateway writes the database directly: no call tells this process.
  // A hit answers from memory for a minute, then reads the account again.
  it('see a change written beside the gateway once the minute runs out, not later', async () => {
    const { accounts } = t.core;
    const hal = await accounts.createUser('hal', 'hal-password');
    const ivy = await accounts.createUser('ivy', 'ivy-password');
    const kim = await accounts.createUser('kim', 'kim-password');
    for (const [n, p] of [['hal', 'hal-password'], ['ivy', 'ivy-password'], ['kim', 'kim-password']] as const) await login(n, p);
    t.core.ctx.accounts.updateUser(hal.id, { disabled: true });
    t.core.ctx.accounts.updateUser(ivy.id, { passwordHash: await accounts.hashPassword('ivy-new-password') });
    t.core.ctx.accounts.updateUser(kim.id, { isAdmin: true });
    clock += VERIFIED_FOR_MS - 1;
    expect((await login('hal', 'hal-password')).name).toBe('hal');
    expect((await login('ivy', 'ivy-password')).name).toBe('ivy');
    expect((await login('kim', 'kim-password')).isAdmin).toBe(false);
    clock += 2;
    await expect(login('hal', 'hal-password')).rejects.toSatisfy(refused);
    await expect(login('ivy', 'ivy-password')).rejects.toSatisfy(refused);
    expect((await login('ivy', 'ivy-new-password')).name).toBe('ivy');
    expect((await login('kim', 'kim-password')).isAdmin).toBe(true);
  });

  // Argon2 runs on the thread pool: the account may change while a password is being verified.
  // The verification was against the account as it was; remembering it would let the old password
  // (or a disabled or deleted account) in from memory for a minute after a change made through the core.
  describe('a change made while the password is being verified', () => {
    async function duringVerify(change: () => Promise<unknown> | unknown): Promise<void> {
      let release!: () => void;
      let started!: () => void;
      const inVerify = new Promise<void>((r) => (started = r));
      const gate = new Promise<void>((r) => (release = r));
      const real = (t.core.accounts as unknown as { verify: typeof secretMatches }).verify;
      (t.core.accounts as unknown as { verify: typeof secretMatches }).verify = async (encoded, password) => {
        started();
        await gate;
        return real(encoded, password);
      };
      const first = login('eve', 'eve-password').catch((e: unknown) => e);
      await inVerify;
      await change();
      release();
      await first;
      (t.core.accounts as unknown as { verify: typeof secretMatches }).verify = real;
    }

    it('a new password: the old one is not remembered', async () => {
      await t.core.accounts.createUser('eve', 'eve-password');
      await duringVerify(() => t.core.accounts.setPassword('eve', 'eve-new-password'));
      await expect(login('eve', 'eve-password')).rejects.toSatisfy(refused);
      await expect(t.core.authenticate({ kind: 'password', user: 'eve', secret: 'eve-password' }, { protocol: 'webdav', requestId: 'r' })).rejects.toSatisfy(refused);
      expect((await login('eve', 'eve-new-password')).name).toBe('eve');
    });

    it('a disabled account: not remembered', async () => {
      await t.core.accounts.createUser('eve', 'eve-password');
      await duringVerify(() => t.core.accounts.setDisabled('eve', true));
      await expect(login('eve', 'eve-password')).rejects.toSatisfy(refused);
      await expect(t.core.authenticate({ kind: 'password', user: 'eve', secret: 'eve-password' }, { protocol: 'webdav', requestId: 'r' })).rejects.toSatisfy(refused);
    });

    it('a deleted account: not remembered', async () => {
      await t.core.accounts.createUser('eve', 'eve-password');
      await duringVerify(() => t.core.accounts.deleteUser('eve'));
      await expect(t.core.authenticate({ kind: 'password', user: 'eve', secret: 'eve-password' }, { protocol: 'webdav', requestId: 'r' })).rejects.toSatisfy(refused);
    });
  });

  // Doors call core.authenticate, which answers a remembered password without going the whole way
  // (Accounts.recentlyVerified): the same rules must hold there.
  describe('through core.authenticate (the doors\' way in)', () => {
    const viaCore = (user: string, secret: string, address = '10.0.0.1') =>
      t.core.authenticate({ kind: 'password', user, secret }, { protocol: 'webdav', requestId: 'r', address });

    it('answer from memory, and refuse a banned address even with the right password', async () => {
      await t.core.accounts.createUser('amy', 'amy-password');
      expect((await viaCore('amy', 'amy-password')).user.name).toBe('amy');
      expect((await viaCore('amy', 'amy-password', '10.0.0.2')).user.name).toBe('amy');
      expect(argon2Runs).toBe(1);
      // Guesses at another name from one address ban that address from every account (banAfter 10).
      for (let i = 0; i < 10; i += 1) await expect(viaCore('amy', `guess-${i}`, '10.0.0.66')).rejects.toSatisfy(refused);
      await expect(viaCore('amy', 'amy-password', '10.0.0.66')).rejects.toSatisfy((e) => isCoreError(e, 'TOO_MANY_ATTEMPTS'));
      // Nobody else is locked out by it, amy included.
      expect((await viaCore('amy', 'amy-password', '10.0.0.1')).user.name).toBe('amy');
      expect(argon2Runs).toBe(11);
    });

    it('end at once on a password change or a disabled account, and within the minute for a change beside the gateway', async () => {
      const { accounts } = t.core;
      const bo = await accounts.createUser('bo', 'bo-password');
      await viaCore('bo', 'bo-password');
      await accounts.setPassword('bo', 'bo-new-password');
      await expect(viaCore('bo', 'bo-password')).rejects.toSatisfy(refused);
      await viaCore('bo', 'bo-new-password');
      accounts.setDisabled('bo', true);
      await expect(viaCore('bo', 'bo-new-password')).rejects.toSatisfy(refused);
      accounts.setDisabled('bo', false);
      await viaCore('bo', 'bo-new-password');
      // The admin CLI writes the database directly.
      t.core.ctx.accounts.updateUser(bo.id, { disabled: true });
      clock += VERIFIED_FOR_MS + 1;
      await expect(viaCore('bo', 'bo-new-password')).rejects.toSatisfy(refused);
    });

    it('never answers an API token sent as the password from memory: a revoked one ends at once', async () => {
      const cy = await t.core.accounts.createUser('cy', 'cy-password');
      const { id, token } = t.core.accounts.createToken(cy.id, 'script');
      expect((await viaCore('cy', token)).user.name).toBe('cy');
      t.core.accounts.revokeToken(cy.id, id);
      await expect(viaCore('cy', token)).rejects.toSatisfy(refused);
    });
  });
});
