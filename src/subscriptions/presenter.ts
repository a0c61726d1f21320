import type { Response } from 'express';
import { presentJournalist } from '../journalists/presenter.js';
import { csvLines } from '../lib/csv.js';
import { interfaceLanguage, t } from '../lib/i18n.js';
import { template } from '../lib/templates.js';
import type { Newsroom } from '../newsrooms/repository.js';
import { newsroomHome } from '../site/presenter.js';
import { frontPageUrl, staticUrl } from '../site/urls.js';
import { newsroomName } from './operations.js';
import type { dataHeldAbout } from './operations.js';
import type { Subscriber } from './repository.js';

export function presentSubscriber(subscriber: Subscriber, newsroomSlug: string) {
  return {
    id: subscriber.id,
    newsroom: newsroomSlug,
    email: subscriber.email,
    status: subscriber.status,
    languages: subscriber.languages,
    keywords: subscriber.keywords,
    consent: {
      at: subscriber.consentAt,
      source: subscriber.consentSource,
      ip: subscriber.consentIp,
      userAgent: subscriber.consentUserAgent,
      text: subscriber.consentText,
    },
    hardBounces: subscriber.hardBounces,
    createdAt: subscriber.createdAt,
    updatedAt: subscriber.updatedAt,
    confirmedAt: subscriber.confirmedAt,
    unsubscribedAt: subscriber.unsubscribedAt,
  };
}

export function presentDataHeld(email: string, held: Awaited<ReturnType<typeof dataHeldAbout>>) {
  return {
    email,
    subscriptions: held.subscriptions.map(({ subscriber, newsroomSlug, confirmations, deliveries }) => ({
      ...presentSubscriber(subscriber, newsroomSlug),
      confirmationRequests: confirmations.map((c) => ({
        createdAt: c.created_at,
        sentAt: c.sent_at,
        expiresAt: c.expires_at,
        usedAt: c.used_at,
        failedAt: c.failed_at,
        languages: JSON.parse(c.languages) as string[],
        keywords: JSON.parse(c.keywords) as string[],
      })),
      deliveries: deliveries.map((d) => ({ releaseId: d.release_id, status: d.status, createdAt: d.created_at, updatedAt: d.updated_at })),
    })),
    journalists: held.journalists.map(({ journalist, newsroomSlug, links }) => ({
      ...presentJournalist(journalist, newsroomSlug),
      advanceLinks: links.map(({ link, openings }) => ({
        releaseId: link.release_id,
        language: link.lang,
        createdAt: link.created_at,
        sentAt: link.sent_at,
        revokedAt: link.revoked_at,
        openings: openings.map((o) => ({ openedAt: o.opened_at, language: o.lang, file: o.filename, userAgent: o.user_agent })),
      })),
    })),
  };
}

/** The columns of the CSV export, in order. */
export const csvColumns = ['email', 'status', 'languages', 'keywords', 'consent_at', 'consent_source', 'created_at', 'confirmed_at', 'unsubscribed_at'];

const csvRow = (s: Subscriber) =>
  [s.email, s.status, s.languages.join(' '), s.keywords.join(', '), s.consentAt ?? '', s.consentSource ?? '', s.createdAt, s.confirmedAt ?? '', s.unsubscribedAt ?? ''];

/** The CSV export as a download (the API's and the staff app's alike), written page by page as read. */
export async function sendSubscribersCsv(res: Response, newsroom: Newsroom, pages: AsyncIterable<Subscriber[]>): Promise<void> {
  res.status(200).set({
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${newsroom.slug}-subscribers.csv"`,
    'Cache-Control': 'no-store',
  });
  res.write(csvLines([csvColumns]));
  for await (const page of pages) res.write(csvLines(page.map(csvRow)));
  res.end();
}

/*
 * The subscription pages: no script, no inline style, nothing from elsewhere. Their URLs
 * carry secrets, so they are never cached and send no Referer.
 */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex',
};

export interface PageContent {
  title: string;
  paragraphs?: string[];
  /** A form of one button, e.g. confirm or unsubscribe. */
  action?: { url: string; button: string; fields?: Record<string, string> };
  preferences?: {
    url: string;
    languages: { code: string; name: string; checked: boolean }[];
    keywords: string;
    unsubscribeUrl: string;
    notice?: string;
  };
}

/** Sends a subscription page in `lang` (the newsroom's when it has one). */
export function sendPage(res: Response, base: string, status: number, lang: string, newsroom: Newsroom | undefined, content: PageContent): void {
  const ui = interfaceLanguage(lang);
  const html = template('subscriptions/page.hbs')({
    lang,
    pageTitle: newsroom ? `${content.title} – ${newsroomName(newsroom, lang)}` : content.title,
    stylesheetUrl: staticUrl(base, 'site.css'),
    homeUrl: frontPageUrl(base),
    newsroom: newsroom && newsroomHome(base, newsroom, lang),
    unsubscribeLabel: t(ui, 'subscriptions.unsubscribe.button'),
    ...content,
    action: content.action && { ...content.action, fields: Object.entries(content.action.fields ?? {}).map(([name, value]) => ({ name, value })) },
  });
  res.status(status).set(PAGE_HEADERS).type('html').send(html);
}
