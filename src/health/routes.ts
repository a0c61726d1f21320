import { z } from 'zod';
import type { AppContext } from '../context.js';
import { pingStore } from '../lib/db/database.js';
import { defineRoute } from '../lib/routes.js';

const healthResponse = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() });

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await probe();
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : 'failed';
  }
}

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
      summary: 'The database and Redis answer',
      access: 'public',
      responses: {
        200: { description: 'Ready', schema: healthResponse },
        503: { description: 'Not ready', schema: healthResponse },
      },
      async handle() {
        const checks = {
          database: await check(() => pingStore(ctx.store)),
          redis: await check(() => ctx.publication.ping()),
        };
        const ready = Object.values(checks).every((c) => c === 'ok');
        return { status: ready ? 200 : 503, body: { status: ready ? 'ok' : 'unavailable', checks } };
      },
    }),
  ];
}
