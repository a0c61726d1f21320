import { z } from 'zod';
import { email, languageCode, oneLine, pathKey } from '../lib/schemas.js';
import { slugParams } from '../newsrooms/schemas.js';

export const journalistStatuses = ['active', 'suspended'] as const;
export type JournalistStatus = (typeof journalistStatuses)[number];

/** The languages a journalist reads, in their order: their emails come in the first the release has. */
const languages = z.array(languageCode).min(1).max(20);
const note = z.string().trim().max(2000);

export const createJournalistBody = z.strictObject({
  name: oneLine.min(1).max(200),
  outlet: oneLine.max(200).default(''),
  email,
  /** Default: the newsroom's first language. */
  languages: languages.optional(),
  note: note.default(''),
});

export const updateJournalistBody = z.strictObject({
  name: oneLine.min(1).max(200).optional(),
  outlet: oneLine.max(200).optional(),
  email: email.optional(),
  languages: languages.optional(),
  note: note.optional(),
});

export const journalistParams = slugParams.extend({ id: pathKey });

export type CreateJournalistInput = z.output<typeof createJournalistBody>;
export type UpdateJournalistInput = z.output<typeof updateJournalistBody>;

export const journalistResponse = z.object({
  id: z.string(),
  newsroom: z.string(),
  name: z.string(),
  outlet: z.string(),
  email: z.string(),
  languages: z.array(z.string()),
  note: z.string(),
  status: z.enum(journalistStatuses),
  releaseEmails: z.boolean().describe('Gets the release email at publication (unless a confirmed subscriber, who gets it as one): false once they used its unsubscribe link'),
  unsubscribedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
