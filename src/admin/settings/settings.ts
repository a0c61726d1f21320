import type { Request, Response, Router } from 'express';
import { withUpload } from '../../attachments/upload.js';
import { t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import { LOGO_MAX_BYTES, removeLogo, setLogo } from '../../newsrooms/logo.js';
import { updateNewsroom } from '../../newsrooms/operations.js';
import type { Newsroom } from '../../newsrooms/repository.js';
import { updateNewsroomBody } from '../../newsrooms/schemas.js';
import { newsroomLogoUrl } from '../../site/urls.js';
import { CSRF_FIELD, checkUploadCsrf } from '../csrf.js';
import { attempt, list, orNull, parseWith, text } from '../forms.js';
import type { StaffPages } from '../staff.js';
import { FormState, isShownRefusal, langOf, languageName, problemText, uploadProblemText } from '../views.js';

/* The working newsroom's settings: names, boilerplate, languages, time zone, links, brand colour, logo. */

const view = templateBeside(import.meta.url, 'settings.hbs');

/** `network = handle` per line, the form of social links in the settings. */
function parseSocial(value: string): Record<string, string> {
  return Object.fromEntries(
    value
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const eq = line.indexOf('=');
        return eq < 0 ? [line, ''] : [line.slice(0, eq).trim(), line.slice(eq + 1).trim()];
      }),
  );
}

export function settingsPages(router: Router, { ctx, show, staff, post, workingNewsroom }: StaffPages): void {
  async function showSettings(req: Request, res: Response, newsroom: Newsroom, state: FormState, extra: Record<string, unknown> = {}, status = 200) {
    const lang = langOf(res);
    const names = ['languages', 'timezone', 'website', 'social', 'brandColor', ...newsroom.languages.flatMap((code) => [`name.${code}`, `boilerplate.${code}`])];
    await show(req, res, view, t(lang, 'admin.settings.title'), {
      slug: newsroom.slug,
      languagesField: state.field('languages', newsroom.languages.join(', ')),
      timezoneField: state.field('timezone', newsroom.timezone),
      websiteField: state.field('website', newsroom.website ?? ''),
      socialField: state.field('social', Object.entries(newsroom.social).map(([k, v]) => `${k} = ${v}`).join('\n')),
      brandColorField: state.field('brandColor', newsroom.brandColor ?? ''),
      texts: newsroom.languages.map((code) => ({
        code,
        name: languageName(code, lang),
        nameField: state.field(`name.${code}`, newsroom.name[code]),
        boilerplateField: state.field(`boilerplate.${code}`, newsroom.boilerplate[code]),
      })),
      summary: state.summary(names),
      // On the host the staff app is reached at (its CSP takes images from there only).
      logoUrl: newsroom.logo ? newsroomLogoUrl('', newsroom.slug, newsroom.logo.sha256) : undefined,
      logoMax: LOGO_MAX_BYTES,
      ...extra,
    }, status);
  }

  router.get('/settings', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (newsroom) await showSettings(req, res, newsroom, new FormState(langOf(res)), { saved: req.query.saved === '1' });
  }));

  router.post('/settings', post(async (req, res, session, form) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const texts = (field: string) => Object.fromEntries(newsroom.languages.flatMap((code) => (form.has(`${field}.${code}`) ? [[code, text(form, `${field}.${code}`)]] : [])));
    const outcome = await attempt(() =>
      updateNewsroom(
        ctx,
        newsroom,
        parseWith(updateNewsroomBody, {
          languages: list(text(form, 'languages')),
          name: Object.fromEntries(Object.entries(texts('name')).filter(([, v]) => v !== '')),
          boilerplate: texts('boilerplate'),
          timezone: text(form, 'timezone'),
          website: orNull(text(form, 'website')),
          social: parseSocial(form.get('social') ?? ''),
          brandColor: orNull(text(form, 'brandColor')),
        }),
      ),
    );
    if (outcome.error) {
      const values = new Map([...form].filter(([k]) => k !== CSRF_FIELD));
      return showSettings(req, res, newsroom, new FormState(langOf(res), values, outcome.error.errors), { problem: problemText(langOf(res), outcome.error) }, outcome.error.status);
    }
    res.redirect(303, '/admin/settings?saved=1');
  }));

  router.post('/settings/logo', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    try {
      await withUpload(ctx.files, req, LOGO_MAX_BYTES, (form) => setLogo(ctx, newsroom, form), checkUploadCsrf(ctx, req, session.id));
    } catch (error) {
      if (!isShownRefusal(error)) throw error;
      return showSettings(req, res, newsroom, new FormState(langOf(res)), { logoProblem: uploadProblemText(langOf(res), error) }, error.status);
    }
    res.redirect(303, '/admin/settings?saved=1#logo');
  }));

  router.post('/settings/logo/remove', post(async (_req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    await removeLogo(ctx, newsroom);
    res.redirect(303, '/admin/settings?saved=1#logo');
  }));
}
