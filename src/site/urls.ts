/*
 * The public URL layout, in one place: API presenters, pages, feeds and emails all
 * link through these. `base` is PUBLIC_URL without a trailing slash.
 */

const seg = encodeURIComponent;

export const newsroomPageUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}`;

export const newsroomRssUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/rss.xml`;

export const releasePageUrl = (base: string, newsroom: string, lang: string, releaseId: string, title: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/${seg(releaseId)}/${slugify(title)}`;

export const attachmentUrl = (base: string, attachmentId: string, filename: string) =>
  `${base}/files/${seg(attachmentId)}/${seg(filename)}`;

export const attachmentRenditionUrl = (base: string, attachmentId: string) =>
  `${base}/files/${seg(attachmentId)}/web`;

/** Where a page links an attachment's file and its web-size rendition. */
export interface FileUrls {
  file(attachmentId: string, filename: string): string;
  rendition(attachmentId: string): string;
}

/** The public file URLs: before publication they answer only a bearer token. */
export const publicFileUrls = (base: string): FileUrls => ({
  file: (attachmentId, filename) => attachmentUrl(base, attachmentId, filename),
  rendition: (attachmentId) => attachmentRenditionUrl(base, attachmentId),
});

/**
 * The staff app's file URLs, served to its session whatever the release's status. Paths
 * on the host the staff app is reached at, where its session cookie goes.
 */
export const staffFileUrls: FileUrls = {
  file: (attachmentId, filename) => `/admin/files/${seg(attachmentId)}/${seg(filename)}`,
  rendition: (attachmentId) => `/admin/files/${seg(attachmentId)}/web`,
};

/**
 * A newsroom's logo, named by the hash of its PNG: the URL changes with the logo, so it
 * is cached for long. With `base` '' a path on whatever host asks (the staff app).
 */
export const newsroomLogoUrl = (base: string, newsroom: string, sha256: string) =>
  `${base}/files/logo/${seg(newsroom)}/${seg(sha256)}.png`;

/**
 * A newsroom's brand colour as a stylesheet (the pages' CSP takes no inline style), named
 * by the colour: a new colour is a new URL, so it is cached for long.
 */
export const brandStylesheetUrl = (base: string, newsroom: string, colour: string) =>
  `${base}/${seg(newsroom)}/brand.css?c=${colour.replace('#', '')}`;

/** A readable URL segment from a title: "Ålands väg 2026!" -> "alands-vag-2026". */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return slug || 'release';
}

/* Feeds of a newsroom in one language (RSS is above: its URL is in the API's links). */
export const newsroomAtomUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/atom.xml`;

export const newsroomJsonFeedUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/feed.json`;

/* For aggregators: IPTC ninjs (a release per language, and a newsroom's latest) and iCalendar. */
export const releaseNinjsUrl = (base: string, newsroom: string, lang: string, releaseId: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/${seg(releaseId)}/ninjs.json`;

export const newsroomNinjsUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/ninjs.json`;

/** An invitation's event, to add to a calendar. */
export const releaseIcsUrl = (base: string, newsroom: string, lang: string, releaseId: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/${seg(releaseId)}/event.ics`;

/** A newsroom's calendar of invitations, to subscribe to. */
export const newsroomCalendarUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/calendar.ics`;

/** Keywords are matched case-insensitively: their URL segment is the lower-cased keyword. */
const keywordSeg = (keyword: string) => seg(keyword.toLowerCase());

export const keywordPageUrl = (base: string, newsroom: string, lang: string, keyword: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/keyword/${keywordSeg(keyword)}`;

export const keywordFeedUrl = (
  base: string,
  newsroom: string,
  lang: string,
  keyword: string,
  format: 'rss.xml' | 'atom.xml' | 'feed.json',
) => `${keywordPageUrl(base, newsroom, lang, keyword)}/${format}`;

export const searchPageUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/search`;

/** A contact's vCard (contacts belong to the newsroom, not to a language). */
export const contactVcardUrl = (base: string, newsroom: string, contactId: string) =>
  `${base}/${seg(newsroom)}/contacts/${seg(contactId)}.vcf`;

/** The front page and the feeds of every newsroom together. */
export const frontPageUrl = (base: string) => `${base}/`;
/** The front page in one interface language, whatever the visitor's browser asks for (the language switch). */
export const frontPageInUrl = (base: string, lang: string) => `${base}/?lang=${seg(lang)}`;
export const allFeedUrl = (base: string, format: 'rss.xml' | 'atom.xml' | 'feed.json') => `${base}/${format}`;

/** This service's own WebSub hub, which every feed advertises (rel="hub"). */
export const websubHubUrl = (base: string) => `${base}/websub`;

/** The IndexNow key file, at the site root as IndexNow asks. */
export const indexNowKeyUrl = (base: string, key: string) => `${base}/${seg(key)}.txt`;

export const sitemapUrl = (base: string) => `${base}/sitemap.xml`;

/** The site's own stylesheets and images (no third-party request from any page). */
export const staticUrl = (base: string, file: string) => `${base}/static/${file}`;

/** Where the subscribe form posts (the API endpoint also takes a plain HTML form). */
export const subscribeUrl = (base: string, newsroom: string) => `${base}/api/newsrooms/${seg(newsroom)}/subscriptions`;
/** Where the subscribe form's post sends the browser (303): "check your email", on the site. */
export const subscriptionRequestedUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/subscription-requested`;

/** Subscription links in emails: `token` is opaque (a confirmation token, or a signed subscriber id). */
export const confirmSubscriptionUrl = (base: string, token: string) => `${base}/subscriptions/confirm/${seg(token)}`;
export const preferencesUrl = (base: string, token: string) => `${base}/subscriptions/preferences/${seg(token)}`;
export const unsubscribeUrl = (base: string, token: string) => `${base}/unsubscribe/${seg(token)}`;
/** An accredited journalist's: stops the release emails, keeps the accreditation. */
export const journalistUnsubscribeUrl = (base: string, token: string) => `${base}/unsubscribe/journalist/${seg(token)}`;

/** Staff preview of a release page, whatever its status. */
export const previewUrl = (base: string, releaseId: string, lang: string) =>
  `${base}/api/releases/${seg(releaseId)}/preview/${seg(lang)}`;
