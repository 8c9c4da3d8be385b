import { TOKEN_PREFIX } from './account-secrets.js';
import type { Accounts } from './accounts.js';
import type { Devices } from './devices.js';
import type { Protocol, Session, SessionCredential } from './session.js';

/** Every kind of credential a door may present; each one is counted by the login guard. */
export type Credential =
  /** A user name and a password (or an API token sent as the password: Basic, FTP USER/PASS). */
  | { kind: 'password'; user: string; secret: string }
  /** An API token (`sgt_…`), e.g. a Bearer header. */
  | { kind: 'token'; token: string }
  /** A login session (`sgs_…`): the web page's cookie or a Bearer header. */
  | { kind: 'login-session'; token: string }
  /** A companion client's device token (`sgd_…`): the session carries the device. */
  | { kind: 'device'; token: string }
  /** A one-time pairing code (a companion client's first login); it is used up. */
  | { kind: 'pairing-code'; code: string };

export interface AuthMeta {
  protocol: Protocol;
  requestId: string;
  address?: string;
}

/**
 * Checks a credential and returns the session a door connects with (UNAUTHENTICATED or
 * TOO_MANY_ATTEMPTS otherwise). A password verified within the minute is answered in one step, no
 * async layer (Accounts.recentlyVerified, with the guard's ban checked first); everything else
 * goes the whole way.
 */
export function authenticate(accounts: Accounts, devices: Devices, cred: Credential, meta: AuthMeta): Promise<Session> {
  if (cred.kind === 'password') {
    try {
      const known = accounts.recentlyVerified(cred.user, cred.secret, meta.address);
      if (known) return Promise.resolve({ user: known, credential: 'password', device: null, protocol: meta.protocol, requestId: meta.requestId, address: meta.address });
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return authenticateFully(accounts, devices, cred, meta);
}

async function authenticateFully(accounts: Accounts, devices: Devices, cred: Credential, meta: AuthMeta): Promise<Session> {
  const { protocol, requestId, address } = meta;
  if (cred.kind === 'device') return { ...accounts.deviceSession(cred.token, protocol, requestId, address ?? null), credential: 'device' };
  if (cred.kind === 'pairing-code') return { user: devices.redeemPairingCode(cred.code, address), credential: 'pairing-code', device: null, protocol, requestId, address };
  const { user, tokenId } =
    cred.kind === 'password'
      ? await accounts.authenticateAs(cred.user, cred.secret, { address, protocol })
      : cred.kind === 'login-session'
        ? { user: accounts.resumeLoginSession(cred.token, address), tokenId: undefined }
        : accounts.tokenSession(cred.token, { address });
  // An API token sent as the password (Basic, FTP PASS, the sync door's login) opened a token session.
  const credential: SessionCredential = cred.kind === 'password' ? (cred.secret.startsWith(TOKEN_PREFIX) ? 'token' : 'password') : cred.kind;
  return { user, credential, ...(tokenId === undefined ? {} : { tokenId }), device: null, protocol, requestId, address };
}
