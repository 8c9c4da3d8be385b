import { parseBasicAuth } from '../common/basic-auth.js';
import { isCoreError, fail, type Core, type Session, type SessionUser } from '../../src/core/index.js';
import { sha256Hex, safeEqual } from '../../src/lib/ids.js';
import type { AuthVia, HttpContext, HttpMiddleware } from './context.js';

export const SESSION_COOKIE = 'sg_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOGIN_PATH = '/api/v1/login';
/** Share links' public side: Basic credentials there carry the link's password, not a user's. */
const SHARE_LINK_PREFIX = '/s/';

/** The CSRF token of a cookie session: derived one-way from the session secret, so nothing is stored. */
export function csrfTokenOf(sessionToken: string): string {
  return sha256Hex(`csrf:${sessionToken}`).slice(0, 40);
}

export function setSessionCookie(ctx: HttpContext, token: string, expiresAt: number, secure: boolean): void {
  // Behind a TLS-terminating proxy (publicUrl https) the socket is plain: still mark the cookie Secure.
  if (secure) (ctx.cookies as unknown as { secure: boolean }).secure = true;
  ctx.cookies.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure, path: '/', expires: new Date(expiresAt), overwrite: true });
}

export function clearSessionCookie(ctx: HttpContext, secure: boolean): void {
  if (secure) (ctx.cookies as unknown as { secure: boolean }).secure = true;
  ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', secure, path: '/', expires: new Date(0), overwrite: true });
}

function crossSite(ctx: HttpContext): boolean {
  if (ctx.get('sec-fetch-site') === 'cross-site') return true;
  const origin = ctx.get('origin');
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== ctx.host;
  } catch {
    return true;
  }
}

/**
 * Reads credentials when some were sent: Basic (user + password or API token), Bearer (`sgt_` API
 * token, `sgs_` login session, `sgd_` device token) or the session cookie. Wrong credentials are a
 * 401; none at all leaves the request anonymous (routes use requireUser). Unsafe methods on a cookie
 * session must carry the session's CSRF token in X-CSRF-Token (the cookie is also SameSite=Strict).
 * Under /s/ a Basic header is a share link's password (`curl -u :PASSWORD`) and is not read here.
 */
export function authenticator(core: Core, opts: { secure: boolean; onSession?: (via: AuthVia, user: SessionUser) => void }): HttpMiddleware {
  return async (ctx, next) => {
    const { address, requestId } = ctx.state;
    const header = ctx.get('authorization');
    const meta = { protocol: 'rest' as const, requestId, address };
    let session: Session | null = null;
    let via: AuthVia | undefined;
    if (header) {
      const sp = header.indexOf(' ');
      const scheme = (sp > 0 ? header.slice(0, sp) : header).toLowerCase();
      const value = sp > 0 ? header.slice(sp + 1).trim() : '';
      if (scheme === 'basic' && ctx.path.startsWith(SHARE_LINK_PREFIX)) {
        // Left to the share routes (shares/routes.ts), which check it as the link's password: a
        // user login here would count a link password as a failed login of whatever name came with it.
      } else if (scheme === 'basic') {
        const creds = parseBasicAuth(header) ?? fail('UNAUTHENTICATED', 'malformed Basic credentials');
        // The core remembers verified passwords for a minute: no Argon2 per request.
        session = await core.authenticate({ kind: 'password', user: creds.user, secret: creds.secret }, meta);
        via = 'basic';
      } else if (scheme === 'bearer') {
        if (value.startsWith('sgd_')) {
          session = await core.authenticate({ kind: 'device', token: value }, meta);
          via = 'device';
        } else if (value.startsWith('sgs_')) {
          session = await core.authenticate({ kind: 'login-session', token: value }, meta);
          via = 'login-session';
          ctx.state.loginToken = value;
        } else {
          session = await core.authenticate({ kind: 'token', token: value }, meta);
          via = 'token';
        }
      } else {
        fail('UNAUTHENTICATED', 'unsupported authorization scheme');
      }
    } else if (ctx.method === 'POST' && ctx.path === LOGIN_PATH) {
      // Logging in authenticates by the body alone: a session cookie still present (a closed tab,
      // another user) must neither be checked for CSRF nor stand in for the new login.
    } else {
      const cookie = ctx.cookies.get(SESSION_COOKIE);
      if (cookie) {
        try {
          session = await core.authenticate({ kind: 'login-session', token: cookie }, meta);
          via = 'cookie';
          ctx.state.loginToken = cookie;
        } catch (err) {
          if (!isCoreError(err, 'UNAUTHENTICATED')) throw err;
          clearSessionCookie(ctx, opts.secure); // expired or revoked: the request goes on anonymous
        }
        if (via === 'cookie' && !SAFE_METHODS.has(ctx.method)) {
          const sent = ctx.get(CSRF_HEADER);
          if (!sent || !safeEqual(sent, csrfTokenOf(cookie))) fail('PERMISSION_DENIED', 'missing or wrong CSRF token (X-CSRF-Token)');
        }
      }
    }
    // Browsers replay Basic credentials (and cookies) on cross-site requests: an unsafe request
    // from another site's page is refused whatever authenticated it. Scripts send no Origin.
    if (session && !SAFE_METHODS.has(ctx.method) && crossSite(ctx)) fail('PERMISSION_DENIED', 'cross-site request refused');
    if (session && via) {
      ctx.state.session = session;
      ctx.state.authVia = via;
      opts.onSession?.(via, session.user);
    }
    await next();
  };
}
