import type { Request, Response, Router } from 'express';
import { createToken } from '../../auth/operations.js';
import { listTokens, revokeToken } from '../../auth/repository.js';
import { createTokenBody } from '../../auth/routes.js';
import { notFound } from '../../lib/errors.js';
import { t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import { isoTime } from '../../lib/time.js';
import { createNewsroom, getNewsroom } from '../../newsrooms/operations.js';
import { listNewsrooms } from '../../newsrooms/repository.js';
import { createNewsroomBody } from '../../newsrooms/schemas.js';
import { CSRF_FIELD } from '../csrf.js';
import { attempt, list, parseWith, text } from '../forms.js';
import { type Session, setFlash, switchNewsroom, takeFlash } from '../session.js';
import { param, type StaffPages } from '../staff.js';
import { FormState, langOf, newsroomName, problemText } from '../views.js';

/* The service admin's page: every newsroom, a new one, the newsroom to work in, and API tokens. */

const view = templateBeside(import.meta.url, 'newsrooms.hbs');
const TOKEN_FLASH = 'token';

interface CreatedToken {
  newsroom: string;
  token: string;
  name: string;
}

export function newsroomPages(router: Router, { ctx, show, staff, post, adminOnly }: StaffPages): void {
  async function showNewsrooms(req: Request, res: Response, state: FormState, extra: Record<string, unknown> = {}, status = 200) {
    const lang = langOf(res);
    const newsrooms = await listNewsrooms(ctx.db);
    const session = res.locals.session as Session;
    const rows = await Promise.all(
      newsrooms.map(async (n) => ({
        slug: n.slug,
        name: newsroomName(n, lang),
        languages: n.languages.join(', '),
        timezone: n.timezone,
        current: n.id === session.newsroomId,
        tokens: (await listTokens(ctx.db, n.id)).map((tk) => ({
          id: tk.id,
          name: tk.name,
          createdAt: tk.created_at,
          lastUsedAt: tk.last_used_at,
          revokedAt: tk.revoked_at,
        })),
      })),
    );
    const fields = ['slug', 'languages', 'name', 'timezone'];
    await show(req, res, view, t(lang, 'admin.newsrooms.title'), {
      newsrooms: rows,
      fields: Object.fromEntries(fields.map((f) => [f, state.field(f, f === 'timezone' ? 'Europe/Helsinki' : '')])),
      summary: state.summary(fields),
      ...extra,
    }, status);
  }

  router.get('/newsrooms', staff(async (req, res, session) => {
    adminOnly(session);
    await showNewsrooms(req, res, new FormState(langOf(res)), { createdToken: await takeFlash<CreatedToken>(ctx, session, TOKEN_FLASH) });
  }));

  router.post('/newsrooms/switch', post(async (_req, res, session, form) => {
    adminOnly(session);
    const newsroom = await getNewsroom(ctx, text(form, 'slug'));
    await switchNewsroom(ctx, session, newsroom.id);
    res.redirect(303, '/admin/releases');
  }));

  router.post('/newsrooms', post(async (req, res, session, form) => {
    adminOnly(session);
    const languages = list(text(form, 'languages'));
    const outcome = await attempt(() =>
      createNewsroom(
        ctx,
        parseWith(createNewsroomBody, {
          slug: text(form, 'slug'),
          languages,
          name: languages[0] ? { [languages[0]]: text(form, 'name') } : {},
          timezone: text(form, 'timezone') || undefined,
        }),
      ),
    );
    if (outcome.error) {
      // The name field stands for the name in the first language.
      const errors = outcome.error.errors.map((e) => (e.path.startsWith('name.') ? { ...e, path: 'name' } : e));
      const values = new Map([...form].filter(([k]) => k !== CSRF_FIELD));
      return showNewsrooms(req, res, new FormState(langOf(res), values, errors), { problem: problemText(langOf(res), outcome.error) }, outcome.error.status);
    }
    await switchNewsroom(ctx, session, outcome.value.id);
    res.redirect(303, '/admin/settings');
  }));

  router.post('/newsrooms/:slug/tokens', post(async (req, res, session, form) => {
    adminOnly(session);
    const newsroom = await getNewsroom(ctx, param(req, 'slug'));
    const outcome = await attempt(async () => createToken(ctx, newsroom, parseWith(createTokenBody, { name: text(form, 'name') }).name));
    if (outcome.error) return showNewsrooms(req, res, new FormState(langOf(res)), { problem: problemText(langOf(res), outcome.error) }, outcome.error.status);
    // Shown once, on the page this redirects to: a reload neither makes another token nor shows this one again.
    await setFlash<CreatedToken>(ctx, session, TOKEN_FLASH, { newsroom: newsroom.slug, token: outcome.value.token, name: outcome.value.name });
    res.redirect(303, '/admin/newsrooms');
  }));

  router.post('/newsrooms/:slug/tokens/:tokenId/revoke', post(async (req, res, session) => {
    adminOnly(session);
    const newsroom = await getNewsroom(ctx, param(req, 'slug'));
    if (!(await revokeToken(ctx.db, newsroom.id, param(req, 'tokenId'), isoTime(ctx.clock.now())))) throw notFound('Token');
    res.redirect(303, '/admin/newsrooms');
  }));
}
