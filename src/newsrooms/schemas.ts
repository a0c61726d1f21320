import { colordx, extend } from '@colordx/core';
import a11y from '@colordx/core/plugins/a11y';
import { z } from 'zod';
import { coded } from '../lib/errors.js';
import { httpUrl, languageCode, oneLine, pathKey, perLanguage } from '../lib/schemas.js';

/** Top-level path segments of the public site that a newsroom slug may not take. */
const reservedSlugs = new Set(['api', 'files', 'healthz', 'readyz', 'metrics', 'static', 'assets', 'admin', 'staff', 'subscriptions', 'unsubscribe', 'sitemap.xml', 'robots.txt', 'favicon.ico']);

export const newsroomSlug = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, coded('slug_format', 'must be lower-case letters, digits and single hyphens'))
  .refine((slug) => !reservedSlugs.has(slug), coded('slug_reserved', 'is reserved'));

const timezone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, coded('timezone', 'must be an IANA time zone such as Europe/Helsinki'));

/** A profile name, or a full http(s) URL to it. */
const socialHandle = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .refine((v) => !v.includes(':') || /^https?:\/\/\S+$/.test(v), coded('social_handle', 'must be a handle or an http(s) URL'));

const MAX_NETWORKS = 12;

/** Any network by its lower-case name (x, facebook, linkedin, youtube, mastodon, ...). */
const social = z
  .record(z.string().regex(/^[a-z][a-z0-9-]{0,29}$/, coded('social_network', 'must be a network name such as "linkedin"')), socialHandle)
  .refine((links) => Object.keys(links).length <= MAX_NETWORKS, coded('too_many', `takes at most ${MAX_NETWORKS} networks`, { maximum: MAX_NETWORKS }));

const languages = z
  .array(languageCode)
  .min(1)
  .max(12)
  .refine((list) => new Set(list).size === list.length, coded('language_repeated', 'must not repeat a language'));

extend([a11y]);

/** WCAG 2 AA for normal text: the header, buttons and email show white text on the brand colour. */
export const MIN_CONTRAST_WITH_WHITE = 4.5;

/**
 * A brand colour: `#rrggbb` (stored in lower case), refused when white text on it would
 * fall under WCAG AA's 4.5:1.
 */
const brandColor = z
  .string()
  .trim()
  .regex(/^#[0-9a-fA-F]{6}$/, coded('hex_colour', 'must be a colour as #rrggbb, such as #0b4f8a'))
  .transform((colour) => colour.toLowerCase())
  .refine(
    (colour) => colordx(colour).contrast('#ffffff') >= MIN_CONTRAST_WITH_WHITE,
    coded('low_contrast', 'is too light: white text on it must have a contrast of at least 4.5:1 (WCAG AA); choose a darker colour', { minimum: '4.5:1' }),
  );

const name = perLanguage(oneLine.min(1).max(200));
const boilerplate = perLanguage(z.string().trim().max(5000));

export const createNewsroomBody = z.strictObject({
  slug: newsroomSlug,
  languages,
  name,
  boilerplate: boilerplate.default({}),
  timezone: timezone.default('Europe/Helsinki'),
  website: httpUrl.nullable().default(null),
  social: social.default({}),
  brandColor: brandColor.nullable().default(null),
});

export const updateNewsroomBody = z.strictObject({
  languages: languages.optional(),
  name: name.optional(),
  boilerplate: boilerplate.optional(),
  timezone: timezone.optional(),
  website: httpUrl.nullable().optional(),
  social: social.optional(),
  brandColor: brandColor.nullable().optional(),
});

export const slugParams = z.object({ slug: pathKey });

export type CreateNewsroomInput = z.output<typeof createNewsroomBody>;
export type UpdateNewsroomInput = z.output<typeof updateNewsroomBody>;

const links = z.object({
  web: z.record(z.string(), z.url()),
  rss: z.record(z.string(), z.url()),
  ninjs: z.record(z.string(), z.url()).describe('The latest public releases as a JSON list of IPTC ninjs 2.2 items, per language'),
  calendar: z.record(z.string(), z.url()).describe('The upcoming public invitations as an iCalendar feed to subscribe to, per language'),
});

export const newsroomResponse = z.object({
  id: z.string(),
  slug: z.string(),
  languages: z.array(z.string()),
  name: z.record(z.string(), z.string()),
  boilerplate: z.record(z.string(), z.string()),
  timezone: z.string(),
  website: z.string().nullable(),
  social: z.record(z.string(), z.string()),
  brandColor: z.string().nullable().describe('The brand colour (#rrggbb) of the public header, buttons and email; null for the site\'s own. Refused (422) when white text on it has a contrast under 4.5:1 (WCAG AA)'),
  logoUrl: z.url().nullable().describe('The logo (PNG), at a URL that changes when the logo does; null when there is none'),
  links,
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The logo upload, for the API document (the handler streams it with busboy). */
export const logoForm = z.object({
  file: z.file().describe('The logo: a PNG, JPEG or WebP image (read from the bytes; not SVG), at most 2 MB. Stored re-encoded as a PNG of at most 800 x 400 pixels.'),
});

export const logoFileParams = z.object({ slug: pathKey, file: z.string() });
