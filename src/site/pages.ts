import type { AppContext } from '../context.js';
import { interfaceLanguage, interfaceLanguages, t } from '../lib/i18n.js';
import { escapeHtml } from '../lib/html.js';
import { template } from '../lib/templates.js';
import type { Newsroom } from '../newsrooms/repository.js';
import {
  listPublicContacts,
  listPublicReleases,
  MATCH_END,
  MATCH_START,
  type PublicSearchHit,
  type WithdrawnRelease,
} from '../releases/public.js';
import {
  aboutNewsroom,
  alternates,
  attachmentViews,
  bodyForPage,
  contactCard,
  correctionNotes,
  eventView,
  feedLinks,
  inLanguage,
  newsroomFeeds,
  jsonLd,
  keywordLinks,
  languageVersions,
  newsroomHome,
  newsroomName,
  releaseListItem,
  searchBox,
  type ShownRelease,
  subscribeForm,
  translationIn,
  typeLabel,
} from './presenter.js';
import { assetUrl } from './static.js';
import {
  allFeedUrl,
  type FileUrls,
  frontPageInUrl,
  frontPageUrl,
  keywordFeedUrl,
  keywordPageUrl,
  newsroomPageUrl,
  publicFileUrls,
  releasePageUrl,
  searchPageUrl,
} from './urls.js';

/*
 * Renders the public pages to HTML strings: gathers what a page shows (through
 * releases/public.ts only), shapes it with presenter.ts and fills templates/site/.
 */

/** Releases per page of a newsroom or keyword list. */
export const PAGE_SIZE = 20;
const MORE_FROM_COUNT = 5;

/** What every page's shell (templates/site/partials/layout.hbs) needs. */
function shell(ctx: AppContext, lang: string, timezone: string, newsroom?: Newsroom) {
  const base = ctx.config.publicUrl;
  return {
    lang,
    timezone,
    stylesheetUrl: assetUrl(base, 'site.css'),
    printStylesheetUrl: assetUrl(base, 'print.css'),
    iconUrl: assetUrl(base, 'favicon.svg'),
    homeUrl: frontPageUrl(base),
    newsroom: newsroom && newsroomHome(base, newsroom, lang),
    search: newsroom && searchBox(base, newsroom, lang),
  };
}

/** The parts of a newsroom every page of it shows: about, subscribe, feeds. */
function newsroomParts(ctx: AppContext, newsroom: Newsroom, lang: string) {
  const base = ctx.config.publicUrl;
  return {
    about: aboutNewsroom(newsroom, lang),
    subscribe: subscribeForm(base, newsroom, lang),
    feeds: newsroomFeeds(base, newsroom, lang),
  };
}

export interface ReleasePageOptions {
  /** Where its attachments are linked (by default the public file URLs). */
  fileUrls?: FileUrls;
  /** A banner above the release stating its embargo (the page behind a personal advance link). */
  embargoNotice?: string;
  /** Where its language switch leads (by default the public page in that language; the personal link's own before publication). */
  languageUrl?: (lang: string) => string;
}

/**
 * The page of a release in one language. `release.publishedAt` is the time it is (or, in
 * a staff preview, will be) published at; `fileUrls` where its attachments are linked
 * (the staff app's preview links its own, which serve embargoed files to its session).
 */
export async function renderReleasePage(
  ctx: AppContext,
  newsroom: Newsroom,
  release: ShownRelease,
  lang: string,
  options: ReleasePageOptions = {},
): Promise<string> {
  const base = ctx.config.publicUrl;
  const fileUrls = options.fileUrls ?? publicFileUrls(base);
  const tr = translationIn(release, lang)!;
  const urlOf = (l: string) => releasePageUrl(base, newsroom.slug, l, release.id, translationIn(release, l)!.title);
  const canonical = urlOf(lang);
  const langs = release.translations.map((x) => x.lang);
  const { images, files } = attachmentViews(fileUrls, release.attachments, lang);
  const more = (await listPublicReleases(ctx, { newsroomId: newsroom.id, lang, limit: MORE_FROM_COUNT + 1 }))
    .filter((r) => r.id !== release.id)
    .slice(0, MORE_FROM_COUNT)
    .map((r) => releaseListItem(base, r, lang));
  const keywords = release.keywords[lang] ?? [];
  const updated = Date.parse(release.updatedAt) > Date.parse(release.publishedAt) ? release.updatedAt : null;
  const corrections = correctionNotes(release, lang);
  const name = newsroomName(newsroom, lang);
  const image = images[0];
  const parts = newsroomParts(ctx, newsroom, lang);

  return template('site/release.hbs')({
    ...shell(ctx, lang, newsroom.timezone, newsroom),
    ...parts,
    pageTitle: `${tr.title} – ${name}`,
    description: tr.lead,
    canonical,
    alternates: alternates(langs, urlOf),
    languages: languageVersions(langs, lang, options.languageUrl ?? urlOf),
    og: {
      type: 'article',
      title: tr.title,
      description: tr.lead,
      url: canonical,
      siteName: name,
      image: image?.src,
      imageAlt: image?.caption,
      publishedTime: release.publishedAt,
    },
    jsonLd: jsonLd({
      '@context': 'https://schema.org',
      '@type': 'NewsArticle',
      headline: tr.title,
      description: tr.lead || undefined,
      url: canonical,
      mainEntityOfPage: canonical,
      datePublished: release.publishedAt,
      dateModified: updated ?? release.publishedAt,
      correction: corrections.length
        ? corrections.map((c) => ({ '@type': 'CorrectionComment', text: c.note, datePublished: c.at }))
        : undefined,
      inLanguage: lang,
      articleSection: typeLabel(release.type, lang),
      keywords: keywords.length ? keywords.join(', ') : undefined,
      image: images.length ? images.map((i) => i.src) : undefined,
      publisher: { '@type': 'Organization', name, url: newsroom.website ?? newsroomPageUrl(base, newsroom.slug, lang) },
      author: { '@type': 'Organization', name, url: newsroom.website ?? newsroomPageUrl(base, newsroom.slug, lang) },
    }),
    embargoNotice: options.embargoNotice,
    release: {
      typeLabel: typeLabel(release.type, lang),
      title: tr.title,
      lead: tr.lead,
      bodyHtml: bodyForPage(tr.bodyHtml, base, lang),
      publishedAt: release.publishedAt,
      updatedAt: updated,
      corrections,
      event: eventView(base, newsroom, release, lang),
      keywords: keywordLinks(base, newsroom, lang, keywords),
      contacts: release.contacts.map((c) => contactCard(base, newsroom, c, lang)),
      // The first image leads the page, large; the others follow as a gallery.
      leadImage: images[0],
      images: images.slice(1),
      files,
    },
    more,
  });
}

/** A list page's "newer / older" links; `urlOf(page)` is the URL of a page number. */
function pagination(page: number, hasNext: boolean, urlOf: (page: number) => string) {
  if (page === 1 && !hasNext) return null;
  return {
    page,
    newer: page > 1 ? (page === 2 ? urlOf(1) : `${urlOf(page - 1)}?page=${page - 1}`) : null,
    older: hasNext ? `${urlOf(page + 1)}?page=${page + 1}` : null,
  };
}

/** A newsroom's page in one language, or undefined when `page` is past the last one. */
export async function renderNewsroomPage(
  ctx: AppContext,
  newsroom: Newsroom,
  lang: string,
  page: number,
): Promise<string | undefined> {
  const base = ctx.config.publicUrl;
  const found = await listPublicReleases(ctx, { newsroomId: newsroom.id, lang, limit: PAGE_SIZE + 1, offset: (page - 1) * PAGE_SIZE });
  if (page > 1 && found.length === 0) return undefined;
  const urlOf = (l: string) => newsroomPageUrl(base, newsroom.slug, l);
  const canonical = page === 1 ? urlOf(lang) : `${urlOf(lang)}?page=${page}`;
  const contacts = await listPublicContacts(ctx, newsroom.id);
  const name = newsroomName(newsroom, lang);
  return template('site/newsroom.hbs')({
    ...shell(ctx, lang, newsroom.timezone, newsroom),
    ...newsroomParts(ctx, newsroom, lang),
    pageTitle: page === 1 ? name : `${name} – ${t(lang, 'site.pageNumber', { page })}`,
    heading: name,
    description: newsroom.boilerplate[lang]?.slice(0, 300),
    canonical,
    alternates: page === 1 ? alternates(newsroom.languages, urlOf) : [],
    languages: languageVersions(newsroom.languages, lang, urlOf),
    og: { type: 'website', title: name, url: canonical, siteName: name, description: newsroom.boilerplate[lang]?.slice(0, 300) },
    releases: found.slice(0, PAGE_SIZE).map((r) => releaseListItem(base, r, lang)),
    pagination: pagination(page, found.length > PAGE_SIZE, () => urlOf(lang)),
    contacts: contacts.map((c) => contactCard(base, newsroom, c, lang)),
  });
}

/** A keyword's page, or undefined when no public release of the newsroom in `lang` has it. */
export async function renderKeywordPage(
  ctx: AppContext,
  newsroom: Newsroom,
  lang: string,
  keyword: string,
  page: number,
): Promise<string | undefined> {
  const base = ctx.config.publicUrl;
  const found = await listPublicReleases(ctx, {
    newsroomId: newsroom.id,
    lang,
    keyword,
    limit: PAGE_SIZE + 1,
    offset: (page - 1) * PAGE_SIZE,
  });
  if (found.length === 0) return undefined;
  // The keyword as the newest release writes it.
  const shown = found[0]!.keywords[lang]?.find((k) => k.toLowerCase() === keyword.toLowerCase()) ?? keyword;
  const pageUrl = keywordPageUrl(base, newsroom.slug, lang, shown);
  const canonical = page === 1 ? pageUrl : `${pageUrl}?page=${page}`;
  const name = newsroomName(newsroom, lang);
  const heading = t(lang, 'site.keywordHeading', { keyword: shown });
  return template('site/list.hbs')({
    ...shell(ctx, lang, newsroom.timezone, newsroom),
    ...newsroomParts(ctx, newsroom, lang),
    pageTitle: `${heading} – ${name}`,
    heading,
    canonical,
    feeds: feedLinks(lang, `${name}: ${shown}`, (format) => keywordFeedUrl(base, newsroom.slug, lang, shown, format)),
    og: { type: 'website', title: heading, url: canonical, siteName: name },
    releases: found.slice(0, PAGE_SIZE).map((r) => releaseListItem(base, r, lang)),
    pagination: pagination(page, found.length > PAGE_SIZE, () => pageUrl),
  });
}

/** Search text with its matches marked up: everything escaped, then the markers become <mark>. */
export const highlight = (text: string) =>
  escapeHtml(text).replaceAll(MATCH_START, '<mark>').replaceAll(MATCH_END, '</mark>');

export function renderSearchPage(
  ctx: AppContext,
  newsroom: Newsroom,
  lang: string,
  query: string,
  hits: PublicSearchHit[],
): string {
  const base = ctx.config.publicUrl;
  const name = newsroomName(newsroom, lang);
  const heading = t(lang, 'site.searchHeading');
  return template('site/search.hbs')({
    ...shell(ctx, lang, newsroom.timezone, newsroom),
    ...newsroomParts(ctx, newsroom, lang),
    search: searchBox(base, newsroom, lang, query),
    pageTitle: query ? `${t(lang, 'site.searchResultsFor', { query })} – ${name}` : `${heading} – ${name}`,
    heading,
    canonical: searchPageUrl(base, newsroom.slug, lang),
    noindex: true,
    query,
    results: hits.map((hit) => ({
      ...releaseListItem(base, hit.release, lang),
      titleHtml: highlight(hit.title),
      // Headings, list items and paragraphs end in line breaks in the index: kept apart here.
      snippetHtml: highlight(hit.snippet.replace(/\s*\n\s*/g, ' · ')),
    })),
  });
}

/**
 * The front page in one of the interface languages: every newsroom's latest releases,
 * each once, in that language when it has it (else its first), with links to its other
 * language versions.
 */
export async function renderFrontPage(ctx: AppContext, newsrooms: Newsroom[], lang: string): Promise<string> {
  const base = ctx.config.publicUrl;
  const releases = await listPublicReleases(ctx, { limit: PAGE_SIZE });
  const byId = new Map(newsrooms.map((n) => [n.id, n]));
  const urlOf = (l: string) => frontPageInUrl(base, l);
  // English first: the x-default of the alternates, as for a browser that asks for none of them.
  const langs = ['en', ...interfaceLanguages.filter((l) => l !== 'en')];
  return template('site/front.hbs')({
    ...shell(ctx, lang, 'UTC'),
    pageTitle: t(lang, 'site.siteName'),
    heading: t(lang, 'site.frontHeading'),
    // The list sits right under the h1: its titles are h2.
    listHeadingLevel: 2,
    canonical: urlOf(lang),
    alternates: alternates(langs, urlOf),
    languages: languageVersions(langs, lang, urlOf),
    feeds: feedLinks(lang, t(lang, 'site.siteName'), (format) => allFeedUrl(base, format)),
    og: { type: 'website', title: t(lang, 'site.siteName'), url: urlOf(lang), siteName: t(lang, 'site.siteName') },
    releases: releases.map((r) => {
      const newsroom = byId.get(r.newsroomId);
      const shown = translationIn(r, lang)?.lang ?? r.translations[0]!.lang;
      return {
        ...releaseListItem(base, r, shown),
        typeLabel: typeLabel(r.type, lang),
        newsroom: newsroom && newsroomHome(base, newsroom, shown),
        // Each release in its own newsroom's time zone, as on the newsroom's pages.
        timezone: newsroom?.timezone,
        otherVersions: languageVersions(
          r.translations.map((x) => x.lang),
          shown,
          (l) => releasePageUrl(base, r.newsroomSlug, l, r.id, translationIn(r, l)!.title),
        ),
      };
    }),
    newsrooms: newsrooms.map((n) => {
      const shown = n.languages.includes(lang) ? lang : n.languages[0]!;
      return { ...newsroomHome(base, n, shown), lang: shown };
    }),
  });
}

/**
 * The 404 page: the same for an unknown address and an embargoed release, in the
 * newsroom's language when the address names one (else English).
 */
export function renderNotFound(ctx: AppContext, lang: string, newsroom?: Newsroom): string {
  const ui = newsroom ? lang : interfaceLanguage(lang);
  return template('site/error.hbs')({
    ...shell(ctx, ui, newsroom?.timezone ?? 'UTC', newsroom),
    pageTitle: t(ui, 'site.notFoundTitle'),
    heading: t(ui, 'site.notFoundTitle'),
    text: t(ui, 'site.notFoundText'),
    backUrl: newsroom ? newsroomPageUrl(ctx.config.publicUrl, newsroom.slug, lang) : frontPageUrl(ctx.config.publicUrl),
  });
}

/** The 410 page of a withdrawn release: that it was withdrawn, when, and why when staff said. */
export function renderGone(ctx: AppContext, newsroom: Newsroom, lang: string, withdrawal: WithdrawnRelease | undefined): string {
  return template('site/error.hbs')({
    ...shell(ctx, lang, newsroom.timezone, newsroom),
    pageTitle: t(lang, 'site.goneTitle'),
    heading: t(lang, 'site.goneTitle'),
    withdrawnAt: withdrawal?.withdrawnAt,
    reason: withdrawal && inLanguage(withdrawal.reason, lang, withdrawal.languages),
    backUrl: newsroomPageUrl(ctx.config.publicUrl, newsroom.slug, lang),
  });
}
