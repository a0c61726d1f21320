import { TZDate } from '@date-fns/tz';
import { ICalCalendar, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import { tzlib_get_ical_block } from 'timezones-ical-library';
import { t } from '../lib/i18n.js';
import type { Newsroom } from '../newsrooms/repository.js';
import type { Release } from '../releases/repository.js';
import { newsroomName, type ShownRelease, translationIn } from '../site/presenter.js';
import { newsroomCalendarUrl, newsroomPageUrl, releasePageUrl } from '../site/urls.js';

/*
 * Invitations as iCalendar (RFC 5545), written by ical-generator: it escapes text values
 * (backslash, `;`, `,`, newlines) and folds lines at 75 octets, the one place both happen.
 * Times are written in the newsroom's time zone (`DTSTART;TZID=Europe/Helsinki:...`) with
 * its VTIMEZONE, from timezones-ical-library's current tz data, so a calendar shows the
 * event at the right hour whatever zone its reader is in and across DST changes.
 *
 * METHOD:PUBLISH: these are announcements, not meeting requests to answer. An event's UID
 * is its release's id and never changes; SEQUENCE follows the release's revision, so an
 * edited invitation replaces the one a calendar holds.
 */

/** How often a subscribed calendar should look again (REFRESH-INTERVAL, X-PUBLISHED-TTL). */
const REFRESH_SECONDS = 3600;

/**
 * The zone's VTIMEZONE and the TZID it declares (the canonical name: `Europe/Kiev` is
 * given as `Europe/Kyiv`); undefined for a zone the library lacks, whose times are then
 * written in UTC, which every calendar reads correctly too.
 */
function vtimezone(zone: string): { tzid: string; block: string } | undefined {
  const found = tzlib_get_ical_block(zone);
  if (!Array.isArray(found) || !found[0] || !found[1]) return undefined;
  return { tzid: found[1].replace(/^TZID=/, ''), block: found[0] };
}

function calendarOf(newsroom: Newsroom, lang: string, extra: { name?: string; source?: string; url?: string } = {}) {
  const zone = vtimezone(newsroom.timezone);
  const calendar = new ICalCalendar({
    method: ICalCalendarMethod.PUBLISH,
    prodId: { company: 'Newsroom', product: 'Newsroom', language: lang.toUpperCase() },
    ...extra,
    // The calendar itself has no zone (name null): DTSTAMP, CREATED and LAST-MODIFIED stay
    // in UTC as RFC 5545 requires; the generator writes the VTIMEZONE of the events' zone.
    timezone: zone ? { name: null, generator: (tzid) => (tzid === zone.tzid ? zone.block : null) } : null,
    ...(zone && extra.name ? { x: [['X-WR-TIMEZONE', zone.tzid]] } : {}),
  });
  return { calendar, tzid: zone?.tzid };
}

/** The release's event in `lang` (which it must have) as a VEVENT of `calendar`. */
function addEvent(calendar: ICalCalendar, tzid: string | undefined, release: ShownRelease, newsroom: Newsroom, lang: string, base: string) {
  const event = release.event!;
  const tr = translationIn(release, lang)!;
  const pageUrl = releasePageUrl(base, newsroom.slug, lang, release.id, tr.title);
  const at = (iso: string) => (tzid ? new TZDate(Date.parse(iso), tzid) : new Date(iso));
  const edited = Date.parse(release.updatedAt) > Date.parse(release.publishedAt) ? release.updatedAt : release.publishedAt;
  calendar.createEvent({
    id: release.id,
    sequence: release.revision - 1,
    stamp: new Date(edited),
    created: new Date(release.publishedAt),
    lastModified: new Date(edited),
    start: at(event.startsAt),
    ...(event.endsAt ? { end: at(event.endsAt) } : {}),
    timezone: tzid ?? null,
    summary: tr.title,
    // A place, else the online link: where a calendar offers to go.
    location: event.place ?? event.onlineUrl,
    description: [
      tr.lead,
      event.onlineUrl ? `${t(lang, 'site.event.online')}: ${event.onlineUrl}` : '',
      `${newsroomName(newsroom, lang)}: ${pageUrl}`,
    ]
      .filter(Boolean)
      .join('\n\n'),
    url: pageUrl,
    status: ICalEventStatus.CONFIRMED,
  });
}

/** The calendar's text: every content line ends with CRLF, the last too (RFC 5545 3.1), which ical-generator leaves off. */
const textOf = (calendar: ICalCalendar) => calendar.toString().replace(/(?:\r\n)?$/, '\r\n');

const hasEventIn = (release: Release, lang: string) =>
  release.type === 'invitation' && release.event !== null && translationIn(release, lang) !== undefined;

/**
 * One invitation's event in one of its languages as the bytes of an `.ics` file
 * (`text/calendar; method=PUBLISH; charset=utf-8`), e.g. to attach to its email;
 * undefined when the release is no invitation with an event in that language. Give it
 * a public release (or one about to be: its publication time as `publishedAt`).
 */
export function invitationIcs(input: { release: ShownRelease; newsroom: Newsroom; lang: string; base: string }): Buffer | undefined {
  const { release, newsroom, lang, base } = input;
  if (!hasEventIn(release, lang)) return undefined;
  const { calendar, tzid } = calendarOf(newsroom, lang);
  addEvent(calendar, tzid, release, newsroom, lang, base);
  return Buffer.from(textOf(calendar));
}

/** A newsroom's calendar in one language: the events of `releases` (public invitations), to subscribe to. */
export function invitationCalendar(input: { releases: ShownRelease[]; newsroom: Newsroom; lang: string; base: string }): string {
  const { releases, newsroom, lang, base } = input;
  const { calendar, tzid } = calendarOf(newsroom, lang, {
    name: t(lang, 'site.calendarName', { name: newsroomName(newsroom, lang) }),
    url: newsroomPageUrl(base, newsroom.slug, lang),
    source: newsroomCalendarUrl(base, newsroom.slug, lang),
  });
  calendar.ttl(REFRESH_SECONDS);
  for (const release of releases) if (hasEventIn(release, lang)) addEvent(calendar, tzid, release, newsroom, lang, base);
  return textOf(calendar);
}
