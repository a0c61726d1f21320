import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { sendDueAdvanceLinks } from '../src/advance/worker.js';
import { asText, startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink } from './support/smtp.js';

/*
 * The embargo probe: with a live personal advance link out (and opened, with its files),
 * every public route of the service still shows nothing of the advance release before
 * its publication time: no page, feed, sitemap, search, ninjs, iCalendar, public API
 * answer or file. Only the link itself shows it; a revoked link or one of a removed
 * journalist answers 410.
 */

const BASE = 'https://news.example.test';
const SECRET = 'Salaisuus';

let t: TestApp;
let sink: SmtpSink;
let newsroom: NewsroomFixture;
let scheduled: Record<string, any>;
let published: Record<string, any>;
let image: Record<string, any>;
let pdf: Record<string, any>;
let contactId: string;
const links: Record<string, string> = {};
const journalists: Record<string, Record<string, any>> = {};

const path = (url: string) => (url.startsWith(BASE) ? url.slice(BASE.length) : url);

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ SMTP_URL: sink.url });
  newsroom = await buildNewsroom(t);
  published = await buildRelease(t, newsroom, { keywords: { fi: ['kirjasto'], sv: ['bibliotek'] } });
  await t.http.post(`/api/releases/${published.id}/publish`).set(newsroom.auth).expect(200);
  const contact = await buildContact(t, newsroom, { name: `${SECRET} Henkilö` });
  contactId = contact.id;
  scheduled = await buildRelease(t, newsroom, {
    type: 'invitation',
    event: { startsAt: '2030-01-15T10:00:00+02:00', place: `${SECRET}paikka` },
    contactIds: [contact.id],
    keywords: { fi: ['kirjasto', 'salaisuus'], sv: ['bibliotek'] },
    translations: {
      fi: { title: `${SECRET} avataan`, lead: `${SECRET} ingressi.`, body: `${SECRET} teksti.` },
      sv: { title: `${SECRET} öppnas`, lead: `${SECRET} ingress.`, body: `${SECRET} text.` },
    },
  });
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
  image = await buildAttachment(t, newsroom, scheduled.id, { bytes: png, filename: 'salaisuus.png' });
  pdf = await buildAttachment(t, newsroom, scheduled.id, { filename: 'salaisuus.pdf' });
  const publishAt = new Date(t.clock.now().getTime() + 3600_000).toISOString();
  scheduled = (await t.http.post(`/api/releases/${scheduled.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200)).body;

  for (const name of ['reader', 'revoked', 'removed']) {
    journalists[name] = (await t.http.post(`/api/newsrooms/${newsroom.slug}/journalists`).set(newsroom.auth).send({ name, email: `${name}@example.net` }).expect(201)).body;
  }
  await t.http.put(`/api/releases/${scheduled.id}/advance-access`).set(newsroom.auth).send({ journalists: 'all' }).expect(200);
  await sendDueAdvanceLinks(t.ctx);
  for (const name of Object.keys(journalists)) {
    const mail = sink.received.find((m) => m.to === `${name}@example.net`)!;
    links[name] = new URL(/https:\/\/\S+\/advance\/[A-Za-z0-9_-]+/.exec(mail.mail.text!)![0]).pathname;
  }
}, 60_000);
afterAll(async () => {
  await t.close();
  await sink.close();
});

/** Every public address that lists, searches or shows releases, or serves their parts. */
function publicUrls(): string[] {
  const s = newsroom.slug;
  const perLanguage = ['fi', 'sv'].flatMap((lang) => [
    `/${s}/${lang}`,
    `/${s}/${lang}?page=2`,
    `/${s}/${lang}/rss.xml`,
    `/${s}/${lang}/atom.xml`,
    `/${s}/${lang}/feed.json`,
    `/${s}/${lang}/keyword/kirjasto`,
    `/${s}/${lang}/keyword/salaisuus`,
    `/${s}/${lang}/keyword/bibliotek/rss.xml`,
    `/${s}/${lang}/keyword/kirjasto/atom.xml`,
    `/${s}/${lang}/keyword/kirjasto/feed.json`,
    `/${s}/${lang}/search?q=${SECRET}`,
    `/${s}/${lang}/ninjs.json`,
    `/${s}/${lang}/calendar.ics`,
    path(scheduled.links.web[lang]),
    `/${s}/${lang}/${scheduled.id}`,
    path(scheduled.links.ninjs[lang]),
    path(scheduled.links.ics[lang]),
  ]);
  return [
    '/',
    '/rss.xml',
    '/atom.xml',
    '/feed.json',
    '/sitemap.xml',
    `/${s}`,
    `/${s}/contacts/${contactId}.vcf`,
    ...perLanguage,
    `/api/newsrooms/${s}`,
    `/api/newsrooms/${s}/releases?status=published`,
    `/api/newsrooms/${s}/releases?status=scheduled`,
    `/api/newsrooms/${s}/releases`,
    `/api/releases/${scheduled.id}`,
    `/api/releases/${scheduled.id}/preview/fi`,
    `/api/releases/${scheduled.id}/advance-access`,
    `/api/releases/${scheduled.id}/advance-access/log`,
    `/api/releases/${scheduled.id}/deliveries`,
    path(image.url),
    `/files/${image.id}/web`,
    path(pdf.url),
  ];
}

/** Asserts that no public address gives away anything of the advance release. */
async function probe(headers: Record<string, string> = {}) {
  const secrets = [SECRET, scheduled.id, image.id, pdf.id, image.sha256, pdf.sha256];
  for (const url of publicUrls()) {
    const res = await asText(t.http.get(url).set(headers));
    expect({ url, ok: res.status < 400 || res.status === 404 || res.status === 401 }).toEqual({ url, ok: true });
    const body = `${res.text ?? ''} ${JSON.stringify(res.headers)}`;
    for (const secret of secrets) expect({ url, leaks: body.includes(secret) }).toEqual({ url, leaks: false });
  }
  // The release's own addresses are 404, exactly like an unknown release's.
  await t.http.get(path(scheduled.links.web.fi)).expect(404);
  await t.http.get(`/api/releases/${scheduled.id}`).expect(404);
}

describe('embargo probe with advance links', () => {
  it('shows nothing of the release on any public route before any link is opened', async () => {
    await probe();
  });

  it('shows the release only through a live link, and still nothing elsewhere once it (and its files) were opened', async () => {
    const page = await t.http.get(links.reader!).expect(200);
    expect(page.text).toContain(`${SECRET} avataan`);
    await t.http.get(`${links.reader}/files/${image.id}/${image.filename}`).expect(200);
    await t.http.get(`${links.reader}/files/${image.id}/web`).expect(200);
    await t.http.get(`${links.reader}/files/${pdf.id}/${pdf.filename}`).expect(200);
    await probe();
    // The link's token is no credential anywhere else.
    const token = links.reader!.split('/')[2]!;
    await probe({ Authorization: `Bearer ${token}` });
    await t.http.get(`/api/releases/${scheduled.id}`).set('Authorization', `Bearer ${token}`).expect(401);
    await t.http.get(`/files/${pdf.id}/${pdf.filename}`).set('Referer', `${BASE}${links.reader}`).expect(404);
  });

  it('answers 410 for a revoked link and for the link of a removed journalist, and 404 for a made-up one', async () => {
    const state = await t.http.get(`/api/releases/${scheduled.id}/advance-access`).set(newsroom.auth).expect(200);
    const revoked = state.body.links.find((l: any) => l.journalist.id === journalists.revoked!.id);
    await t.http.delete(`/api/releases/${scheduled.id}/advance-access/links/${revoked.id}`).set(newsroom.auth).expect(204);
    await t.http.delete(`/api/newsrooms/${newsroom.slug}/journalists/${journalists.removed!.id}`).set(newsroom.auth).expect(204);
    for (const name of ['revoked', 'removed']) {
      const res = await t.http.get(links[name]!).expect(410);
      expect(res.text).not.toContain(SECRET);
      const file = await t.http.get(`${links[name]}/files/${pdf.id}/${pdf.filename}`).expect(410);
      expect(file.text).not.toContain(SECRET);
    }
    const madeUp = await t.http.get(`/advance/${'x'.repeat(43)}`).expect(404);
    expect(madeUp.headers['cache-control']).toBe('no-store');
    await t.http.get(links.reader!).expect(200);
    await probe();
  });
});
