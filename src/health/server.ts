import type { RequestListener } from 'node:http';
import type { AppContext } from '../context.js';
import { scrapeMetrics } from '../delivery/metrics.js';
import type { Role } from '../lib/config.js';
import { publicChecks, readiness } from './checks.js';

/**
 * The small health endpoint on HEALTH_PORT, for every role: a worker-only process has
 * no other HTTP server, and the container's HEALTHCHECK must mean something for it too.
 * It writes no request log, so a probe every 30 s leaves no trace.
 *   GET /healthz  200 while the process runs its role (503 once it is stopping)
 *   GET /readyz   200 when the database and the file store take a write and Redis answers
 *   GET /metrics  Prometheus text format, without a token: this port is for the
 *                 machines' own network (probes, the scraper), never published
 */
export function healthListener(ctx: AppContext, state: { role: Role; alive: () => boolean }): RequestListener {
  return (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { status: 'method not allowed' });
    if (path === '/healthz') {
      const alive = state.alive();
      return reply(alive ? 200 : 503, { status: alive ? 'ok' : 'unavailable', role: state.role });
    }
    if (path === '/readyz') {
      readiness(ctx).then(
        ({ ready, checks }) => reply(ready ? 200 : 503, { status: ready ? 'ok' : 'unavailable', role: state.role, checks: publicChecks(checks) }),
        () => reply(503, { status: 'unavailable', role: state.role }),
      );
      return;
    }
    if (path === '/metrics') {
      scrapeMetrics(ctx).then(
        ({ contentType, text }) => {
          res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
          res.end(text);
        },
        () => reply(500, { status: 'metrics unavailable' }),
      );
      return;
    }
    reply(404, { status: 'not found' });
  };
}
