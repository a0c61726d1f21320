import type { Contact } from '../contacts/repository.js';
import type { AttachmentRow } from '../lib/db/schema.js';
import { htmlToText } from '../lib/html.js';
import { releaseGuid } from '../feeds/items.js';
import type { Newsroom } from '../newsrooms/repository.js';
import type { PublicRelease, WithdrawnRelease } from '../releases/public.js';
import { newsroomName, renditionSize, translationIn, typeLabel } from '../site/presenter.js';
import {
  attachmentRenditionUrl,
  attachmentUrl,
  newsroomPageUrl,
  releaseIcsUrl,
  releasePageUrl,
} from '../site/urls.js';

/*
 * A release in one language as an IPTC ninjs 2.2 news item (the news agencies' JSON,
 * https://iptc.org/standards/ninjs/). One document per language: in ninjs 2.x a document
 * has one `language` and its headlines and bodies carry none of their own, so a document
 * holding several languages could not say which text is which. The `uri` is the feeds'
 * guid of the release in that language; `version` is its revision, which each edit while
 * public raises (a correction).
 */

export const NINJS_STANDARD = {
  name: 'ninjs',
  version: '2.2',
  schema: 'http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json',
} as const;

type Rendition = {
  name: string;
  href: string;
  contenttype: string;
  title?: string;
  width?: number;
  height?: number;
  sizeinbytes?: number;
};

const contactInfo = (contact: Contact) => [
  ...(contact.phone ? [{ type: 'phone', role: 'work', value: contact.phone }] : []),
  ...(contact.email ? [{ type: 'email', role: 'work', value: contact.email }] : []),
];

/** Press images as associated pictures, each with its original and its web-size rendition. */
function pictures(attachments: AttachmentRow[], lang: string, base: string) {
  return attachments
    .filter((a) => a.rendition && a.width && a.height)
    .map((a, index) => {
      const caption = (JSON.parse(a.caption) as Record<string, string>)[lang];
      const web = renditionSize(a.width!, a.height!);
      const renditions: Rendition[] = [
        {
          name: 'original',
          href: attachmentUrl(base, a.id, a.filename),
          contenttype: a.content_type,
          width: a.width!,
          height: a.height!,
          sizeinbytes: Number(a.size),
        },
        // Its size in bytes is not recorded; the pixels follow from the original's.
        { name: 'web', href: attachmentRenditionUrl(base, a.id), contenttype: a.rendition!, width: web.width, height: web.height },
      ];
      return {
        name: `picture${index + 1}`,
        uri: `urn:newsroom:attachment:${a.id}`,
        type: 'picture',
        representationtype: 'partial',
        ...(caption ? { descriptions: [{ role: 'caption', value: caption }] } : {}),
        ...(a.credit ? { by: a.credit } : {}),
        renditions,
      };
    });
}

/** A public release in `lang` (one of its languages) as a ninjs news item. */
export function ninjsItem(release: PublicRelease, newsroom: Newsroom, lang: string, base: string) {
  const tr = translationIn(release, lang)!;
  const name = newsroomName(newsroom, lang);
  const text = htmlToText(tr.bodyHtml);
  const keywords = release.keywords[lang] ?? [];
  const contacts = release.contacts.map((c) => ({ contact: c, info: contactInfo(c) }));
  const associations = pictures(release.attachments, lang, base);
  const edited = Date.parse(release.updatedAt) > Date.parse(release.publishedAt) ? release.updatedAt : release.publishedAt;
  const renditions: Rendition[] = [
    { name: 'page', href: releasePageUrl(base, newsroom.slug, lang, release.id, tr.title), contenttype: 'text/html', title: tr.title },
    ...(release.event ? [{ name: 'event', href: releaseIcsUrl(base, newsroom.slug, lang, release.id), contenttype: 'text/calendar' }] : []),
  ];
  return {
    standard: NINJS_STANDARD,
    uri: releaseGuid(release.id, lang),
    type: 'text',
    representationtype: 'full',
    version: String(release.revision),
    firstcreated: release.publishedAt,
    versioncreated: edited,
    pubstatus: 'usable',
    language: lang,
    genres: [{ name: typeLabel(release.type, lang), literal: release.type }],
    headlines: [{ role: 'main', value: tr.title }],
    ...(tr.lead ? { descriptions: [{ role: 'summary', value: tr.lead }] } : {}),
    bodies: [
      {
        role: 'main',
        contenttype: 'text/html',
        charcount: text.length,
        wordcount: text ? text.split(' ').length : 0,
        value: tr.bodyHtml,
      },
    ],
    ...(keywords.length ? { subjects: keywords.map((k) => ({ name: k })) } : {}),
    by: name,
    infosources: [
      {
        name: name,
        uri: newsroomPageUrl(base, newsroom.slug, lang),
        ...(newsroom.website ? { contactinfo: [{ type: 'web', value: newsroom.website }] } : {}),
      },
    ],
    ...(contacts.length
      ? {
          people: contacts.map(({ contact, info }) => ({
            name: contact.name,
            rel: 'contact',
            ...(info.length ? { contactinfo: info } : {}),
          })),
        }
      : {}),
    renditions,
    ...(associations.length ? { associations } : {}),
  };
}

/**
 * What a wire service that took a release must learn when it is withdrawn: the news item
 * is canceled, in a version after the last it saw. Nothing of the content remains.
 */
export function canceledNinjsItem(release: WithdrawnRelease, lang: string) {
  return {
    standard: NINJS_STANDARD,
    uri: releaseGuid(release.id, lang),
    version: String(release.revision + 1),
    versioncreated: release.withdrawnAt,
    pubstatus: 'canceled',
  };
}
