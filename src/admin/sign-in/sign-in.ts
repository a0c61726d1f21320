import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response, Router } from 'express';
import { tokenChecker } from '../../auth/authenticate.js';
import { PUBLIC_BODY_LIMIT } from '../../lib/bodies.js';
import { t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import { CSRF_FIELD, checkCsrf, csrfToken } from '../csrf.js';
import { readForm, text } from '../forms.js';
import { endSession, PRESESSION_COOKIE, preSessionId, readCookie, startSession, unsignValue } from '../session.js';
import type { StaffPages } from '../staff.js';
import { signInThrottle } from '../throttle.js';
import { FormState, langOf } from '../views.js';

/* Signing in with an API token (throttled per address), and signing out. */

const view = templateBeside(import.meta.url, 'sign-in.hbs');

export function signInPages(router: Router, { ctx, show, staff, post }: StaffPages): void {
  const checkToken = tokenChecker(ctx);
  const throttle = signInThrottle(ctx);

  router.get('/', staff(async (_req, res) => res.redirect(303, '/admin/releases')));

  async function showSignIn(req: Request, res: Response, state: FormState, status = 200, notice?: string) {
    const csrf = csrfToken(ctx, preSessionId(ctx, req, res));
    await show(req, res, view, t(langOf(res), 'admin.signIn.title'), {
      csrf,
      token: state.field('token'),
      summary: state.summary(['token']),
      notice,
    }, status);
  }

  router.get('/sign-in', async (req, res) => {
    if (res.locals.session) return res.redirect(303, '/admin/releases');
    await showSignIn(req, res, new FormState(langOf(res)));
  });

  router.post('/sign-in', async (req, res) => {
    const lang = langOf(res);
    const address = req.ip ?? 'unknown';
    const lockedFor = await throttle.lockedFor(address);
    if (lockedFor !== undefined) {
      res.set('Retry-After', String(lockedFor));
      return showSignIn(req, res, new FormState(lang), 429, t(lang, 'admin.signIn.tooMany', { minutes: Math.ceil(lockedFor / 60) }));
    }
    const form = await readForm(req, PUBLIC_BODY_LIMIT);
    const pre = unsignValue(ctx, readCookie(req, PRESESSION_COOKIE));
    checkCsrf(ctx, req, pre ?? '', pre ? form.get(CSRF_FIELD) : '');
    const token = text(form, 'token');
    const principal = token ? await checkToken(token) : undefined;
    if (!principal) {
      await sleep(await throttle.fail(address));
      return showSignIn(req, res, new FormState(lang, new Map(), [{ path: 'token', message: t(lang, 'admin.signIn.invalid') }]), 401);
    }
    await throttle.succeed(address);
    await startSession(ctx, res, principal);
    res.redirect(303, principal.kind === 'admin' ? '/admin/newsrooms' : '/admin/releases');
  });

  router.post(
    '/sign-out',
    post(async (_req, res, session) => {
      await endSession(ctx, res, session);
      res.redirect(303, '/admin/sign-in');
    }),
  );
}
