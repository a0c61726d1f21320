import type { Contact } from '../contacts/repository.js';
import type { AttachmentRow } from '../lib/db/schema.js';
import { formatDate, formatDateTime, formatSize, formatTime, interfaceLanguage, t } from '../lib/i18n.js';
import type { Newsroom } from '../newsrooms/repository.js';
import type { Release, Translation } from '../releases/repository.js';
import {
  brandStylesheetUrl,
  publicFileUrls,
  contactVcardUrl,
  type FileUrls,
  keywordPageUrl,
  newsroomAtomUrl,
  newsroomJsonFeedUrl,
  newsroomLogoUrl,
  newsroomPageUrl,
  newsroomCalendarUrl,
  newsroomNinjsUrl,
  newsroomRssUrl,
  releaseIcsUrl,
  releasePageUrl,
  searchPageUrl,
  subscribeUrl,
} from './urls.js';
import { telUri } from './vcard.js';
import { colordx } from '@colordx/core';

/*
 * View models of the public pages: plain data for the templates under templates/site/.
 * Everything here is text that the templates escape, except `bodyHtml` and
 * `boilerplateHtml` (stored, sanitised HTML) and `jsonLd` (escaped for a script element).
 */

/** The long side of the web rendition (see attachments/images.ts). */
const RENDITION_SIZE = 1600;

/** A release as a page shows it: with the time it is (or will be) published at. */
export type ShownRelease = Release & { publishedAt: string };

export const newsroomName = (newsroom: Newsroom, lang: string) =>
  newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? Object.values(newsroom.name)[0] ?? newsroom.slug;

export const translationIn = (release: Release, lang: string): Translation | undefined =>
  release.translations.find((tr) => tr.lang === lang);

/** A language's name in the page's language ("ruotsi"), or in itself with `own` ("svenska"). */
export function languageName(code: string, inLang: string): string {
  try {
    const name = new Intl.DisplayNames([inLang], { type: 'language' }).of(code) ?? code;
    return name.charAt(0).toLocaleUpperCase(inLang) + name.slice(1);
  } catch {
    return code;
  }
}

export const typeLabel = (type: string, lang: string) => t(lang, `common.type.${type}`);

/** A text given per language, in `lang`, else in the first of `languages` that has it. */
export const inLanguage = (texts: Record<string, string>, lang: string, languages: readonly string[]): string | undefined =>
  texts[lang] || languages.map((l) => texts[l]).find(Boolean) || undefined;

/** A release's corrections (not its minor edits) in `lang`, oldest first: when, and the note. */
export function correctionNotes(release: Release, lang: string): { at: string; note: string }[] {
  const languages = release.translations.map((tr) => tr.lang);
  return release.corrections
    .filter((c) => c.kind === 'correction')
    .map((c) => ({ at: c.at, note: inLanguage(c.note, lang, languages) ?? '' }));
}

/** A release in a list: title, link, time, type. */
/** A release's first image as a list shows it: its web rendition, small. */
function thumbnail(base: string, release: ShownRelease) {
  const image = release.attachments.find((a) => a.rendition && a.width && a.height);
  if (!image) return null;
  const shown = renditionSize(image.width!, image.height!);
  return { src: publicFileUrls(base).rendition(image.id), width: shown.width, height: shown.height };
}

export function releaseListItem(base: string, release: ShownRelease, lang: string) {
  const tr = translationIn(release, lang) ?? release.translations[0]!;
  return {
    thumbnail: thumbnail(base, release),
    lang: tr.lang,
    title: tr.title,
    lead: tr.lead,
    url: releasePageUrl(base, release.newsroomSlug, tr.lang, release.id, tr.title),
    publishedAt: release.publishedAt,
    typeLabel: typeLabel(release.type, lang),
  };
}

export function contactCard(base: string, newsroom: Newsroom, contact: Contact, lang: string) {
  return {
    name: contact.name,
    title: contact.title[lang] ?? '',
    // Shown on one line: a number must not wrap at its spaces.
    phone: contact.phone?.replace(/ /g, '\u00a0') ?? null,
    tel: contact.phone ? telUri(contact.phone) : null,
    email: contact.email,
    mailto: contact.email ? `mailto:${contact.email}` : null,
    vcardUrl: contactVcardUrl(base, newsroom.slug, contact.id),
  };
}

const fileTypes: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/webp': 'WebP',
  'image/gif': 'GIF',
  'image/tiff': 'TIFF',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
  'application/msword': 'Word',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
  'application/vnd.ms-excel': 'Excel',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint',
  'application/vnd.ms-powerpoint': 'PowerPoint',
  'application/vnd.oasis.opendocument.text': 'OpenDocument',
  'audio/mpeg': 'MP3',
  'video/mp4': 'MP4',
};

const fileType = (a: AttachmentRow) =>
  fileTypes[a.content_type] ?? (/\.([a-z0-9]{1,8})$/i.exec(a.filename)?.[1]?.toUpperCase() || a.content_type);

/** The size of the web rendition: the original fitted inside RENDITION_SIZE, never enlarged (as sharp makes it). */
export function renditionSize(width: number, height: number) {
  const scale = Math.min(1, RENDITION_SIZE / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

/**
 * A credit as shown, in words or a sign that already say what it is ("Kuva: Matti
 * Virtanen", "© Lehtikuva", "Foto Anna Berg"), or one line in `lang`'s words ("Kuva:
 * ...", "Foto: ...", "Photo: ..."). Staff type it either way into the one field.
 */
const CREDIT_PREFIX = /^\s*(?:©|\(c\)|(?:kuva|kuvat|kuvaaja|valokuva|foto|fotograf|fotografi|bild|photo|photos|photograph|photographer|picture|image|credit)\b\s*[:：]?)/iu;

export function creditLine(credit: string | null, lang: string): string | null {
  if (!credit?.trim()) return null;
  return CREDIT_PREFIX.test(credit) ? credit.trim() : t(lang, 'site.photoCredit', { credit: credit.trim() });
}

export function attachmentViews(fileUrls: FileUrls, attachments: AttachmentRow[], lang: string) {
  const images = [];
  const files = [];
  for (const a of attachments) {
    const caption: Record<string, string> = JSON.parse(a.caption);
    const common = {
      filename: a.filename,
      url: fileUrls.file(a.id, a.filename),
      type: fileType(a),
      size: formatSize(lang, Number(a.size)),
      caption: caption[lang] ?? '',
      credit: creditLine(a.credit, lang),
    };
    if (a.rendition && a.width && a.height) {
      const shown = renditionSize(a.width, a.height);
      const src = fileUrls.rendition(a.id);
      images.push({
        ...common,
        src,
        srcset: `${src} ${shown.width}w`,
        width: shown.width,
        height: shown.height,
        dimensions: `${a.width} × ${a.height}`,
        webDimensions: `${shown.width} × ${shown.height}`,
      });
    } else {
      files.push(common);
    }
  }
  return { images, files };
}

/**
 * An invitation's event as its page shows it, in the newsroom's time zone: "24.11.2026 klo
 * 10.00–11.30" (an end on another day in full), the place, the online link, and its `.ics`.
 */
export function eventView(base: string, newsroom: Newsroom, release: Release, lang: string) {
  const event = release.event;
  if (!event) return null;
  const zone = newsroom.timezone;
  const start = formatDateTime(lang, event.startsAt, zone);
  const sameDay = event.endsAt && formatDate(lang, event.endsAt, zone) === formatDate(lang, event.startsAt, zone);
  const end = event.endsAt && (sameDay ? formatTime(lang, event.endsAt, zone) : formatDateTime(lang, event.endsAt, zone));
  return {
    startsAt: event.startsAt,
    endsAt: event.endsAt,
    when: end ? `${start}${sameDay ? '–' : ' – '}${end}` : start,
    place: event.place,
    onlineUrl: event.onlineUrl,
    icsUrl: releaseIcsUrl(base, newsroom.slug, lang, release.id),
  };
}

/**
 * Networks whose handles may become links, the hosts their own URLs live on, and where a
 * bare handle (`@example`) lives when the network has such profile addresses.
 */
const networkHosts: Record<string, { label: string; hosts: string[]; profile?: (handle: string) => string }> = {
  x: { label: 'X', hosts: ['x.com', 'twitter.com'], profile: (h) => `https://x.com/${h}` },
  twitter: { label: 'X', hosts: ['x.com', 'twitter.com'], profile: (h) => `https://x.com/${h}` },
  facebook: { label: 'Facebook', hosts: ['facebook.com'] },
  linkedin: { label: 'LinkedIn', hosts: ['linkedin.com'] },
  youtube: { label: 'YouTube', hosts: ['youtube.com'] },
  instagram: { label: 'Instagram', hosts: ['instagram.com'], profile: (h) => `https://www.instagram.com/${h}/` },
};

/** A bare handle as X and Instagram write them: letters, digits, `_` and `.`, with or without `@`. */
const BARE_HANDLE = /^@?([A-Za-z0-9_.]{1,30})$/;

/**
 * Social links, named by their network ("LinkedIn", "X @example"): a handle becomes a
 * link only when it is an `https:` URL on the network's own host (or a subdomain of it),
 * or a bare handle of a network with profile addresses; anything else is shown as text.
 */
export function socialLinks(social: Record<string, string>) {
  return Object.entries(social).map(([network, handle]) => {
    const known = networkHosts[network];
    const bare = BARE_HANDLE.exec(handle)?.[1];
    if (known?.profile && bare) return { label: known.label, name: `${known.label} @${bare}`, text: handle, href: known.profile(bare) };
    let href: string | null = null;
    if (known) {
      try {
        const url = new URL(handle);
        const host = url.hostname.toLowerCase();
        if (url.protocol === 'https:' && !url.username && !url.password && known.hosts.some((h) => host === h || host.endsWith(`.${h}`))) {
          href = url.href;
        }
      } catch {
        // A handle, not a URL: shown as text.
      }
    }
    return { label: known?.label ?? network, name: known?.label ?? network, text: handle, href };
  });
}

/** The newsroom's "about" block: name, boilerplate, website, social links. */
export function aboutNewsroom(newsroom: Newsroom, lang: string) {
  return {
    name: newsroomName(newsroom, lang),
    boilerplateHtml: newsroom.boilerplateHtml[lang] ?? '',
    website: newsroom.website,
    social: socialLinks(newsroom.social),
  };
}

export function subscribeForm(base: string, newsroom: Newsroom, lang: string) {
  const ui = interfaceLanguage(lang);
  return {
    action: subscribeUrl(base, newsroom.slug),
    languages: newsroom.languages.map((code) => ({ code, name: languageName(code, ui), checked: code === lang })),
  };
}

type FeedFormat = 'rss.xml' | 'atom.xml' | 'feed.json';

/** Autodiscovery links of the three feeds of one scope; `urlOf` gives each format's URL. */
export function feedLinks(lang: string, name: string, urlOf: (format: FeedFormat) => string) {
  return [
    { type: 'application/rss+xml', title: t(lang, 'site.feedRss', { name }), href: urlOf('rss.xml') },
    { type: 'application/atom+xml', title: t(lang, 'site.feedAtom', { name }), href: urlOf('atom.xml') },
    { type: 'application/feed+json', title: t(lang, 'site.feedJson', { name }), href: urlOf('feed.json') },
  ];
}

/** The feeds of a newsroom in one language: RSS, Atom, JSON Feed, then ninjs and the calendar of its invitations. */
export function newsroomFeeds(base: string, newsroom: Newsroom, lang: string) {
  const urls = { 'rss.xml': newsroomRssUrl, 'atom.xml': newsroomAtomUrl, 'feed.json': newsroomJsonFeedUrl };
  const name = newsroomName(newsroom, lang);
  return [
    ...feedLinks(lang, name, (format) => urls[format](base, newsroom.slug, lang)),
    { type: 'application/json', title: t(lang, 'site.feedNinjs', { name }), href: newsroomNinjsUrl(base, newsroom.slug, lang) },
    { type: 'text/calendar', title: t(lang, 'site.feedCalendar', { name }), href: newsroomCalendarUrl(base, newsroom.slug, lang) },
  ];
}

/** hreflang alternates of a page that exists in `langs`, plus x-default (the first). */
export function alternates(langs: string[], urlOf: (lang: string) => string) {
  const links = langs.map((lang) => ({ hreflang: lang, href: urlOf(lang) }));
  return links.length ? [...links, { hreflang: 'x-default', href: links[0]!.href }] : [];
}

/** Links to the other language versions of a page, each named in its own language. */
export const languageVersions = (langs: string[], current: string, urlOf: (lang: string) => string) =>
  langs.filter((lang) => lang !== current).map((lang) => ({ lang, name: languageName(lang, lang), href: urlOf(lang) }));

/** Data for a `<script type="application/ld+json">`: `<` escaped so no text can close the element. */
export const jsonLd = (data: unknown) =>
  JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/**
 * The stored body as a page shows it: embedded players and images from other hosts become
 * links, so that opening a page makes no request to a third party. The body is sanitised
 * HTML (lib/html.ts), so its attributes are double-quoted and already escaped.
 */
export function bodyForPage(bodyHtml: string, base: string, lang: string): string {
  const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  return bodyHtml
    .replace(/<iframe\b[^>]*>(?:<\/iframe>)?/g, (tag) => {
      const src = attr(tag, 'src');
      return src ? `<a href="${src}" rel="noopener noreferrer nofollow">${attr(tag, 'title') || t(lang, 'site.embeddedVideo')}</a>` : '';
    })
    .replace(/<img\b[^>]*>/g, (tag) => {
      const src = attr(tag, 'src') ?? '';
      if (src.startsWith(`${base}/`)) return tag;
      return `<a href="${src}" rel="noopener noreferrer nofollow">${attr(tag, 'alt') || t(lang, 'site.externalImage')}</a>`;
    });
}

/** Where a keyword links to. */
export const keywordLinks = (base: string, newsroom: Newsroom, lang: string, keywords: string[]) =>
  keywords.map((text) => ({ text, url: keywordPageUrl(base, newsroom.slug, lang, text) }));

export const searchBox = (base: string, newsroom: Newsroom, lang: string, query = '') => ({
  action: searchPageUrl(base, newsroom.slug, lang),
  query,
});

export const newsroomHome = (base: string, newsroom: Newsroom, lang: string) => ({
  name: newsroomName(newsroom, lang),
  url: newsroomPageUrl(base, newsroom.slug, lang),
  logo: newsroom.logo && { src: newsroomLogoUrl(base, newsroom.slug, newsroom.logo.sha256), width: newsroom.logo.width, height: newsroom.logo.height },
  brandStylesheet: newsroom.brandColor ? brandStylesheetUrl(base, newsroom.slug, newsroom.brandColor) : undefined,
});

/** The site's own accent, where a newsroom has no brand colour (static/site.css has the same). */
export const DEFAULT_ACCENT = '#0b4f8a';

/** The stylesheet of a brand colour: the accent of links, buttons and the header's band, and a darker one for hover. */
export const brandStylesheet = (colour: string) =>
  `:root { --accent: ${colour}; --accent-dark: ${colordx(colour).darken(0.08).toHex()}; }\n`;
