import { z } from 'zod';
import type { AppContext } from '../context.js';
import { defineRoute, type Principal } from '../lib/routes.js';
import { getReleaseForStaff } from '../releases/operations.js';
import { releaseParams } from '../releases/schemas.js';
import { tally } from './counts.js';
import { countReleaseBounces } from '../bounces/repository.js';
import { deliveryReport } from './repository.js';

const counts = z.object({
  total: z.number().int(),
  queued: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  /** Of `failed`: came back (DSN, provider event) after the relay accepted them. */
  bounced: z.number().int(),
  /** Of `sent`: the recipient marked it as spam. */
  complained: z.number().int(),
});

const deliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});

export const deliveriesResponse = counts.extend({
  /** Of `queued`, those a worker is sending right now. */
  sending: z.number().int(),
  languages: z.record(z.string(), counts),
  /** Bounces read for this release's emails, by outcome (temporary ones leave the delivery `sent`). */
  bounces: z.object({ permanent: z.number().int(), transient: z.number().int(), complaint: z.number().int() }),
  firstSentAt: z.string().nullable(),
  lastSentAt: z.string().nullable(),
  failures: z.object({
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
    items: z.array(
      z.object({
        id: z.string(),
        subscriberId: z.string(),
        email: z.string().nullable(),
        language: z.string().nullable(),
        attempts: z.number().int(),
        smtpResponse: z.string().nullable(),
        /** Bounced after the relay accepted it: `smtpResponse` is the bounce's diagnostic. */
        bounced: z.boolean(),
        at: z.string(),
      }),
    ),
  }),
});

export function deliveryRoutes(ctx: AppContext) {
  return [
    defineRoute({
      method: 'get',
      path: '/api/releases/:id/deliveries',
      tag: 'Releases',
      summary: 'Email delivery of a release: counts by state and language, send times, failures with the SMTP reply (paginated)',
      access: 'token',
      params: releaseParams,
      query: deliveriesQuery,
      responses: { 200: { description: 'Delivery report', schema: deliveriesResponse } },
      load: ({ params, principal }: { params: { id: string }; principal: Principal }) => getReleaseForStaff(ctx, params.id, principal),
      async handle({ loaded: release, query }) {
        const [report, bounces] = await Promise.all([deliveryReport(ctx.db, release.id, query), countReleaseBounces(ctx.db, release.id)]);
        const languages = [...new Set(report.counts.map((c) => c.language ?? 'unknown'))];
        return {
          status: 200,
          body: {
            ...tally(report.counts),
            sending: report.counts.filter((c) => c.status === 'sending').reduce((sum, c) => sum + c.count, 0),
            languages: Object.fromEntries(
              languages.map((lang) => [lang, tally(report.counts.filter((c) => (c.language ?? 'unknown') === lang))]),
            ),
            bounces: { permanent: bounces.permanent ?? 0, transient: bounces.transient ?? 0, complaint: bounces.complaint ?? 0 },
            firstSentAt: report.firstSentAt,
            lastSentAt: report.lastSentAt,
            failures: {
              total: report.failureCount,
              limit: query.limit,
              offset: query.offset,
              items: report.failures.map(({ reply, ...f }) => ({ ...f, smtpResponse: reply })),
            },
          },
        };
      },
    }),
  ];
}
