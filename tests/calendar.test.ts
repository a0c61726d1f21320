import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ICAL from 'ical.js';
import { invitationIcs } from '../src/calendar/ics.js';
import { findNewsroomById } from '../src/newsrooms/repository.js';
import { getPublicRelease } from '../src/releases/public.js';
import { startTestApp, type TestApp } from './support/app.js';
import { expectValidHtml } from './support/html.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { StaffClient } from './support/staff.js';

/*
 * Invitations' events: the rules of the API, the page, each invitation as an .ics and a
 * newsroom's calendar, read back with ical.js (a maintained RFC 5545 parser), embargo
 * and withdrawal; and the staff app's event fields.
 */

const BASE = 'https://news.example.test';
let t: TestApp;
let newsroom: NewsroomFixture;

const path = (url: string) => url.slice(BASE.length);
const get = (url: string) => t.http.get(path(url));

/** Winter in Helsinki (UTC+2): 10.00–11.30 there. */
const winter = { startsAt: '2030-01-15T10:00:00+02:00', endsAt: '2030-01-15T11:30:00+02:00', place: 'Kaupungintalo, juhlasali' };

const invitation = (overrides: Record<string, unknown> = {}) => ({
  type: 'invitation',
  translations: {
    fi: { title: 'Tiedotustilaisuus: uusi kirjasto', lead: 'Tervetuloa tiedotustilaisuuteen.', body: 'Kahvitarjoilu.' },
    sv: { title: 'Presskonferens: nytt bibliotek', lead: 'Välkommen till presskonferensen.', body: 'Kaffe.' },
  },
  keywords: {},
  event: winter,
  ...overrides,
});

const createInvitation = async (overrides: Record<string, unknown> = {}, room = newsroom) =>
  (await t.http.post(`/api/newsrooms/${room.slug}/releases`).set(room.auth).send(invitation(overrides)).expect(201)).body as Record<string, any>;
const publish = async (id: string) =>
  (await t.http.post(`/api/releases/${id}/publish`).set(t.admin).expect(200)).body as Record<string, any>;

/** The raw text with its folded lines joined (RFC 5545 3.1). */
const unfold = (ics: string) => ics.replace(/\r\n[ \t]/g, '');

/** The calendar at `url`, checked as RFC 5545 text and parsed with ical.js. */
async function calendarAt(url: string) {
  const res = await get(url).expect(200);
  expect(res.headers['content-type']).toBe('text/calendar; charset=utf-8');
  const text = res.text;
  checkLines(text);
  return { res, text, calendar: new ICAL.Component(ICAL.parse(text)) };
}

/** CRLF line ends only, no line over 75 octets (longer content folded). */
function checkLines(text: string) {
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
}

const eventsOf = (calendar: ICAL.Component) => calendar.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
});

afterAll(async () => {
  await t.close();
});

describe('the event in the API', () => {
  it('an invitation takes one; the answer gives its times in UTC and links its .ics per language', async () => {
    const created = await createInvitation({ event: { ...winter, onlineUrl: 'https://example.org/live' } });
    expect(created.event).toEqual({
      startsAt: '2030-01-15T08:00:00.000Z',
      endsAt: '2030-01-15T09:30:00.000Z',
      place: 'Kaupungintalo, juhlasali',
      onlineUrl: 'https://example.org/live',
    });
    expect(created.links.ics).toEqual({
      fi: `${BASE}/${newsroom.slug}/fi/${created.id}/event.ics`,
      sv: `${BASE}/${newsroom.slug}/sv/${created.id}/event.ics`,
    });
    // Online only, without an end: fine.
    const online = await createInvitation({ event: { startsAt: '2030-02-01T09:00:00Z', onlineUrl: 'https://example.org/stream' } });
    expect(online.event).toEqual({ startsAt: '2030-02-01T09:00:00.000Z', endsAt: null, place: null, onlineUrl: 'https://example.org/stream' });
    // Other releases have none, and no .ics.
    const plain = await buildRelease(t, newsroom);
    expect(plain.event).toBeNull();
    expect(plain.links.ics).toBeUndefined();
  });

  it.each([
    ['on a release that is no invitation', { type: 'press-release' }, 'event'],
    ['ending before it starts', { event: { ...winter, endsAt: '2030-01-15T09:00:00+02:00' } }, 'event.endsAt'],
    ['ending as it starts', { event: { ...winter, endsAt: winter.startsAt } }, 'event.endsAt'],
    ['with an http link', { event: { ...winter, onlineUrl: 'http://example.org/live' } }, 'event.onlineUrl'],
    ['with a link that is no URL', { event: { ...winter, onlineUrl: 'kaupungintalo' } }, 'event.onlineUrl'],
    ['with neither a place nor a link', { event: { startsAt: winter.startsAt, place: '  ' } }, 'event.place'],
    ['with a time without an offset', { event: { ...winter, startsAt: '2030-01-15T10:00:00' } }, 'event.startsAt'],
    ['without a start', { event: { place: 'Kaupungintalo' } }, 'event.startsAt'],
    ['with a field it does not know', { event: { ...winter, room: 'B' } }, 'event.room'],
  ])('refuses an event %s (422 naming the field)', async (_what, overrides, field) => {
    const res = await t.http.post(`/api/newsrooms/${newsroom.slug}/releases`).set(newsroom.auth).send(invitation(overrides)).expect(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
  });

  it('PATCH replaces the event, null removes it, leaving it out keeps it; a type change must take the event along', async () => {
    const created = await createInvitation();
    const patch = (body: Record<string, unknown>, status = 200) =>
      t.http.patch(`/api/releases/${created.id}`).set(newsroom.auth).send(body).expect(status);

    const kept = await patch({ translations: { fi: { title: 'Uusi otsikko' } } });
    expect(kept.body.event.place).toBe('Kaupungintalo, juhlasali');
    const moved = await patch({ event: { startsAt: '2030-01-16T12:00:00+02:00', place: 'Kirjasto' } });
    expect(moved.body.event).toEqual({ startsAt: '2030-01-16T10:00:00.000Z', endsAt: null, place: 'Kirjasto', onlineUrl: null });

    const refused = await patch({ type: 'news' }, 422);
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: 'event' })]);
    expect((await patch({ event: { ...winter, endsAt: '2030-01-14T10:00:00+02:00' } }, 422)).body.errors[0].path).toBe('event.endsAt');
    expect((await t.http.get(`/api/releases/${created.id}`).set(newsroom.auth).expect(200)).body.event.place).toBe('Kirjasto');

    const news = await patch({ type: 'news', event: null });
    expect(news.body).toMatchObject({ type: 'news', event: null });
    expect(news.body.links.ics).toBeUndefined();
  });

  it('is in the OpenAPI document, generated from the schema that checks it', async () => {
    const doc = (await t.http.get('/api/openapi.json').expect(200)).body;
    const body = doc.paths['/api/newsrooms/{slug}/releases'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties.event.anyOf[0].properties)).toEqual(['startsAt', 'endsAt', 'place', 'onlineUrl']);
    expect(body.properties.event.anyOf[0].properties.onlineUrl.anyOf[0].format).toBe('uri');
    const response = doc.paths['/api/releases/{id}'].get.responses['200'].content['application/json'].schema;
    expect(response.properties.event).toBeDefined();
  });
});

describe('an invitation as .ics', () => {
  let release: Record<string, any>;

  beforeAll(async () => {
    const created = await createInvitation({
      translations: {
        fi: { title: 'Tiedotustilaisuus; kirjasto, uusi', lead: 'Kaupunki esittelee uuden kirjaston. '.repeat(5).trim(), body: '' },
        sv: { title: 'Presskonferens', lead: '', body: '' },
      },
      event: { ...winter, place: 'Kaupungintalo; sali 2, 2. krs\nSisäänkäynti B', onlineUrl: 'https://example.org/live?a=1;b=2' },
    });
    release = await publish(created.id);
  });

  it('is a PUBLISH calendar in the newsroom’s time zone, its texts escaped and its lines folded', async () => {
    const { res, text, calendar } = await calendarAt(release.links.ics.fi);
    expect(res.headers['content-disposition']).toBe('attachment; filename=tiedotustilaisuus-kirjasto-uusi.ics');
    expect(calendar.getFirstPropertyValue('method')).toBe('PUBLISH');
    expect(calendar.getFirstPropertyValue('version')).toBe('2.0');

    const zone = calendar.getFirstSubcomponent('vtimezone')!;
    expect(zone.getFirstPropertyValue('tzid')).toBe('Europe/Helsinki');
    expect(zone.getAllSubcomponents().map((c) => c.name).sort()).toEqual(['daylight', 'standard']);

    const [vevent] = calendar.getAllSubcomponents('vevent');
    const start = vevent!.getFirstProperty('dtstart')!;
    expect(start.getParameter('tzid')).toBe('Europe/Helsinki');
    expect(String(start.getFirstValue())).toBe('2030-01-15T10:00:00');
    const event = new ICAL.Event(vevent!);
    expect(event.uid).toBe(release.id);
    expect(event.sequence).toBe(0);
    expect(event.startDate.toJSDate().toISOString()).toBe('2030-01-15T08:00:00.000Z');
    expect(event.endDate.toJSDate().toISOString()).toBe('2030-01-15T09:30:00.000Z');
    expect(event.summary).toBe('Tiedotustilaisuus; kirjasto, uusi');
    expect(event.location).toBe('Kaupungintalo; sali 2, 2. krs\nSisäänkäynti B');
    expect(event.description).toContain('Kaupunki esittelee uuden kirjaston. Kaupunki esittelee');
    expect(event.description).toContain('Verkossa: https://example.org/live?a=1;b=2');
    expect(event.description).toContain(release.links.web.fi);
    expect(vevent!.getFirstPropertyValue('url')).toBe(release.links.web.fi);
    // DTSTAMP, CREATED and LAST-MODIFIED in UTC, as RFC 5545 requires.
    expect(unfold(text)).toMatch(/^DTSTAMP:\d{8}T\d{6}Z$/m);

    // As written on the wire: `;`, `,` and newlines escaped, and the long description folded.
    const raw = unfold(text);
    expect(raw).toContain('SUMMARY:Tiedotustilaisuus\\; kirjasto\\, uusi\r\n');
    expect(raw).toContain('LOCATION:Kaupungintalo\\; sali 2\\, 2. krs\\nSisäänkäynti B\r\n');
    expect(text).toMatch(/\r\nDESCRIPTION:[^\r]*\r\n [^\r]+/);
  });

  it('keeps its UID through a correction, which raises SEQUENCE; and is the same in Swedish but for the texts', async () => {
    await t.http
      .patch(`/api/releases/${release.id}`)
      .set(newsroom.auth)
      .send({
        event: { ...winter, startsAt: '2030-01-15T10:30:00+02:00', onlineUrl: 'https://example.org/live?a=1;b=2' },
        change: { kind: 'correction', note: { fi: 'Alkamisaika korjattu.', sv: 'Starttiden rättad.' } },
      })
      .expect(200);
    const [event] = eventsOf((await calendarAt(release.links.ics.fi)).calendar);
    expect(event).toMatchObject({ uid: release.id, sequence: 1 });
    expect(event!.startDate.toJSDate().toISOString()).toBe('2030-01-15T08:30:00.000Z');

    const [sv] = eventsOf((await calendarAt(release.links.ics.sv)).calendar);
    expect(sv).toMatchObject({ uid: release.id, sequence: 1, summary: 'Presskonferens' });
    expect(sv!.description).toContain('Online: https://example.org/live?a=1;b=2');
  });

  it('is what invitationIcs gives, the function the email attaches it with', async () => {
    const publicRelease = await getPublicRelease(t.ctx, release.id);
    const room = (await findNewsroomById(t.ctx.db, publicRelease.newsroomId))!;
    const bytes = invitationIcs({ release: publicRelease, newsroom: room, lang: 'sv', base: BASE })!;
    const served = await get(release.links.ics.sv).expect(200);
    expect(bytes.toString('utf8')).toBe(served.text);
    const other = await buildRelease(t, newsroom);
    const published = await getPublicRelease(t.ctx, (await publish(other.id)).id);
    expect(invitationIcs({ release: published, newsroom: room, lang: 'fi', base: BASE })).toBeUndefined();
  });

  it('is in the newsroom’s own zone wherever that is', async () => {
    const tokyo = await buildNewsroom(t, { timezone: 'Asia/Tokyo' });
    const created = await createInvitation({}, tokyo);
    const { calendar } = await calendarAt((await publish(created.id)).links.ics.fi);
    expect(calendar.getFirstSubcomponent('vtimezone')!.getFirstPropertyValue('tzid')).toBe('Asia/Tokyo');
    expect(String(calendar.getFirstSubcomponent('vevent')!.getFirstPropertyValue('dtstart'))).toBe('2030-01-15T17:00:00');

    // A zone under an older name: the event names the VTIMEZONE it is given (Europe/Kiev is now Europe/Kyiv).
    const kyiv = await buildNewsroom(t, { timezone: 'Europe/Kiev' });
    const summer = await publish((await createInvitation({ event: { startsAt: '2030-07-01T08:00:00Z', place: 'Maidan' } }, kyiv)).id);
    const parsed = (await calendarAt(summer.links.ics.fi)).calendar;
    expect(parsed.getFirstSubcomponent('vtimezone')!.getFirstPropertyValue('tzid')).toBe('Europe/Kyiv');
    const start = parsed.getFirstSubcomponent('vevent')!.getFirstProperty('dtstart')!;
    expect(start.getParameter('tzid')).toBe('Europe/Kyiv');
    expect(String(start.getFirstValue())).toBe('2030-07-01T11:00:00');
  });

  it('is 404 for a release without an event, 410 once withdrawn', async () => {
    const plain = await publish((await buildRelease(t, newsroom)).id);
    await get(`${BASE}/${newsroom.slug}/fi/${plain.id}/event.ics`).expect(404);
    const gone = await publish((await createInvitation()).id);
    await calendarAt(gone.links.ics.fi);
    await t.http.post(`/api/releases/${gone.id}/withdraw`).set(newsroom.auth).expect(200);
    const res = await get(gone.links.ics.fi).expect(410);
    expect(res.text).not.toContain('Tiedotustilaisuus');
  });
});

describe('the page of an invitation', () => {
  it('shows when (in the newsroom’s zone, in the page’s language), where and the link, and offers the .ics', async () => {
    const release = await publish((await createInvitation({ event: { ...winter, onlineUrl: 'https://example.org/live' } })).id);
    const fi = (await get(release.links.web.fi).expect(200)).text;
    expect(fi).toContain('<h2 id="event-heading">Tilaisuus</h2>');
    expect(fi).toContain('<time datetime="2030-01-15T08:00:00.000Z">15.1.2030 klo 10.00–11.30</time>');
    expect(fi).toContain('<dd>Kaupungintalo, juhlasali</dd>');
    expect(fi).toContain('href="https://example.org/live"');
    expect(fi).toContain(`href="${release.links.ics.fi}"`);
    await expectValidHtml(fi);
    const sv = (await get(release.links.web.sv).expect(200)).text;
    expect(sv).toContain('15.1.2030 kl. 10.00–11.30');
    expect(sv).toContain('Lägg till i kalendern (.ics)');
    // An end on another day is written in full.
    const long = await publish((await createInvitation({ event: { ...winter, endsAt: '2030-01-16T16:00:00+02:00' } })).id);
    expect((await get(long.links.web.fi).expect(200)).text).toContain('15.1.2030 klo 10.00 – 16.1.2030 klo 16.00');
  });
});

describe("a newsroom's calendar", () => {
  it('holds its public invitations in the language, soonest first, the recently past too; nothing else', async () => {
    const room = await buildNewsroom(t);
    expect(room.body.links.calendar).toEqual({ fi: `${BASE}/${room.slug}/fi/calendar.ics`, sv: `${BASE}/${room.slug}/sv/calendar.ics` });
    const day = 24 * 3600 * 1000;
    const at = (ms: number) => new Date(t.clock.now().getTime() + ms).toISOString();
    const later = await publish((await createInvitation({ event: { startsAt: at(20 * day), place: 'Myöhemmin' } }, room)).id);
    const sooner = await publish((await createInvitation({ event: { startsAt: at(2 * day), place: 'Pian' } }, room)).id);
    const lastWeek = await publish((await createInvitation({ event: { startsAt: at(-7 * day), place: 'Viime viikolla' } }, room)).id);
    await publish((await createInvitation({ event: { startsAt: at(-40 * day), place: 'Kauan sitten' } }, room)).id);
    const finnishOnly = await publish(
      (await createInvitation({ translations: { fi: { title: 'Vain suomeksi' } }, event: { startsAt: at(3 * day), place: 'Täällä' } }, room)).id,
    );
    await createInvitation({ event: { startsAt: at(4 * day), place: 'Luonnos' } }, room); // a draft
    await publish((await buildRelease(t, room)).id); // no invitation

    const { calendar, text } = await calendarAt(room.body.links.calendar.fi);
    expect(eventsOf(calendar).map((e) => e.uid)).toEqual([lastWeek.id, sooner.id, finnishOnly.id, later.id]);
    expect(calendar.getFirstPropertyValue('x-wr-calname')).toBe('Länsi-Esimerkin kaupunki: kutsut');
    expect(calendar.getFirstPropertyValue('x-wr-timezone')).toBe('Europe/Helsinki');
    expect(unfold(text)).toContain('REFRESH-INTERVAL;VALUE=DURATION:PT1H');
    expect(text).not.toContain('Luonnos');
    expect(text).not.toContain('Kauan sitten');
    const sv = eventsOf((await calendarAt(room.body.links.calendar.sv)).calendar);
    expect(sv.map((e) => e.uid)).toEqual([lastWeek.id, sooner.id, later.id]);
    expect(sv[0]!.summary).toBe('Presskonferens: nytt bibliotek');

    // The newsroom's pages name it, next to the feeds.
    const page = (await get(room.body.links.web.fi).expect(200)).text;
    expect(page).toContain(`<link rel="alternate" type="text/calendar" title="Länsi-Esimerkin kaupunki – kutsut kalenterina (iCalendar)" href="${room.body.links.calendar.fi}">`);
    await get(`${BASE}/${room.slug}/de/calendar.ics`).expect(404);
  });

  it('shows nothing of an embargoed invitation before its time and has it at its time, with no job run; a withdrawn one leaves', async () => {
    const room = await buildNewsroom(t);
    const created = await createInvitation({ translations: { fi: { title: 'Salainen kutsu' } }, event: { ...winter, place: 'Salainen paikka' } }, room);
    const publishAt = new Date(t.clock.now().getTime() + 60_000).toISOString();
    await t.http.post(`/api/releases/${created.id}/schedule`).set(room.auth).send({ publishAt }).expect(200);
    const unknownId = '00000000-0000-4000-8000-000000000000';

    const { res, text } = await calendarAt(room.body.links.calendar.fi);
    expect(text).not.toContain(created.id);
    expect(text).not.toContain('Salainen');
    // No cache may reuse the calendar without asking (past the publication time), and nothing counts down to it.
    expect(res.headers['cache-control']).toBe('public, no-cache');
    const embargoed = await get(created.links.ics.fi).expect(404);
    const unknown = await get(created.links.ics.fi.replace(created.id, unknownId)).expect(404);
    expect(embargoed.text.replace(created.id, unknownId)).toBe(unknown.text);
    expect(embargoed.headers['cache-control']).toBe('no-store');

    t.clock.advance(61_000);
    expect(eventsOf((await calendarAt(room.body.links.calendar.fi)).calendar).map((e) => e.uid)).toEqual([created.id]);
    expect(eventsOf((await calendarAt(created.links.ics.fi)).calendar)[0]!.location).toBe('Salainen paikka');

    await t.http.post(`/api/releases/${created.id}/withdraw`).set(room.auth).expect(200);
    const after = await calendarAt(room.body.links.calendar.fi);
    expect(eventsOf(after.calendar)).toEqual([]);
    expect(after.text).not.toContain('Salainen');
  });
});

describe('the staff app', () => {
  it('edits the event in the newsroom’s zone, with the API’s rules next to the fields', async () => {
    const staff = new StaffClient(t);
    await staff.signIn(newsroom.token);
    await staff.get('/admin/releases/new');
    const form = {
      type: 'invitation',
      'translations.fi.title': 'Kutsu',
      'translations.fi.lead': '',
      'translations.fi.body': '',
      'keywords.fi': '',
      'translations.sv.title': '',
      'translations.sv.lead': '',
      'translations.sv.body': '',
      'keywords.sv': '',
      'event.startsAt': '2030-06-15T10:00',
      'event.endsAt': '2030-06-15T09:00',
      'event.place': 'Tori',
      'event.onlineUrl': '',
    };
    const refused = await staff.post('/admin/releases/new', form);
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('must be after the start');
    expect(refused.text).toContain('value="2030-06-15T09:00"');

    const bad = await staff.post('/admin/releases/new', { ...form, 'event.endsAt': '15.6.2030' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('give a date and a time');

    const saved = await staff.post('/admin/releases/new', { ...form, 'event.endsAt': '2030-06-15T12:00' });
    expect(saved.status).toBe(303);
    const id = /\/admin\/releases\/([^?]+)/.exec(saved.headers.location!)![1]!;
    const release = (await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200)).body;
    // Summer in Helsinki: UTC+3.
    expect(release.event).toEqual({ startsAt: '2030-06-15T07:00:00.000Z', endsAt: '2030-06-15T09:00:00.000Z', place: 'Tori', onlineUrl: null });

    const editor = await staff.get(`/admin/releases/${id}`);
    expect(editor.text).toContain('name="event.startsAt" type="datetime-local" value="2030-06-15T10:00"');
    const version = /name="version" value="(\d+)"/.exec(editor.text)![1]!;
    // Emptied: the event is removed; the type must then change too, or the API's rule says why.
    const emptied = { ...form, 'event.startsAt': '', 'event.endsAt': '', 'event.place': '', version };
    expect((await staff.post(`/admin/releases/${id}`, emptied)).status).toBe(303);
    expect((await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200)).body.event).toBeNull();
    const latest = /name="version" value="(\d+)"/.exec((await staff.get(`/admin/releases/${id}`)).text)![1]!;
    const onNews = await staff.post(`/admin/releases/${id}`, { ...form, type: 'news', 'event.endsAt': '', version: latest });
    expect(onNews.status).toBe(422);
    expect(onNews.text).toContain('only an invitation has an event');
  });
});
