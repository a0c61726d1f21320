import { z } from 'zod';
import type { AppContext } from '../context.js';
import { scrapeMetrics } from '../delivery/metrics.js';
import { defineRoute } from '../lib/routes.js';
import { publicChecks, readiness } from './checks.js';

const healthResponse = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() });

export function healthRoutes(ctx: AppContext) {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      tag: 'Health',
      summary: 'The process is up',
      access: 'public',
      responses: { 200: { description: 'Up', schema: healthResponse } },
      handle: () => ({ status: 200, body: { status: 'ok' } }),
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      tag: 'Health',
      // Each check is `ok` or `failed`; with the admin token a failed check carries its error instead.
      summary: 'The database and the file store take a write and Redis answers (errors for the admin token only)',
      access: 'public',
      responses: {
        200: { description: 'Ready', schema: healthResponse },
        503: { description: 'Not ready', schema: healthResponse },
      },
      async handle({ principal }) {
        const { ready, checks } = await readiness(ctx);
        return {
          status: ready ? 200 : 503,
          body: { status: ready ? 'ok' : 'unavailable', checks: principal?.kind === 'admin' ? checks : publicChecks(checks) },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      tag: 'Health',
      summary: 'Prometheus metrics of this process (admin token; without a token, on HEALTH_PORT)',
      access: 'admin',
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' } },
      async handle({ res }) {
        const { contentType, text } = await scrapeMetrics(ctx);
        res.set('Cache-Control', 'no-store').type(contentType).send(text);
      },
    }),
  ];
}
