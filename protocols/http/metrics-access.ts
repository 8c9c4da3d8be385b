import { fail } from '../../src/core/index.js';
import { safeEqual } from '../../src/lib/ids.js';
import type { HttpContext, HttpDeps } from './context.js';

/**
 * GET /metrics on the main port. Prometheus' text names users' activity per door and the
 * process's inner state: not for strangers. It answers to an administrator's credentials (Basic, an
 * admin's API token as Bearer, or a cookie session), or to `Authorization: Bearer <http.metricsToken>`
 * when one is set: a scraper's secret that opens nothing else. With `http.metricsPort` set the
 * metrics live on that listener only (see src/app/metrics-listener.ts) and this path is a 404.
 */
export function metricsHandler(deps: HttpDeps): (ctx: HttpContext) => Promise<void> {
  const { metricsToken, metricsPort } = deps.options;
  const serve = async (ctx: HttpContext) => {
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.metrics();
  };
  return async (ctx) => {
    if (metricsPort !== null) fail('NOT_FOUND', 'metrics are served on their own port');
    if (metricsToken && scraperToken(ctx.get('authorization'), metricsToken)) return serve(ctx);
    // Checked here, not by the /api/ middleware: a metrics token is no API credential to count as a failure.
    await deps.authenticate(ctx as Parameters<HttpDeps['authenticate']>[0], async () => {});
    const session = ctx.state.session ?? fail('UNAUTHENTICATED', 'metrics need an administrator or the metrics token');
    deps.core.connect(session).requireAdmin('read the metrics (a scraper sends the metrics token)');
    await serve(ctx);
  };
}

/** True when an Authorization header carries the configured metrics token as a Bearer. */
export function scraperToken(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && safeEqual(m[1]!, token);
}
