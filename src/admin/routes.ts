import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, Router } from 'express';
import type { AppContext } from '../context.js';
import { asAppError, isOutage, OUTAGE_RETRY_AFTER_S } from '../lib/errors.js';
import { t } from '../lib/i18n.js';
import { templateBeside } from '../lib/templates.js';
import { advancePages } from './advance/advance.js';
import { contactPages } from './contacts/contacts.js';
import { journalistPages } from './journalists/journalists.js';
import { newsroomPages } from './newsrooms/newsrooms.js';
import { attachmentPages } from './releases/attachments.js';
import { deliveryPages } from './releases/deliveries.js';
import { editorPages } from './releases/editor.js';
import { lifecyclePages } from './releases/lifecycle.js';
import { noticePages } from './releases/notices.js';
import { releaseListPage } from './releases/list.js';
import { previewPages } from './releases/previews.js';
import { loadSession, readCookie } from './session.js';
import { settingsPages } from './settings/settings.js';
import { signInPages } from './sign-in/sign-in.js';
import { staffPages } from './staff.js';
import { subscriberPages } from './subscribers/subscribers.js';
import { bouncePages } from './bounces/bounces.js';
import { chooseLanguage, LANG_COOKIE, langOf, problemText } from './views.js';

/*
 * The staff web app under /admin: server-rendered pages over the same operations and
 * schemas as the API. Forms post urlencoded bodies (uploads: multipart); every post
 * carries the session's CSRF token. Scripts only enhance (see static/). Each page keeps
 * its routes, view model and template in a folder here; this file puts them together
 * behind what they share: static files, the session and language, the error page.
 */

const staticDir = fileURLToPath(new URL('static/', import.meta.url));
const errorView = templateBeside(import.meta.url, 'error.hbs');

export function adminRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use('/static', express.static(staticDir, { index: false, maxAge: '1h', fallthrough: false }));

  router.use(async (req, res, next) => {
    res.locals.lang = chooseLanguage(req, res, readCookie(req, LANG_COOKIE));
    res.locals.session = await loadSession(ctx, req, res);
    next();
  });

  const pages = staffPages(ctx);
  for (const addPages of [
    signInPages,
    newsroomPages,
    releaseListPage,
    editorPages,
    lifecyclePages,
    noticePages,
    deliveryPages,
    previewPages,
    attachmentPages,
    contactPages,
    journalistPages,
    advancePages,
    subscriberPages,
    settingsPages,
    bouncePages,
  ]) {
    addPages(router, pages);
  }

  /** Errors as pages (the API's routes answer problem+json; these are people). */
  const errorPage: ErrorRequestHandler = async (err, req, res, _next) => {
    const known = asAppError(err);
    if (!known) (req.log ?? ctx.logger).error({ err }, 'unhandled error');
    else if (isOutage(err)) (req.log ?? ctx.logger).error({ err }, 'a dependency is not answering');
    if (res.headersSent) return void res.destroy();
    if (known?.status === 503) res.set('Retry-After', String(OUTAGE_RETRY_AFTER_S));
    const lang = res.locals.lang ? langOf(res) : 'en';
    try {
      await pages.show(req, res, errorView, t(lang, known ? 'admin.error.title' : 'admin.error.internal'), {
        detail: known ? problemText(lang, known) : '',
        signedOutOnly: !res.locals.session,
      }, known ? known.status : 500);
    } catch (renderError) {
      (req.log ?? ctx.logger).error({ err: renderError }, 'error page failed');
      res.status(500).end();
    }
  };
  router.use(errorPage);
  return router;
}
