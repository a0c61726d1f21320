import { ErrorLevel, type SitemapItemLoose, SitemapStream, streamToPromise } from 'sitemap';
import type { AppContext } from '../context.js';
import { listNewsrooms, type Newsroom } from '../newsrooms/repository.js';
import { listPublicReleasesAsOf, type PublicRelease, type PublicStamp } from '../releases/public.js';
import { frontPageUrl, newsroomPageUrl, releasePageUrl, sitemapUrl } from '../site/urls.js';
import { newsroomName, xmlSafe } from './items.js';

/*
 * sitemap.xml: the front page, every newsroom page and every public release page, each
 * language version naming the others (and x-default, the first language) with
 * xhtml:link hreflang; releases of the last two days also carry Google News entries.
 */

/** Google News takes articles of the last two days. */
export const NEWS_WINDOW_MS = 2 * 24 * 3600 * 1000;

/**
 * One sitemap file holds at most 50,000 URLs; with a few languages each, this many
 * newest releases stay under it. (Beyond it a sitemap index is needed: not built yet.)
 */
export const SITEMAP_RELEASES = 10_000;

export interface RenderedSitemap {
  xml: Buffer;
  /** When the oldest Google News entry leaves the window: the output is stale from then on. */
  staleAt: number;
}

type Page = { lang: string; url: string };

/** One <url> per language version, each listing them all plus x-default (the first). */
function alternates(pages: Page[], extra: (page: Page) => Partial<SitemapItemLoose> = () => ({})): SitemapItemLoose[] {
  const links = [...pages, { lang: 'x-default', url: pages[0]!.url }];
  return pages.map((page) => ({ url: page.url, links, ...extra(page) }));
}

function releaseEntries(release: PublicRelease, newsroom: Newsroom, base: string, isNews: boolean): SitemapItemLoose[] {
  const lastmod = new Date(Math.max(Date.parse(release.publishedAt), Date.parse(release.updatedAt))).toISOString();
  const pages = release.translations.map((tr) => ({
    lang: tr.lang,
    url: releasePageUrl(base, newsroom.slug, tr.lang, release.id, tr.title),
  }));
  return alternates(pages, (page) => ({
    lastmod,
    ...(isNews
      ? {
          news: {
            publication: { name: xmlSafe(newsroomName(newsroom, page.lang)), language: page.lang },
            publication_date: release.publishedAt,
            title: xmlSafe(release.translations.find((tr) => tr.lang === page.lang)!.title),
          },
        }
      : {}),
  }));
}

/** The sitemap as `stamp` (of all newsrooms) saw the releases. */
export async function renderSitemap(ctx: AppContext, stamp: PublicStamp): Promise<RenderedSitemap> {
  const base = ctx.config.publicUrl;
  const now = ctx.clock.now().getTime(); // the news window moves with time, not with the data
  const [newsrooms, releases] = await Promise.all([
    listNewsrooms(ctx.db),
    listPublicReleasesAsOf(ctx, { limit: SITEMAP_RELEASES }, stamp),
  ]);
  const byId = new Map(newsrooms.map((n) => [n.id, n]));

  const stream = new SitemapStream({
    hostname: base,
    level: ErrorLevel.THROW,
    xmlns: { news: true, xhtml: true, image: false, video: false },
  });
  const written = streamToPromise(stream);
  stream.write({ url: frontPageUrl(base) });
  for (const newsroom of newsrooms) {
    const pages = newsroom.languages.map((lang) => ({ lang, url: newsroomPageUrl(base, newsroom.slug, lang) }));
    for (const entry of alternates(pages)) stream.write(entry);
  }
  let staleAt = Infinity;
  for (const release of releases) {
    const newsUntil = Date.parse(release.publishedAt) + NEWS_WINDOW_MS;
    const isNews = now < newsUntil;
    if (isNews) staleAt = Math.min(staleAt, newsUntil);
    for (const entry of releaseEntries(release, byId.get(release.newsroomId)!, base, isNews)) stream.write(entry);
  }
  stream.end();
  return { xml: await written, staleAt };
}

export const robotsTxt = (base: string) =>
  [
    'User-agent: *',
    // Staff API and the subscription links of emails are not pages to index.
    'Disallow: /api/',
    'Disallow: /subscriptions/',
    'Disallow: /unsubscribe/',
    '',
    `Sitemap: ${sitemapUrl(base)}`,
    '',
  ].join('\n');
