import type { Request, Response, Router } from 'express';
import { createJournalist, getJournalistForStaff, removeJournalist, setJournalistStatus } from '../../journalists/operations.js';
import { listJournalists } from '../../journalists/repository.js';
import { createJournalistBody } from '../../journalists/schemas.js';
import type { AppError } from '../../lib/errors.js';
import { t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import type { Newsroom } from '../../newsrooms/repository.js';
import { CSRF_FIELD } from '../csrf.js';
import { attempt, list, parseWith, text } from '../forms.js';
import { param, type StaffPages } from '../staff.js';
import { FormState, langOf, languageName, problemText } from '../views.js';

/* The working newsroom's accredited journalists: the list, a new one, suspend or reactivate, remove. */

const view = templateBeside(import.meta.url, 'journalists.hbs');
const FIELDS = ['name', 'outlet', 'email', 'languages', 'note'];

export function journalistPages(router: Router, { ctx, show, staff, post, workingNewsroom }: StaffPages): void {
  async function showJournalists(req: Request, res: Response, newsroom: Newsroom, state?: FormState, problem?: string, status = 200) {
    const lang = langOf(res);
    const form = state ?? new FormState(lang, new Map([['languages', newsroom.languages[0]!]]));
    const journalists = await listJournalists(ctx.db, newsroom.id);
    await show(req, res, view, t(lang, 'admin.journalists.title'), {
      journalists: journalists.map((j) => ({
        ...j,
        suspended: j.status === 'suspended',
        statusLabel: t(lang, `admin.journalists.status.${j.status}`),
        languageNames: j.languages.map((code) => languageName(code, lang)).join(', '),
      })),
      fields: Object.fromEntries(FIELDS.map((name) => [name, form.field(name)])),
      summary: form.summary(FIELDS),
      problem,
    }, status);
  }

  const refused = (req: Request, res: Response, newsroom: Newsroom, form: URLSearchParams, error: AppError) =>
    showJournalists(req, res, newsroom, new FormState(langOf(res), new Map([...form].filter(([k]) => k !== CSRF_FIELD)), error.errors), problemText(langOf(res), error), error.status);

  router.get('/journalists', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (newsroom) await showJournalists(req, res, newsroom);
  }));

  router.post('/journalists', post(async (req, res, session, form) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const input = {
      name: text(form, 'name'),
      outlet: text(form, 'outlet'),
      email: text(form, 'email'),
      languages: list(text(form, 'languages')).map((l) => l.toLowerCase()),
      note: text(form, 'note'),
    };
    const outcome = await attempt(() => createJournalist(ctx, newsroom, parseWith(createJournalistBody, input)));
    if (outcome.error) return refused(req, res, newsroom, form, outcome.error);
    res.redirect(303, '/admin/journalists');
  }));

  const action = (path: string, act: Parameters<typeof setJournalistStatus>[2] | 'remove') =>
    router.post(`/journalists/:id/${path}`, post(async (req, res, session) => {
      const newsroom = await workingNewsroom(res, session);
      if (!newsroom) return;
      const { journalist } = await getJournalistForStaff(ctx, newsroom.slug, param(req, 'id'), session.principal);
      if (act === 'remove') await removeJournalist(ctx, journalist);
      else await setJournalistStatus(ctx, journalist, act);
      res.redirect(303, '/admin/journalists');
    }));
  action('suspend', 'suspended');
  action('reactivate', 'active');
  action('remove', 'remove');
}
