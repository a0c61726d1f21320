import { z } from 'zod';
import type { AppContext } from '../context.js';
import { defineRoute, type RouteDefinition } from '../lib/routes.js';
import { LEASE, requestSubscription } from './hub.js';

/** A form field given once (a repeated one is a 400: the request is ambiguous). */
const field = z.string({ message: 'give it once' });

const hubForm = z.object({
  'hub.mode': z.enum(['subscribe', 'unsubscribe']),
  'hub.topic': field.min(1).max(2000),
  'hub.callback': field.min(1).max(2000),
  'hub.lease_seconds': z.coerce.number().int().positive().optional(),
  'hub.secret': field.min(1).optional(),
});

export function websubRoutes(ctx: AppContext): RouteDefinition[] {
  return [
    defineRoute({
      method: 'post',
      path: '/websub',
      tag: 'WebSub',
      summary:
        `WebSub hub: subscribe a callback to one of the feeds (or unsubscribe it). 202: the callback's intent is verified next (a GET with hub.challenge); ` +
        `a lease is ${LEASE.min}-${LEASE.max} s (default ${LEASE.default}); with hub.secret, distributions carry X-Hub-Signature: sha256=HMAC.`,
      access: 'public',
      form: hubForm,
      responses: { 202: { description: 'Accepted: the intent is verified asynchronously' } },
      handle: async ({ body }) => {
        const form = body as unknown as z.output<typeof hubForm>;
        await requestSubscription(ctx, {
          mode: form['hub.mode'],
          topic: form['hub.topic'],
          callback: form['hub.callback'],
          leaseSeconds: form['hub.lease_seconds'],
          secret: form['hub.secret'],
        });
        return { status: 202 };
      },
    }),
  ];
}
