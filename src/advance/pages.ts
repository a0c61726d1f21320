import { type Request, type Response, Router } from 'express';
import type { AppContext } from '../context.js';
import { sendAttachmentFile } from '../attachments/serve.js';
import { t } from '../lib/i18n.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import { renderGone, renderNotFound } from '../site/pages.js';
import { pagePolicy, renderReleasePreview, sendReleasePreview } from '../site/routes.js';
import { attachmentUrl, attachmentRenditionUrl, releasePageUrl } from '../site/urls.js';
import { embargoTexts } from './mail.js';
import { advanceFileUrls, advanceLinkInLanguage } from './links.js';
import { type OpenedLink, openAdvanceLink, recordOpening } from './operations.js';

/*
 * The page behind a personal advance link, /advance/<token>, and its files: the release
 * as it will appear, under a banner stating the embargo, to the journalist holding the
 * link while the release is under embargo (visibility.ts decides). Never cached, never
 * indexed, never linked from anywhere public. Each opening is logged. Once the release is
 * public the link leads to the public page; a dead link is 410, an unknown one 404.
 */

const HTML = 'text/html; charset=utf-8';
const PRIVATE = { 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' };

export function advancePages(ctx: AppContext): Router {
  const router = Router();
  const base = ctx.config.publicUrl;
  const policy = pagePolicy(base);

  const client = (req: Request) => ({ ip: req.ip, userAgent: req.get('user-agent') });

  /** Answers a link that shows nothing (unknown, dead) and says whether it did. */
  async function answeredWithout(res: Response, opened: OpenedLink): Promise<boolean> {
    res.set(PRIVATE);
    if (opened.view === 'embargoed') return false;
    if (opened.view === 'missing') {
      res.status(404).set({ 'Content-Type': HTML, 'Content-Security-Policy': policy }).send(renderNotFound(ctx, 'en'));
      return true;
    }
    const newsroom = (await findNewsroomById(ctx.db, opened.release.newsroomId))!;
    if (opened.view === 'closed') {
      const lang = opened.release.translations[0]!.lang;
      res.status(410).set({ 'Content-Type': HTML, 'Content-Security-Policy': policy }).send(renderGone(ctx, newsroom, lang, undefined));
      return true;
    }
    return false;
  }

  router.get('/advance/:token', async (req, res) => {
    const token = String(req.params.token);
    const opened = await openAdvanceLink(ctx, token);
    if (await answeredWithout(res, opened)) return;
    if (opened.view !== 'public' && opened.view !== 'embargoed') return;
    // Another language of the release (its language switch, ?lang=), else the link's own.
    const asked = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    const lang = asked && opened.release.translations.some((x) => x.lang === asked) ? asked : opened.lang;
    if (opened.view === 'public') {
      const title = opened.release.translations.find((x) => x.lang === lang)!.title;
      return res.redirect(302, releasePageUrl(base, opened.release.newsroomSlug, lang, opened.release.id, title));
    }
    const newsroom = (await findNewsroomById(ctx.db, opened.release.newsroomId))!;
    const embargoNotice = t(lang, 'site.advance.banner', embargoTexts(lang, opened.release.publishAt!, newsroom.timezone));
    const html = await renderReleasePreview(ctx, opened.release, lang, {
      fileUrls: advanceFileUrls(token),
      embargoNotice,
      languageUrl: (other) => advanceLinkInLanguage(token, other),
    });
    await recordOpening(ctx, { ...opened, lang }, client(req));
    sendReleasePreview(ctx, res, html);
  });

  const file = (variant: 'original' | 'web') => async (req: Request, res: Response) => {
    const opened = await openAdvanceLink(ctx, String(req.params.token));
    if (await answeredWithout(res, opened)) return;
    const attachment = opened.view !== 'missing' && opened.view !== 'closed'
      ? opened.release.attachments.find((a) => a.id === req.params.attachmentId)
      : undefined;
    if (!attachment || (variant === 'original' && req.params.filename !== attachment.filename)) {
      return void res.status(404).set({ 'Content-Type': HTML, 'Content-Security-Policy': policy }).send(renderNotFound(ctx, 'en'));
    }
    if (opened.view === 'public') {
      return res.redirect(302, variant === 'web' ? attachmentRenditionUrl(base, attachment.id) : attachmentUrl(base, attachment.id, attachment.filename));
    }
    if (opened.view !== 'embargoed') return;
    await recordOpening(ctx, opened, client(req), { attachmentId: attachment.id, filename: attachment.filename });
    await sendAttachmentFile(ctx, res, { attachment, isPublic: false }, variant);
  };
  router.get('/advance/:token/files/:attachmentId/web', file('web'));
  router.get('/advance/:token/files/:attachmentId/:filename', file('original'));

  return router;
}
