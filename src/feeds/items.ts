import type { AppContext } from '../context.js';
import type { Contact } from '../contacts/repository.js';
import type { AttachmentRow } from '../lib/db/schema.js';
import { escapeHtml, htmlToText } from '../lib/html.js';
import { t } from '../lib/i18n.js';
import { listNewsrooms, type Newsroom } from '../newsrooms/repository.js';
import { listPublicReleasesAsOf, type PublicRelease, type PublicStamp } from '../releases/public.js';
import {
  allFeedUrl,
  attachmentRenditionUrl,
  attachmentUrl,
  frontPageUrl,
  keywordFeedUrl,
  keywordPageUrl,
  newsroomAtomUrl,
  newsroomJsonFeedUrl,
  newsroomPageUrl,
  newsroomRssUrl,
  releasePageUrl,
  websubHubUrl,
} from '../site/urls.js';

/*
 * The one view model of every feed: what a newsroom, keyword or all-newsroom feed holds,
 * built once from the public releases; rss.ts, atom.ts and json.ts only write it out.
 */

export const feedFormats = ['rss.xml', 'atom.xml', 'feed.json'] as const;
export type FeedFormat = (typeof feedFormats)[number];

/** The newest releases a feed holds. */
export const FEED_SIZE = 50;

export type FeedScope =
  | { kind: 'newsroom'; newsroom: Newsroom; lang: string }
  | { kind: 'keyword'; newsroom: Newsroom; lang: string; keyword: string }
  | { kind: 'all' };

export interface FeedEnclosure {
  url: string;
  type: string;
  /** The file's real size in bytes. */
  length: number;
  title?: string;
}

export interface FeedItem {
  /** Never changes for this release and language, whatever edits follow (see releaseGuid). */
  guid: string;
  url: string;
  lang: string;
  title: string;
  /** The lead, as text. */
  summary: string;
  /** The stored sanitised body, then the contacts. */
  contentHtml: string;
  published: Date;
  /** The last edit after publication, else the publication. */
  updated: Date;
  categories: string[];
  /** The newsroom's name in the item's language. */
  author: string;
  /** Images first, so that readers that take only the first enclosure get the press image. */
  enclosures: FeedEnclosure[];
  /** The first image's web-size version (or the image itself), for formats that show one. */
  image?: string;
}

export interface FeedView {
  title: string;
  description: string;
  /** The page the feed is the feed of. */
  homeUrl: string;
  /** Absent for the all-newsroom feed, whose items are each in their release's first language. */
  lang?: string;
  /** The WebSub hubs the feed advertises (rel="hub"): this service's own. */
  hubs: string[];
  /** The feed's own URL in each format (for rel="self" and the formats linking each other). */
  urls: Record<FeedFormat, string>;
  /** When what the feed shows last changed (the public stamp's Last-Modified). */
  updated: Date;
  /** The newsroom, for feeds of one. */
  author?: string;
  items: FeedItem[];
}

/** Characters XML 1.0 cannot hold at all; the API stores them, so every output drops them here. */
const NOT_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
export const xmlSafe = (text: string) => text.replace(NOT_XML, '');

/** Text for XML (or HTML) content and attribute values. */
export const escapeXml = (text: string) => escapeHtml(xmlSafe(text));

/**
 * The id of a release in one language in every feed: the release id does not change
 * when its title, its URL's slug or PUBLIC_URL do. (`urn:newsroom:` as the problem types.)
 */
export const releaseGuid = (releaseId: string, lang: string) => `urn:newsroom:release:${releaseId}:${lang}`;

export const newsroomName = (newsroom: Newsroom, lang: string) =>
  newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? Object.values(newsroom.name)[0] ?? newsroom.slug;

function contactsHtml(contacts: Contact[], lang: string): string {
  if (contacts.length === 0) return '';
  const cards = contacts.map((contact) => {
    const title = contact.title[lang] ?? '';
    const lines = [
      `<strong>${escapeXml(contact.name)}</strong>${title ? `, ${escapeXml(title)}` : ''}`,
      contact.phone ? `<a href="tel:${escapeXml(contact.phone.replace(/[^+\d]/g, ''))}">${escapeXml(contact.phone)}</a>` : '',
      contact.email ? `<a href="mailto:${escapeXml(contact.email)}">${escapeXml(contact.email)}</a>` : '',
    ].filter(Boolean);
    return `<li>${lines.join('<br>')}</li>`;
  });
  return `<h2>${escapeXml(t(lang, 'site.feed.contacts'))}</h2><ul>${cards.join('')}</ul>`;
}

const isImage = (a: AttachmentRow) => a.content_type.startsWith('image/');

function enclosuresOf(attachments: AttachmentRow[], lang: string, base: string): FeedEnclosure[] {
  return [...attachments.filter(isImage), ...attachments.filter((a) => !isImage(a))].map((a) => {
    const caption = (JSON.parse(a.caption) as Record<string, string>)[lang];
    return {
      url: attachmentUrl(base, a.id, a.filename),
      type: a.content_type,
      length: Number(a.size),
      ...(caption ? { title: xmlSafe(caption) } : {}),
    };
  });
}

/** One release in one of its languages, as every feed shows it. */
export function feedItem(release: PublicRelease, lang: string, newsroom: Newsroom, base: string): FeedItem {
  const translation = release.translations.find((tr) => tr.lang === lang) ?? release.translations[0]!;
  const published = new Date(release.publishedAt);
  const edited = new Date(release.updatedAt);
  const firstImage = release.attachments.find(isImage);
  return {
    guid: releaseGuid(release.id, translation.lang),
    url: releasePageUrl(base, newsroom.slug, translation.lang, release.id, translation.title),
    lang: translation.lang,
    title: xmlSafe(translation.title),
    summary: xmlSafe(translation.lead),
    contentHtml: xmlSafe(translation.bodyHtml + contactsHtml(release.contacts, translation.lang)),
    published,
    updated: edited > published ? edited : published,
    categories: (release.keywords[translation.lang] ?? []).map(xmlSafe),
    author: xmlSafe(newsroomName(newsroom, translation.lang)),
    enclosures: enclosuresOf(release.attachments, translation.lang, base),
    ...(firstImage
      ? { image: firstImage.rendition ? attachmentRenditionUrl(base, firstImage.id) : attachmentUrl(base, firstImage.id, firstImage.filename) }
      : {}),
  };
}

const inEveryFormat = (url: (format: FeedFormat) => string) =>
  Object.fromEntries(feedFormats.map((format) => [format, url(format)])) as Record<FeedFormat, string>;

const newsroomFeedUrls = { 'rss.xml': newsroomRssUrl, 'atom.xml': newsroomAtomUrl, 'feed.json': newsroomJsonFeedUrl };

/** What a feed is the feed of, as its URL names it: every newsroom, a newsroom in a language, or a keyword of one. */
export type FeedAddress = { newsroomSlug?: undefined } | { newsroomSlug: string; lang: string; keyword?: string };

/** A feed's own URL (its rel="self", and its WebSub topic). */
export function feedUrl(base: string, format: FeedFormat, address: FeedAddress): string {
  if (address.newsroomSlug === undefined) return allFeedUrl(base, format);
  if (address.keyword === undefined) return newsroomFeedUrls[format](base, address.newsroomSlug, address.lang);
  return keywordFeedUrl(base, address.newsroomSlug, address.lang, address.keyword, format);
}

/** The keyword as the newest release writes it (the URL has it lower-cased). */
const keywordAsWritten = (releases: PublicRelease[], lang: string, keyword: string) =>
  releases.flatMap((r) => r.keywords[lang] ?? []).find((k) => k.toLowerCase() === keyword.toLowerCase()) ?? keyword;

/** The latest public releases of the scope as its public stamp saw them, as a feed. */
export async function buildFeedView(ctx: AppContext, scope: FeedScope, stamp: PublicStamp): Promise<FeedView> {
  const base = ctx.config.publicUrl;
  const updated = stamp.lastModified;
  const hubs = [websubHubUrl(base)];
  if (scope.kind === 'all') {
    const [releases, newsrooms] = await Promise.all([listPublicReleasesAsOf(ctx, { limit: FEED_SIZE }, stamp), listNewsrooms(ctx.db)]);
    const byId = new Map(newsrooms.map((n) => [n.id, n]));
    return {
      title: t('en', 'site.feed.titleAll'),
      description: t('en', 'site.feed.descriptionAll'),
      homeUrl: frontPageUrl(base),
      urls: inEveryFormat((format) => allFeedUrl(base, format)),
      hubs,
      updated,
      items: releases.map((r) => feedItem(r, r.translations[0]!.lang, byId.get(r.newsroomId)!, base)),
    };
  }

  const { newsroom, lang } = scope;
  const name = newsroomName(newsroom, lang);
  const keyword = scope.kind === 'keyword' ? scope.keyword : undefined;
  const releases = await listPublicReleasesAsOf(ctx, { newsroomId: newsroom.id, lang, keyword, limit: FEED_SIZE }, stamp);
  const common = { lang, updated, hubs, author: xmlSafe(name), items: releases.map((r) => feedItem(r, lang, newsroom, base)) };
  if (keyword === undefined) {
    const boilerplate = newsroom.boilerplateHtml[lang];
    return {
      ...common,
      title: xmlSafe(name),
      description: xmlSafe(boilerplate ? htmlToText(boilerplate) : t(lang, 'site.feed.descriptionNewsroom', { newsroom: name })),
      homeUrl: newsroomPageUrl(base, newsroom.slug, lang),
      urls: inEveryFormat((format) => newsroomFeedUrls[format](base, newsroom.slug, lang)),
    };
  }
  const written = keywordAsWritten(releases, lang, keyword);
  return {
    ...common,
    title: xmlSafe(t(lang, 'site.feed.titleKeyword', { newsroom: name, keyword: written })),
    description: xmlSafe(t(lang, 'site.feed.descriptionKeyword', { newsroom: name, keyword: written })),
    homeUrl: keywordPageUrl(base, newsroom.slug, lang, keyword),
    urls: inEveryFormat((format) => keywordFeedUrl(base, newsroom.slug, lang, keyword, format)),
  };
}
