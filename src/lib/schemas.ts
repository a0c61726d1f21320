import { z } from 'zod';
import { coded, type FieldError } from './errors.js';

/* Building blocks shared by the components' request schemas. */

export const languageCode = z
  .string()
  .regex(/^[a-z]{2}$/, coded('language_code', 'must be a two-letter ISO 639-1 code such as "fi"'));

export const id = z.uuid(coded('not_an_id', 'must be an id'));

/**
 * An id or slug in a path. Any text is taken: one that names nothing is a 404
 * ("unknown resource"), whatever its form.
 */
export const pathKey = z.string().min(1).max(1000);

/** ISO 8601 date and time with an offset; seconds optional; offset as Z, +02:00, +0200 or +02. */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)$/;
const rfc3339 = z.iso.datetime({ offset: true });
const instantMessage = coded('time_format', 'must be an ISO 8601 time with an offset, e.g. 2026-11-24T09:00:00+02:00');

/** Times outside these are typing mistakes or probes (year 9999 with an offset is year 10000 in UTC). */
const EARLIEST = new Date('2000-01-01T00:00:00Z');
const LATEST = new Date('9999-12-31T23:59:59.999Z');
const years = { from: EARLIEST.getUTCFullYear(), to: LATEST.getUTCFullYear() };
const outOfRange = coded('time_range', `must be between ${years.from} and ${years.to}`, years);

/** A time with an explicit offset, given back as a Date, between 2000 and 9999 in UTC. */
export const instant = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const match = ISO_TIME.exec(value);
    const offset = match?.[3]?.replace(/^([+-]\d{2}):?(\d{2})?$/, (_, hours, minutes = '00') => `${hours}:${minutes}`);
    // Written out in full, the calendar check (no 30 February, no hour 24) is zod's.
    const full = match && `${match[1]}${match[2] ?? ':00'}${offset}`;
    if (!full || !rfc3339.safeParse(full).success) {
      ctx.addIssue({ code: 'custom', message: instantMessage });
      return z.NEVER;
    }
    const date = new Date(full);
    if (date < EARLIEST || date > LATEST) {
      ctx.addIssue({ code: 'custom', message: outOfRange });
      return z.NEVER;
    }
    return date;
  })
  .meta({ format: 'date-time', description: instantMessage });

/**
 * Text of one line, trimmed: no line break or other control character. Names and titles
 * end up in mail headers (From, Subject), vCard lines, CSV cells and page titles.
 */
export const oneLine = z
  .string()
  .trim()
  .regex(/^[^\p{Cc}\p{Zl}\p{Zp}]*$/u, coded('one_line', 'must be one line, without line breaks or control characters'));

export const httpUrl = z.url({ protocol: /^https?$/, message: coded('http_url', 'must be an http(s) URL') }).max(2000);

export const email = z.email(coded('email', 'must be an email address')).max(254);

/** One value per language: `{ "fi": ..., "sv": ... }`. */
export const perLanguage = <T extends z.ZodType>(value: T) => z.record(languageCode, value);

/** Languages used in `value` that are not among `allowed`, as field errors under `path`. */
export function foreignLanguages(path: string, value: Record<string, unknown> | undefined, allowed: readonly string[]): FieldError[] {
  return Object.keys(value ?? {})
    .filter((lang) => !allowed.includes(lang))
    .map((lang) => foreignLanguage(`${path}.${lang}`, lang, allowed));
}

/** `lang` is not among the newsroom's languages `allowed`. */
export const foreignLanguage = (path: string, lang: string, allowed: readonly string[]): FieldError => ({
  path,
  message: `the newsroom has no language "${lang}" (it has ${allowed.join(', ')})`,
  code: 'foreign_language',
  params: { lang, languages: allowed.join(', ') },
});
