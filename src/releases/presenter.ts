import { presentAttachment } from '../attachments/presenter.js';
import { presentContact } from '../contacts/presenter.js';
import { releaseIcsUrl, releaseNinjsUrl, releasePageUrl } from '../site/urls.js';
import type { Release } from './repository.js';
import { effectivePublishedAt, effectiveStatus } from './visibility.js';

/** The withdrawal of a withdrawn release (the last one recorded), with its public reason. */
function withdrawalOf(release: Release) {
  if (release.status !== 'withdrawn') return null;
  const event = release.corrections.findLast((c) => c.kind === 'withdrawal');
  return event ? { id: event.id, at: event.at, reason: event.note } : null;
}

/**
 * A release as the API gives it (to staff, or to anyone once published). `withBodies:
 * false` leaves out each translation's Markdown and HTML, for lists not asked to include them.
 */
export function presentRelease(release: Release, base: string, now: Date, { withBodies = true } = {}) {
  const perLanguage = (url: (lang: string) => string) => Object.fromEntries(release.translations.map((t) => [t.lang, url(t.lang)]));
  return {
    id: release.id,
    newsroom: release.newsroomSlug,
    type: release.type,
    status: effectiveStatus(release, now),
    translations: Object.fromEntries(
      release.translations.map((t) => [
        t.lang,
        withBodies ? { title: t.title, lead: t.lead, body: t.body, bodyHtml: t.bodyHtml } : { title: t.title, lead: t.lead },
      ]),
    ),
    keywords: release.keywords,
    event: release.event,
    contacts: release.contacts.map((c) => presentContact(c, release.newsroomSlug)),
    attachments: release.attachments.map((a) => presentAttachment(a, base)),
    publishAt: release.publishAt,
    publishedAt: effectivePublishedAt(release, now),
    withdrawnAt: release.withdrawnAt,
    corrections: release.corrections
      .filter((c) => c.kind !== 'withdrawal')
      .map((c) => ({ id: c.id, kind: c.kind as 'correction' | 'minor', at: c.at, revision: c.revision, fields: c.fields, note: c.note })),
    revision: release.revision,
    withdrawal: withdrawalOf(release),
    createdAt: release.createdAt,
    updatedAt: release.updatedAt,
    links: {
      web: Object.fromEntries(
        release.translations.map((t) => [t.lang, releasePageUrl(base, release.newsroomSlug, t.lang, release.id, t.title)]),
      ),
      ninjs: perLanguage((lang) => releaseNinjsUrl(base, release.newsroomSlug, lang, release.id)),
      ...(release.event ? { ics: perLanguage((lang) => releaseIcsUrl(base, release.newsroomSlug, lang, release.id)) } : {}),
    },
  };
}
