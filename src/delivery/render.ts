import { convert as htmlToText, type HtmlToTextOptions } from 'html-to-text';
import { invitationIcs } from '../calendar/ics.js';
import type { AppContext } from '../context.js';
import { t } from '../lib/i18n.js';
import { template } from '../lib/templates.js';
import type { Newsroom } from '../newsrooms/repository.js';
import type { PublicRelease } from '../releases/public.js';
import type { Release } from '../releases/repository.js';
import { isoTime } from '../lib/time.js';
import { creditLine, DEFAULT_ACCENT } from '../site/presenter.js';
import { type FileUrls, newsroomLogoUrl, publicFileUrls, releasePageUrl, staffFileUrls } from '../site/urls.js';

/*
 * A release email is rendered once per (release, language, version): MJML for the HTML
 * part and Handlebars for the text part. What differs per recipient (the signed links)
 * is left as placeholders and filled in by string replacement, without rendering again.
 */

const PLACEHOLDERS = {
  unsubscribe: '__NEWSROOM_UNSUBSCRIBE_URL__',
  preferences: '__NEWSROOM_PREFERENCES_URL__',
} as const;
const PLACEHOLDER = /__NEWSROOM_(UNSUBSCRIBE|PREFERENCES)_URL__/;

/** A rendered text cut at its placeholders: even indexes are text, odd ones name the link. */
type Pieces = string[];

export interface RenderedEmail {
  subject: string;
  html: Pieces;
  text: Pieces;
  /** An invitation's event as an `.ics` file to attach; absent for every other release. */
  ics?: Buffer;
}

export interface Links {
  unsubscribe: string;
  preferences: string;
}

const cut = (rendered: string): Pieces => rendered.split(PLACEHOLDER).map((p, i) => (i % 2 ? p.toLowerCase() : p));

const fill = (pieces: Pieces, links: Links): string =>
  pieces.map((p, i) => (i % 2 ? links[p as keyof Links] : p)).join('');

/** The email for one recipient: the rendered parts with their links in. */
export function personalise(email: RenderedEmail, links: Links): { subject: string; html: string; text: string } {
  return { subject: email.subject, html: fill(email.html, links), text: fill(email.text, links) };
}

/**
 * The text part is the HTML read as text, not the Markdown source: links as `text <url>`,
 * lists with bullets or numbers, quotes with `>`, tables as aligned columns.
 */
const TEXT_OPTIONS: HtmlToTextOptions = {
  wordwrap: 76,
  selectors: [
    { selector: 'a', options: { linkBrackets: ['<', '>'], hideLinkHrefIfSameAsText: true } },
    { selector: 'img', options: { linkBrackets: ['<', '>'] } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

export const asText = (html: string) => htmlToText(html, TEXT_OPTIONS);

/** What both templates see; file links as `files` lays them out (the public URLs in sent emails). */
export function emailModel(ctx: AppContext, release: PublicRelease, newsroom: Newsroom, lang: string, files: FileUrls = publicFileUrls(ctx.config.publicUrl)) {
  const base = ctx.config.publicUrl;
  const translation = release.translations.find((tr) => tr.lang === lang) ?? release.translations[0]!;
  const newsroomName = newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? newsroom.slug;
  const image = release.attachments.find((a) => a.rendition);
  const attachmentView = (a: PublicRelease['attachments'][number]) => {
    const caption = (JSON.parse(a.caption) as Record<string, string>)[translation.lang] ?? '';
    return {
      filename: a.filename,
      url: files.file(a.id, a.filename),
      caption,
      credit: creditLine(a.credit, translation.lang),
      thumbnailUrl: a.rendition ? files.rendition(a.id) : undefined,
    };
  };
  return {
    lang: translation.lang,
    timezone: newsroom.timezone,
    newsroomName,
    // The band on top, links and buttons: dark enough for white text (newsrooms/schemas.ts).
    accent: newsroom.brandColor ?? DEFAULT_ACCENT,
    // At most 200 px wide in the email, never enlarged.
    logo: newsroom.logo && {
      url: newsroomLogoUrl(base, newsroom.slug, newsroom.logo.sha256),
      width: Math.min(200, newsroom.logo.width),
    },
    typeLabel: t(translation.lang, `common.type.${release.type}`),
    publishedAt: release.publishedAt,
    title: translation.title,
    lead: translation.lead,
    bodyHtml: translation.bodyHtml,
    bodyText: asText(translation.bodyHtml),
    keywords: release.keywords[translation.lang] ?? [],
    contacts: release.contacts.map((c) => ({
      name: c.name,
      title: c.title[translation.lang] ?? '',
      phone: c.phone,
      email: c.email,
    })),
    // The first image leads the email, large; the rest are listed with the other files.
    image: image && attachmentView(image),
    attachments: release.attachments.filter((a) => a !== image).map(attachmentView),
    boilerplateHtml: newsroom.boilerplateHtml[translation.lang] ?? '',
    boilerplateText: asText(newsroom.boilerplateHtml[translation.lang] ?? ''),
    viewUrl: releasePageUrl(base, newsroom.slug, translation.lang, release.id, translation.title),
    unsubscribeUrl: PLACEHOLDERS.unsubscribe,
    preferencesUrl: PLACEHOLDERS.preferences,
  };
}

/**
 * MJML, the largest module a worker holds, is loaded at the first render or when a release
 * is due soon (publication/worker.ts), not at start: an idle worker does without it, and a
 * scheduled release's first email does not wait for it.
 */
export const loadEmailRenderer = () => import('mjml');

export async function renderReleaseEmail(
  ctx: AppContext,
  release: PublicRelease,
  newsroom: Newsroom,
  lang: string,
  files?: FileUrls,
): Promise<RenderedEmail> {
  const model = emailModel(ctx, release, newsroom, lang, files);
  const mjml = template('email/release.mjml.hbs')(model);
  const { default: mjml2html } = await loadEmailRenderer();
  const { html, errors } = await mjml2html(mjml, { validationLevel: 'soft', minify: false });
  if (errors?.length) ctx.logger.warn({ releaseId: release.id, lang, errors: errors.map((e) => e.formattedMessage) }, 'email: MJML warnings');
  const ics = invitationIcs({ release, newsroom, lang, base: ctx.config.publicUrl });
  return { subject: model.title, html: cut(html), text: cut(template('email/release.txt.hbs')(model)), ...(ics ? { ics } : {}) };
}

/**
 * A release's email in one language as subscribers will get it, whatever the release's
 * status (the staff app's preview): the same render, with links that go nowhere and
 * files from the staff app (the public ones answer nothing before publication).
 */
export async function renderEmailPreview(ctx: AppContext, release: Release, newsroom: Newsroom, lang: string) {
  const publishedAt = release.publishedAt ?? release.publishAt ?? isoTime(ctx.clock.now());
  const email = await renderReleaseEmail(ctx, { ...release, status: 'published', publishedAt }, newsroom, lang, staffFileUrls);
  return personalise(email, { unsubscribe: '#unsubscribe', preferences: '#preferences' });
}
