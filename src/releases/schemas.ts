import { z } from 'zod';
import { contactResponse } from '../contacts/schemas.js';
import { coded } from '../lib/errors.js';
import { id, instant, oneLine, pathKey, perLanguage } from '../lib/schemas.js';
import { slugParams } from '../newsrooms/schemas.js';
import { releaseStatuses } from './visibility.js';

export const releaseTypes = ['press-release', 'news', 'invitation'] as const;

export const limits = {
  title: 300,
  lead: 1500,
  body: 200_000,
  keywordsPerLanguage: 30,
  keyword: 60,
  contacts: 20,
  place: 300,
  /** A correction's note and a withdrawal's reason, per language. */
  note: 500,
} as const;

const translation = z.strictObject({
  title: oneLine.min(1).max(limits.title),
  lead: z.string().trim().max(limits.lead).default(''),
  body: z.string().max(limits.body).default(''),
});

const keywordList = z.array(oneLine.min(1).max(limits.keyword)).max(limits.keywordsPerLanguage);

const contactIds = z.array(id).max(limits.contacts);

const httpsUrl = z.url({ protocol: /^https$/, message: coded('https_url', 'must be an https URL') }).max(2000);

/** An invitation's event: when (an end, if given, after the start), and where: a place, an online link, or both. */
const event = z
  .strictObject({
    startsAt: instant,
    endsAt: instant.nullable().default(null),
    place: z
      .string()
      .trim()
      .max(limits.place)
      .nullable()
      .default(null)
      .transform((place) => place || null),
    onlineUrl: httpsUrl.nullable().default(null),
  })
  .superRefine((value, ctx) => {
    if (value.endsAt && value.endsAt <= value.startsAt) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: coded('end_before_start', 'must be after startsAt') });
    }
    if (!value.place && !value.onlineUrl) {
      ctx.addIssue({ code: 'custom', path: ['place'], message: coded('place_or_link', 'an event needs a place or an onlineUrl') });
    }
  })
  .describe('Invitations only: when and where the event takes place. Times with an offset; the answer gives them in UTC.');

export type EventInput = z.output<typeof event>;

export const createReleaseBody = z.strictObject({
  type: z.enum(releaseTypes).default('press-release'),
  translations: perLanguage(translation).refine((t) => Object.keys(t).length > 0, coded('no_language', 'needs at least one language')),
  keywords: perLanguage(keywordList).default({}),
  contactIds: contactIds.default([]),
  event: event.nullable().default(null),
});

/** In an edit, the fields given replace those of that language; the others stay. */
const translationChange = z.strictObject({
  title: translation.shape.title.optional(),
  lead: z.string().trim().max(limits.lead).optional(),
  body: z.string().max(limits.body).optional(),
});

const note = z.string().trim().min(1).max(limits.note);

/**
 * What an edit of a published release is: a correction, with a public note in each of the
 * release's languages, or a minor edit (typos), without one. Required exactly when the
 * release is public.
 */
export const editKind = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('correction'), note: perLanguage(note) }),
    z.strictObject({ kind: z.literal('minor') }),
  ])
  .describe(
    'Required when editing a published release, refused otherwise: `{ "kind": "correction", "note": { "<lang>": "..." } }` ' +
      '(a note in each language of the release, shown on its pages) or `{ "kind": "minor" }` (typos: no note).',
  );

export type EditKind = z.output<typeof editKind>;

export const updateReleaseBody = z.strictObject({
  type: z.enum(releaseTypes).optional(),
  /** A language given replaces that language only; null removes it. */
  translations: perLanguage(translationChange.nullable()).optional(),
  keywords: perLanguage(keywordList).optional(),
  contactIds: contactIds.optional(),
  /** Replaces the event; null removes it. */
  event: event.nullable().optional(),
  change: editKind.optional(),
  notifyJournalists: z
    .boolean()
    .optional()
    .describe(
      'Scheduled releases only (422 otherwise): email the journalists holding live advance links "updated before publication", ' +
        'with the fields this edit changed, still under embargo. Once per edit; nothing when the edit changes nothing or no link is live.',
    ),
});

export const withdrawBody = z.strictObject({
  reason: perLanguage(note)
    .optional()
    .describe('A short public reason per language (of the release), shown on its pages, which answer 410'),
});

export const scheduleBody = z.strictObject({ publishAt: instant });

export const releaseParams = z.object({ id: pathKey });

export const listReleasesQuery = z.object({
  status: z
    .enum(releaseStatuses)
    .optional()
    .describe('Without a token only `published` (the default then) may be asked for.'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  include: z
    .enum(['body'])
    .optional()
    .describe("`body`: give each translation's Markdown `body` and sanitised `bodyHtml` (left out of lists otherwise)"),
});

export const listReleasesParams = slugParams;

export type CreateReleaseInput = z.output<typeof createReleaseBody>;
export type UpdateReleaseInput = z.output<typeof updateReleaseBody>;

export const attachmentResponse = z.object({
  id: z.string(),
  filename: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  url: z.url(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  webUrl: z.url().nullable(),
  caption: z.record(z.string(), z.string()),
  credit: z.string().nullable(),
  createdAt: z.string(),
});

export const releaseResponse = z.object({
  id: z.string(),
  newsroom: z.string(),
  type: z.enum(releaseTypes),
  status: z.enum(releaseStatuses),
  translations: z.record(
    z.string(),
    z.object({
      title: z.string(),
      lead: z.string(),
      body: z.string().optional().describe('Markdown as written; in lists only with include=body'),
      bodyHtml: z.string().optional().describe('The sanitised HTML of body; in lists only with include=body'),
    }),
  ),
  keywords: z.record(z.string(), z.array(z.string())),
  event: z
    .object({
      startsAt: z.string(),
      endsAt: z.string().nullable(),
      place: z.string().nullable(),
      onlineUrl: z.string().nullable(),
    })
    .nullable()
    .describe("An invitation's event (null for none)"),
  contacts: z.array(contactResponse),
  attachments: z.array(attachmentResponse),
  publishAt: z.string().nullable(),
  publishedAt: z.string().nullable(),
  withdrawnAt: z.string().nullable(),
  corrections: z
    .array(
      z.object({
        id: z.string(),
        kind: z.enum(['correction', 'minor']),
        at: z.string(),
        revision: z.number().int(),
        fields: z.array(z.string()).describe('What the edit changed: `type`, `translations.<lang>.title|lead|body`, `translations.<lang>` (added or removed), `keywords.<lang>`, `contacts`, `event`'),
        note: z.record(z.string(), z.string()).describe('A correction\'s public note per language; empty for a minor edit'),
      }),
    )
    .describe('Edits after publication, oldest first'),
  revision: z.number().int().describe('The version of the public content: 1 at publication, one more per edit while public'),
  withdrawal: z
    .object({ id: z.string(), at: z.string(), reason: z.record(z.string(), z.string()) })
    .nullable()
    .describe('A withdrawn release: when, and its public reason per language (empty for none)'),
  createdAt: z.string(),
  updatedAt: z.string(),
  links: z.object({
    web: z.record(z.string(), z.url()),
    ninjs: z.record(z.string(), z.url()).describe('The release as IPTC ninjs 2.2 JSON, per language (public once published)'),
    ics: z.record(z.string(), z.url()).optional().describe("An invitation's event as iCalendar, per language (when it has one)"),
  }),
});
