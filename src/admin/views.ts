import { fileURLToPath } from 'node:url';
import type { Request, Response } from 'express';
import Handlebars from 'handlebars';
import { AppError, type ErrorParams, type FieldError } from '../lib/errors.js';
import { formatDateTime, formatSize, hasString, type InterfaceLanguage, interfaceLanguages, t } from '../lib/i18n.js';
import { registerHelper, registerPartials } from '../lib/templates.js';
import type { Newsroom } from '../newsrooms/repository.js';

/*
 * Rendering of the staff pages: headers every page gets (strict CSP, no-store), the
 * interface language, and form fields with the errors the operations reported at
 * their paths (`translations.fi.title`), shown next to the field and in a summary, in
 * the interface language (the operations and the API speak English).
 */

// The layout and form pieces every page uses, as `admin/<file>`.
registerPartials('admin', fileURLToPath(new URL('partials/', import.meta.url)));

/** A time in `zone`, labelled with it: every time the staff app shows says which zone it is in. */
export const zonedText = (lang: string, iso: string, zone: string) => t(lang, 'admin.time.zoned', { time: formatDateTime(lang, iso, zone), zone });

/*
 * `{{zoned iso}}`: a <time> in the page's `timezone` (`{{zoned iso timezone=zone}}` another),
 * labelled with the zone. `{{formatSize bytes}}`: a size as the interface language writes it.
 */
registerHelper('zoned', function (iso: string, options: Handlebars.HelperOptions) {
  const root = (options.data?.root ?? {}) as { lang?: string; timezone?: string };
  const zone = (options.hash as { timezone?: string }).timezone ?? root.timezone ?? 'UTC';
  if (!iso) return '';
  const escape = Handlebars.Utils.escapeExpression;
  return new Handlebars.SafeString(`<time datetime="${escape(iso)}">${escape(zonedText(root.lang ?? 'en', iso, zone))}</time>`);
});
registerHelper('formatSize', function (bytes: number, options: Handlebars.HelperOptions) {
  return formatSize((options.data?.root as { lang?: string } | undefined)?.lang ?? 'en', Number(bytes));
});

export const LANG_COOKIE = 'nr_admin_lang';

/** No inline script or style, nothing from elsewhere; the preview's images stay out too. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function pageHeaders(res: Response): void {
  res.set({
    'Content-Security-Policy': CSP,
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  });
}

/** `?lang=` (remembered in a cookie), else the cookie, else Accept-Language, else English. */
export function chooseLanguage(req: Request, res: Response, cookie: string | undefined): InterfaceLanguage {
  const isKnown = (lang: unknown): lang is InterfaceLanguage => (interfaceLanguages as readonly unknown[]).includes(lang);
  const asked = req.query.lang;
  if (isKnown(asked)) {
    res.cookie(LANG_COOKIE, asked, { sameSite: 'lax', path: '/admin', maxAge: 365 * 24 * 3600 * 1000, httpOnly: true });
    return asked;
  }
  if (isKnown(cookie)) return cookie;
  const accepted = req.headers['accept-language'] ? req.acceptsLanguages(...interfaceLanguages) : undefined;
  return isKnown(accepted) ? accepted : 'en';
}

/** `key` in `lang` when the catalogue has it, else the English the operation gave. */
const worded = (lang: InterfaceLanguage, key: string | undefined, params: ErrorParams | undefined, english: string) =>
  key && hasString(key) ? t(lang, key, params) : english;

/** A field error in the interface language, from its code. */
export const fieldErrorText = (lang: InterfaceLanguage, error: FieldError) =>
  worded(lang, error.code && `admin.fieldError.${error.code}`, error.params, error.message);

/** A refusal's sentence for the page in the interface language: its reason's, else its kind's. */
export function problemText(lang: InterfaceLanguage, error: unknown): string {
  if (!(error instanceof AppError)) return t(lang, 'admin.problem.client-error');
  const reason = error.reason ?? { code: error.code };
  return worded(lang, `admin.problem.${reason.code}`, reason.params, error.message);
}

/** An upload's refusal that its form shows (a forged one, without the CSRF token, gets the error page). */
export const isShownRefusal = (error: unknown): error is AppError => error instanceof AppError && error.status < 500 && error.code !== 'csrf';

/** A refused upload in one sentence: the refusal, then each field error, in the interface language. */
export const uploadProblemText = (lang: InterfaceLanguage, error: AppError) =>
  [problemText(lang, error), ...error.errors.map((e) => `${e.path}: ${fieldErrorText(lang, e)}`)].join(' ');

/** The interface language chosen for this request (see chooseLanguage). */
export const langOf = (res: Response): InterfaceLanguage => res.locals.lang as InterfaceLanguage;

/** The newsroom's name in `lang`, else in its first language. */
export const newsroomName = (newsroom: Newsroom, lang: string) => newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? newsroom.slug;

/** A language's name, in the interface language. */
export const languageName = (lang: string, ui: string) => new Intl.DisplayNames([ui], { type: 'language' }).of(lang) ?? lang;

export interface Field {
  name: string;
  id: string;
  value: string;
  errors: string[];
  errorId: string;
}

const fieldId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** The errors that belong to the field `name`: at its path or below it (`keywords.fi.2`). */
const belongsTo = (path: string, name: string) => path === name || path.startsWith(`${name}.`);

export class FormState {
  constructor(
    /** The interface language the errors are worded in. */
    readonly lang: InterfaceLanguage,
    readonly values: Map<string, string> = new Map(),
    readonly errors: FieldError[] = [],
    /** Keeps ids unique where a page has several forms with the same fields. */
    private readonly idPrefix = '',
  ) {}

  field(name: string, fallback: string | undefined = ''): Field {
    const id = fieldId(this.idPrefix + name);
    return {
      name,
      id,
      value: this.values.get(name) ?? fallback ?? '',
      errors: this.errors.filter((e) => belongsTo(e.path, name)).map((e) => fieldErrorText(this.lang, e)),
      errorId: `${id}-error`,
    };
  }

  /** The error summary: each error linked to the field it belongs to (the longest match among `fields`). */
  summary(fields: string[]): { message: string; href: string; label: string }[] {
    return this.errors.map((e) => {
      const owner = fields.filter((f) => belongsTo(e.path, f)).sort((a, b) => b.length - a.length)[0];
      return { message: fieldErrorText(this.lang, e), label: e.path, href: owner ? `#${fieldId(this.idPrefix + owner)}` : '#main' };
    });
  }
}

/** A page's template (see templateBeside). */
export type View = (data: Record<string, unknown>) => string;

export function render(res: Response, view: View, data: Record<string, unknown>, status = 200): void {
  pageHeaders(res);
  res.status(status).type('html').send(view(data));
}
