import { type Request, type Response, Router } from 'express';
import type { AppContext } from '../context.js';
import { t } from '../lib/i18n.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import { journalistUnsubscribeUrl } from '../site/urls.js';
import { readForm } from '../subscriptions/form.js';
import { newsroomName, requestLanguage } from '../subscriptions/operations.js';
import { sendPage } from '../subscriptions/presenter.js';
import { verifyJournalistToken } from './links.js';
import { findJournalist, markJournalistUnsubscribed } from './repository.js';

/*
 * The unsubscribe page of a journalist's release email (GET shows a button; POST, also
 * RFC 8058's one-click, stops the release emails). The journalist stays accredited:
 * advance access, which staff give one release at a time, goes on.
 */
export function journalistPages(ctx: AppContext): Router {
  const router = Router();
  const base = ctx.config.publicUrl;

  async function found(req: Request) {
    const id = verifyJournalistToken(ctx.config.signingSecret, String(req.params.token));
    const journalist = id === undefined ? undefined : await findJournalist(ctx.db, id);
    const newsroom = journalist && (await findNewsroomById(ctx.db, journalist.newsroomId));
    return journalist && newsroom ? { journalist, newsroom } : undefined;
  }

  const unknown = (res: Response) =>
    sendPage(res, base, 404, 'en', undefined, { title: t('en', 'subscriptions.unknown.title'), paragraphs: [t('en', 'subscriptions.unknown.body')] });

  router.get('/unsubscribe/journalist/:token', async (req: Request, res: Response) => {
    const hit = await found(req);
    if (!hit) return unknown(res);
    const lang = requestLanguage(hit.newsroom, hit.journalist.languages);
    const vars = { newsroom: newsroomName(hit.newsroom, lang), email: hit.journalist.email };
    const key = hit.journalist.unsubscribedAt ? 'unsubscribed' : 'unsubscribe';
    sendPage(res, base, 200, lang, hit.newsroom, {
      title: t(lang, `subscriptions.journalist.${key}.title`),
      paragraphs: [t(lang, `subscriptions.journalist.${key}.body`, vars)],
      ...(hit.journalist.unsubscribedAt
        ? {}
        : {
            action: {
              url: journalistUnsubscribeUrl(base, String(req.params.token)),
              button: t(lang, 'subscriptions.journalist.unsubscribe.button'),
              fields: { 'List-Unsubscribe': 'One-Click' },
            },
          }),
    });
  });

  router.post('/unsubscribe/journalist/:token', async (req: Request, res: Response) => {
    await readForm(req, { anyType: true });
    const hit = await found(req);
    if (!hit) return unknown(res);
    await markJournalistUnsubscribed(ctx.db, hit.journalist.id, isoTime(ctx.clock.now()));
    const lang = requestLanguage(hit.newsroom, hit.journalist.languages);
    sendPage(res, base, 200, lang, hit.newsroom, {
      title: t(lang, 'subscriptions.journalist.unsubscribed.title'),
      paragraphs: [t(lang, 'subscriptions.journalist.unsubscribed.body', { newsroom: newsroomName(hit.newsroom, lang), email: hit.journalist.email })],
    });
  });

  return router;
}
