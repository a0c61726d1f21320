import { z } from 'zod';
import { id, instant, pathKey } from '../lib/schemas.js';

export const releaseParams = z.object({ id: pathKey });
export const linkParams = z.object({ id: pathKey, linkId: pathKey });

export const giveAdvanceAccessBody = z.strictObject({
  /** When the links are sent; before the publication time. Default: now. */
  opensAt: instant.optional(),
  /** "all": every active accredited journalist of the newsroom (those accredited later too); or the ids of those chosen. */
  journalists: z.union([z.literal('all'), z.array(id).min(1).max(1000)]),
});
export type GiveAdvanceAccessInput = z.output<typeof giveAdvanceAccessBody>;

export const logQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

const journalistRef = z.object({ id: z.string(), name: z.string(), outlet: z.string() });

export const linkResponse = z.object({
  id: z.string(),
  journalist: journalistRef,
  /** pending: not sent yet; sent: live; failed: the address refused it; revoked: dead (revoked, or the journalist suspended or removed). */
  status: z.enum(['pending', 'sent', 'failed', 'revoked']),
  language: z.string().nullable(),
  sentAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  failure: z.string().nullable(),
});

export const advanceAccessResponse = z.object({
  release: z.string(),
  opensAt: z.string(),
  audience: z.enum(['all', 'chosen']),
  revokedAt: z.string().nullable(),
  links: z.array(linkResponse),
  /** "Updated before publication" emails (PATCH /api/releases/:id with notifyJournalists), newest first. */
  updates: z.array(
    z.object({
      id: z.string(),
      at: z.string(),
      fields: z.array(z.string()),
      queued: z.number(),
      sent: z.number(),
      failed: z.number(),
      skipped: z.number(),
    }),
  ),
  /** Where staff read who opened what. */
  log: z.string(),
});

export const openingResponse = z.object({
  id: z.string(),
  linkId: z.string(),
  journalist: journalistRef,
  openedAt: z.string(),
  language: z.string(),
  /** The file opened; null for the page. */
  file: z.object({ attachmentId: z.string(), filename: z.string() }).nullable(),
  /** Hex SHA-256 of the client address (req.ip). */
  addressHash: z.string(),
  userAgent: z.string(),
});
