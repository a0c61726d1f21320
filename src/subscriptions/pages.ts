import { type NextFunction, type Request, type Response, Router } from 'express';
import type { AppContext } from '../context.js';
import { AppError } from '../lib/errors.js';
import { t } from '../lib/i18n.js';
import { findNewsroomBySlug, type Newsroom } from '../newsrooms/repository.js';
import { confirmSubscriptionUrl, preferencesUrl, subscriptionRequestedUrl, unsubscribeUrl } from '../site/urls.js';
import { isFormPost, listField, readForm } from './form.js';
import {
  type ConfirmationView,
  changePreferences,
  confirmSubscription,
  consentWording,
  newsroomName,
  requestLanguage,
  requestSubscription,
  subscriberBySignedToken,
  unsubscribe,
  viewConfirmation,
} from './operations.js';
import { type PageContent, sendPage } from './presenter.js';
import type { Subscriber } from './repository.js';
import { subscribeBody } from './schemas.js';

/*
 * The HTML side of subscriptions, for people without JavaScript: the subscribe form's
 * post, the confirmation page (GET shows a button, POST confirms: mail scanners fetch
 * links), and the signed preferences and unsubscribe pages (RFC 8058 one-click POST).
 */
export function subscriptionPages(ctx: AppContext): Router {
  const router = Router();
  const base = ctx.config.publicUrl;
  const page = (res: Response, status: number, lang: string, newsroom: Newsroom | undefined, content: PageContent) =>
    sendPage(res, base, status, lang, newsroom, content);
  const say = (lang: string, key: string, vars: Record<string, string> = {}) => t(lang, `subscriptions.${key}`, vars);
  const message = (res: Response, status: number, lang: string, newsroom: Newsroom | undefined, key: string, vars: Record<string, string> = {}) =>
    page(res, status, lang, newsroom, { title: say(lang, `${key}.title`), paragraphs: [say(lang, `${key}.body`, vars)] });

  // The public pages' subscribe form posts to the API endpoint; JSON goes on to the API route.
  router.post('/api/newsrooms/:slug/subscriptions', async (req: Request, res: Response, next: NextFunction) => {
    if (!isFormPost(req)) return next();
    const newsroom = await findNewsroomBySlug(ctx.db, String(req.params.slug));
    if (!newsroom) return message(res, 404, 'en', undefined, 'unknown');
    const form = await readForm(req);
    const parsed = subscribeBody.safeParse({
      email: form.get('email') ?? '',
      languages: form.getAll('languages'),
      keywords: listField(form.get('keywords')),
    });
    const lang = requestLanguage(newsroom, parsed.success ? parsed.data.languages : form.getAll('languages'));
    if (!parsed.success) return message(res, 422, lang, newsroom, 'invalid');
    try {
      await requestSubscription(ctx, newsroom, parsed.data, req.ip ?? '');
    } catch (error) {
      if (error instanceof AppError && error.status === 422) return message(res, 422, lang, newsroom, 'invalid');
      throw error;
    }
    // Post/redirect/get: a reload shows the page again rather than posting again, and the
    // address the browser shows is the site's, not the API's. The page names no address.
    res.redirect(303, subscriptionRequestedUrl(base, newsroom.slug, lang));
  });

  router.get('/:slug/:lang/subscription-requested', async (req: Request, res: Response, next: NextFunction) => {
    const newsroom = await findNewsroomBySlug(ctx.db, String(req.params.slug));
    const lang = String(req.params.lang);
    if (!newsroom?.languages.includes(lang)) return next();
    message(res, 200, lang, newsroom, 'requested');
  });

  const showConfirmation = (res: Response, view: ConfirmationView, token: string) => {
    const { newsroom, subscriber, lang = newsroom?.languages[0] ?? 'en' } = view;
    if (view.state === 'unknown' || !newsroom || !subscriber) return message(res, 404, 'en', undefined, 'unknown');
    if (view.state !== 'valid') return message(res, 410, lang, newsroom, 'expired');
    const vars = { newsroom: newsroomName(newsroom, lang), email: subscriber.email };
    page(res, 200, lang, newsroom, {
      title: say(lang, 'confirm.title'),
      paragraphs: [say(lang, 'confirm.body', vars), consentWording(newsroom, lang)],
      action: { url: confirmSubscriptionUrl(base, token), button: say(lang, 'confirm.button') },
    });
  };

  router.get('/subscriptions/confirm/:token', async (req: Request, res: Response) => {
    const token = String(req.params.token);
    showConfirmation(res, await viewConfirmation(ctx, token), token);
  });

  router.post('/subscriptions/confirm/:token', async (req: Request, res: Response) => {
    await readForm(req, { anyType: true });
    const token = String(req.params.token);
    const view = await confirmSubscription(ctx, token, { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });
    if (view.state !== 'valid') return showConfirmation(res, view, token);
    const { newsroom, subscriber, lang } = view as Required<ConfirmationView>;
    message(res, 200, lang, newsroom, 'confirmed', { newsroom: newsroomName(newsroom, lang), email: subscriber.email });
  });

  const preferencesPage = (res: Response, token: string, newsroom: Newsroom, subscriber: Subscriber, status = 200, notice?: string) => {
    const lang = requestLanguage(newsroom, subscriber.languages);
    const names = new Intl.DisplayNames([lang, 'en'], { type: 'language' });
    page(res, status, lang, newsroom, {
      title: say(lang, 'preferences.title'),
      paragraphs: [
        say(lang, 'preferences.intro', { newsroom: newsroomName(newsroom, lang), email: subscriber.email }),
        ...(subscriber.status === 'unsubscribed' ? [say(lang, 'preferences.unsubscribed')] : []),
      ],
      preferences: {
        url: preferencesUrl(base, token),
        languages: newsroom.languages.map((code) => ({ code, name: names.of(code) ?? code, checked: subscriber.languages.includes(code) })),
        keywords: subscriber.keywords.join(', '),
        unsubscribeUrl: unsubscribeUrl(base, token),
        notice,
      },
    });
  };

  router.get('/subscriptions/preferences/:token', async (req: Request, res: Response) => {
    const token = String(req.params.token);
    const found = await subscriberBySignedToken(ctx, token);
    if (!found) return message(res, 404, 'en', undefined, 'unknown');
    preferencesPage(res, token, found.newsroom, found.subscriber);
  });

  router.post('/subscriptions/preferences/:token', async (req: Request, res: Response) => {
    const token = String(req.params.token);
    const found = await subscriberBySignedToken(ctx, token);
    if (!found) return message(res, 404, 'en', undefined, 'unknown');
    const form = await readForm(req);
    const wishes = { languages: form.getAll('languages'), keywords: listField(form.get('keywords')) };
    const keywords = subscribeBody.shape.keywords.safeParse(wishes.keywords);
    const errors = keywords.success ? await changePreferences(ctx, found.newsroom, found.subscriber, wishes) : keywords.error.issues;
    const lang = requestLanguage(found.newsroom, found.subscriber.languages);
    if (errors.length) {
      const shown = { ...found.subscriber, languages: wishes.languages, keywords: wishes.keywords };
      const notice = wishes.languages.length === 0 ? 'preferences.needLanguage' : 'preferences.invalid';
      return preferencesPage(res, token, found.newsroom, shown, 422, say(lang, notice));
    }
    const updated = { ...found.subscriber, languages: wishes.languages, keywords: wishes.keywords };
    preferencesPage(res, token, found.newsroom, updated, 200, say(requestLanguage(found.newsroom, wishes.languages), 'preferences.saved'));
  });

  router.get('/unsubscribe/:token', async (req: Request, res: Response) => {
    const token = String(req.params.token);
    const found = await subscriberBySignedToken(ctx, token);
    if (!found) return message(res, 404, 'en', undefined, 'unknown');
    const lang = requestLanguage(found.newsroom, found.subscriber.languages);
    const vars = { newsroom: newsroomName(found.newsroom, lang), email: found.subscriber.email };
    if (found.subscriber.status === 'unsubscribed') return message(res, 200, lang, found.newsroom, 'unsubscribed', vars);
    page(res, 200, lang, found.newsroom, {
      title: say(lang, 'unsubscribe.title'),
      paragraphs: [say(lang, 'unsubscribe.body', vars)],
      action: { url: unsubscribeUrl(base, token), button: say(lang, 'unsubscribe.button'), fields: { 'List-Unsubscribe': 'One-Click' } },
    });
  });

  // RFC 8058: a mail client posts `List-Unsubscribe=One-Click` (urlencoded or multipart); the signed URL is the authority.
  router.post('/unsubscribe/:token', async (req: Request, res: Response) => {
    const token = String(req.params.token);
    await readForm(req, { anyType: true });
    const found = await subscriberBySignedToken(ctx, token);
    if (!found) return message(res, 404, 'en', undefined, 'unknown');
    await unsubscribe(ctx, found.subscriber);
    const lang = requestLanguage(found.newsroom, found.subscriber.languages);
    message(res, 200, lang, found.newsroom, 'unsubscribed', { newsroom: newsroomName(found.newsroom, lang), email: found.subscriber.email });
  });

  return router;
}
