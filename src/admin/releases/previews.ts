import type { Router } from 'express';
import { renderEmailPreview } from '../../delivery/render.js';
import { notFound } from '../../lib/errors.js';
import { renderReleasePreview, sendReleasePreview } from '../../site/routes.js';
import { staffFileUrls } from '../../site/urls.js';
import { param, type StaffPages } from '../staff.js';
import { loadRelease } from './release.js';

export function previewPages(router: Router, { ctx, staff }: StaffPages): void {
  /*
   * Previews: the page and the email exactly as the public site and the delivery render them.
   * The page links the staff app's own file URLs, so that images under embargo show.
   */

  router.get('/releases/:id/preview/:lang', staff(async (req, res, session) => {
    const { release } = await loadRelease(ctx, session, param(req, 'id'));
    sendReleasePreview(ctx, res, await renderReleasePreview(ctx, release, param(req, 'lang'), { fileUrls: staffFileUrls }));
  }));

  router.get('/releases/:id/email/:lang', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    const lang = param(req, 'lang');
    if (!release.translations.some((x) => x.lang === lang)) throw notFound('Language version');
    const email = await renderEmailPreview(ctx, release, newsroom, lang);
    res.set('Cache-Control', 'no-store');
    if (req.query.part === 'text') {
      res.type('text/plain; charset=utf-8').send(`${email.subject}\n\n${email.text}`);
      return;
    }
    // The email's own inline styles, in a sandbox: no script, no form. Same origin, so that
    // its images, from the staff app's file URLs, go with the session cookie.
    res
      .set('Content-Security-Policy', `sandbox allow-same-origin; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' ${new URL(ctx.config.publicUrl).origin}`)
      .type('html')
      .send(email.html);
  }));
}
