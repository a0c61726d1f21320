import { z } from 'zod';
import { journalistResponse } from '../journalists/schemas.js';
import { MAX_INVITATIONS_PER_DAY } from '../lib/config.js';
import { email, instant, languageCode, oneLine, pathKey } from '../lib/schemas.js';
import { slugParams } from '../newsrooms/schemas.js';

/* Request and response shapes of subscriptions; the HTML forms are read into the same shapes. */

export const MAX_KEYWORDS = 50;
export const MAX_IMPORT = 10_000;

export const keywordList = z.array(oneLine.min(1).max(100)).max(MAX_KEYWORDS);
export const languageList = z.array(languageCode).max(20);

export const subscribeBody = z.strictObject({
  email,
  /** The first is the language of the confirmation email and pages; empty means the newsroom's first. */
  languages: languageList.default([]),
  /** Empty: every release. Otherwise only releases carrying one of them (any case, any language). */
  keywords: keywordList.default([]),
});
export type SubscribeInput = z.output<typeof subscribeBody>;

/** The same request as the public pages' HTML form sends it (see pages.ts). */
export const subscribeForm = z.object({
  email: z.string(),
  languages: z.array(languageCode).optional().meta({ description: 'Repeated field, one language each' }),
  keywords: z.string().optional().meta({ description: 'Comma-separated' }),
});

export const subscribeAccepted = z.object({ status: z.literal('accepted'), detail: z.string() });

export const importedSubscriber = z.strictObject({
  email,
  languages: languageList.default([]),
  keywords: keywordList.default([]),
});

export const importBody = z.strictObject({
  consent: z.strictObject({ source: z.string().trim().min(1).max(500), collectedAt: instant }),
  // Each entry is checked on its own so that one bad entry is a rejection, not a refused request.
  subscribers: z.array(z.unknown()).max(MAX_IMPORT, `at most ${MAX_IMPORT} subscribers per request`),
});
export type ImportInput = z.output<typeof importBody>;

export const importResult = z.object({
  imported: z.number().int(),
  updated: z.number().int(),
  rejected: z.array(z.object({ index: z.number().int(), reason: z.string() })),
});

export const invitationBudgetBody = z.strictObject({
  perDay: z
    .number()
    .int()
    .min(0)
    .max(MAX_INVITATIONS_PER_DAY)
    .nullable()
    .meta({ description: 'Addresses the newsroom may invite in 24 hours; 0 turns invitations off; null: the installation\'s INVITATIONS_PER_DAY' }),
});

export const invitationBudgetResponse = z.object({
  perDay: z.number().int().meta({ description: 'Addresses the newsroom may invite in 24 hours' }),
  isDefault: z.boolean().meta({ description: 'True when this is the installation\'s INVITATIONS_PER_DAY, not a number of the newsroom\'s own' }),
  used: z.number().int().meta({ description: 'Addresses invited in the last 24 hours' }),
  left: z.number().int(),
  freesAt: z.string().nullable().meta({ description: 'When the oldest invitation of the last 24 hours stops counting' }),
});

export const subscriberStatus = z.enum(['pending', 'confirmed', 'unsubscribed']);

export const listQuery = z.strictObject({
  status: subscriberStatus.optional(),
  q: z.string().max(254).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});
export type ListQuery = z.output<typeof listQuery>;

export const subscriberParams = slugParams.extend({ id: pathKey });

export const subscriberResponse = z.object({
  id: z.string(),
  newsroom: z.string(),
  email: z.string(),
  status: subscriberStatus,
  languages: z.array(z.string()),
  keywords: z.array(z.string()),
  consent: z.object({
    at: z.string().nullable(),
    source: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    text: z.string().nullable(),
  }),
  hardBounces: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  confirmedAt: z.string().nullable(),
  unsubscribedAt: z.string().nullable(),
});

export const subscriberList = z.object({
  items: z.array(subscriberResponse),
  total: z.number().int().meta({ description: 'Subscribers matching status and q' }),
  limit: z.number().int(),
  offset: z.number().int(),
  counts: z.object({
    status: z.object({ pending: z.number().int(), confirmed: z.number().int(), unsubscribed: z.number().int() }),
    language: z.record(z.string(), z.number().int()).meta({
      description: 'Confirmed subscribers of the whole newsroom per language they read (one in two languages counts in both)',
    }),
  }),
});

export const dataSubjectBody = z.strictObject({ email });

export const dataSubjectExport = z.object({
  email: z.string(),
  subscriptions: z.array(
    subscriberResponse.extend({
      confirmationRequests: z.array(
        z.object({
          createdAt: z.string(),
          sentAt: z.string().nullable(),
          expiresAt: z.string().nullable(),
          usedAt: z.string().nullable(),
          failedAt: z.string().nullable(),
          languages: z.array(z.string()),
          keywords: z.array(z.string()),
        }),
      ),
      deliveries: z.array(z.object({ releaseId: z.string(), status: z.string(), createdAt: z.string(), updatedAt: z.string() })),
    }),
  ),
  journalists: z.array(
    journalistResponse.extend({
      advanceLinks: z.array(
        z.object({
          releaseId: z.string(),
          language: z.string().nullable(),
          createdAt: z.string(),
          sentAt: z.string().nullable(),
          revokedAt: z.string().nullable(),
          openings: z.array(z.object({ openedAt: z.string(), language: z.string(), file: z.string().nullable(), userAgent: z.string() })),
        }),
      ),
    }),
  ),
});

export const erasureResult = z.object({
  erased: z.number().int().meta({ description: 'Subscriber records removed' }),
  erasedJournalists: z.number().int().meta({ description: 'Journalist records removed (their advance links revoked)' }),
});
