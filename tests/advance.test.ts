import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addressHash } from '../src/advance/links.js';
import { startAdvanceWorker, sendDueAdvanceLinks } from '../src/advance/worker.js';
import { withoutSecrets } from '../src/app.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildNewsroom, buildRelease, minimalPdf, type NewsroomFixture } from './support/factories.js';
import { expectValidHtml } from './support/html.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';

/*
 * Advance access through the API: personal links sent at their time in each journalist's
 * language, the page and files behind them, the access log, and every way a link dies.
 */

let t: TestApp;
let sink: SmtpSink;
let newsroom: NewsroomFixture;
let other: NewsroomFixture;
const HOUR = 3600_000;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'news@example.test' });
  newsroom = await buildNewsroom(t);
  other = await buildNewsroom(t);
});
afterAll(async () => {
  await t.close();
  await sink.close();
});

let counter = 0;
async function accredit(room: NewsroomFixture, overrides: Record<string, unknown> = {}) {
  const res = await t.http
    .post(`/api/newsrooms/${room.slug}/journalists`)
    .set(room.auth)
    .send({ name: `Reporter ${++counter}`, outlet: 'Daily Example', email: `reporter${counter}-${Date.now()}@example.net`, ...overrides })
    .expect(201);
  return res.body as Record<string, any>;
}

async function scheduledRelease(room: NewsroomFixture, inMs: number, overrides: Record<string, unknown> = {}) {
  const release = await buildRelease(t, room, overrides);
  const publishAt = new Date(t.clock.now().getTime() + inMs).toISOString();
  await t.http.post(`/api/releases/${release.id}/schedule`).set(room.auth).send({ publishAt }).expect(200);
  return { ...release, publishAt } as Record<string, any>;
}

const mailsTo = (address: string) => sink.received.filter((m) => m.to === address.toLowerCase());
/** The personal link: the first URL of the plain-text part. */
const linkIn = (text: string) => new URL(/https:\/\/news\.example\.test\/advance\/[A-Za-z0-9_-]+/.exec(text)![0]).pathname;

describe('advance access', () => {
  it('sends each link at its time through the delayed job (worker running)', async () => {
    const worker: RunningWorker = await startAdvanceWorker(t.ctx);
    try {
      const journalist = await accredit(newsroom);
      const release = await scheduledRelease(newsroom, 2 * HOUR);
      const opensAt = new Date(t.clock.now().getTime() + 1500).toISOString();
      const given = await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: [journalist.id], opensAt }).expect(200);
      expect(given.body).toMatchObject({ audience: 'chosen', opensAt, revokedAt: null, links: [{ journalist: { id: journalist.id }, status: 'pending' }] });
      expect(mailsTo(journalist.email)).toHaveLength(0);
      expect(await until(() => mailsTo(journalist.email).length === 1, 15_000)).toBe(true);
      const state = await t.http.get(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).expect(200);
      expect(state.body.links[0]).toMatchObject({ status: 'sent', language: 'fi' });
      // Never twice: the sweep and the job both ran, or will.
      await sendDueAdvanceLinks(t.ctx);
      expect(mailsTo(journalist.email)).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });

  it('emails each journalist in their language with the embargo, opens the release and its files, and logs every opening', async () => {
    const swedish = await accredit(newsroom, { languages: ['en', 'sv'] });
    const suspended = await accredit(newsroom);
    await t.http.post(`/api/newsrooms/${newsroom.slug}/journalists/${suspended.id}/suspend`).set(newsroom.auth).expect(200);
    const publishAt = '2031-06-01T09:00:00Z';
    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);
    const file = await buildAttachment(t, newsroom, release.id);
    const opensAt = new Date(t.clock.now().getTime() + HOUR).toISOString();
    const given = await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: 'all', opensAt }).expect(200);
    const holders = given.body.links.map((l: any) => l.journalist.id);
    expect(holders).toContain(swedish.id);
    expect(holders).not.toContain(suspended.id);

    await sendDueAdvanceLinks(t.ctx);
    expect(mailsTo(swedish.email)).toHaveLength(0); // not yet
    t.clock.advance(HOUR + 1000);
    await sendDueAdvanceLinks(t.ctx);
    expect(mailsTo(suspended.email)).toHaveLength(0);
    const [mail] = mailsTo(swedish.email);
    expect(mail).toBeDefined();
    // Embargo in the newsroom's zone (Helsinki, UTC+3 in June) and in UTC, prominently.
    expect(mail!.mail.subject).toBe('EMBARGO – får publiceras 1.6.2031 kl. 12.00 (Europe/Helsinki): Nytt bibliotek öppnas');
    expect(mail!.mail.text).toContain('*** EMBARGO – får publiceras 1.6.2031 kl. 12.00 (Europe/Helsinki) · 1.6.2031 kl. 09.00 UTC ***');
    expect(mail!.mail.text).toContain('loggas');
    expect(mail!.mail.html).toContain('EMBARGO – får publiceras');
    const link = linkIn(mail!.mail.text!);
    // The token is stored hashed only.
    const token = link.split('/')[2]!;
    const stored = await t.ctx.db.selectFrom('advance_links').select('token_hash').where('release_id', '=', release.id).execute();
    expect(stored.map((s) => s.token_hash)).toContain(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(withoutSecrets(link)).toBe('/advance/[redacted]');

    const page = await t.http.get(link).set('User-Agent', 'ReporterBrowser/1.0').expect(200);
    expect(page.headers['x-robots-tag']).toBe('noindex');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('Nytt bibliotek öppnas');
    expect(page.text).toContain('class="embargo-banner"');
    expect(page.text).toContain('1.6.2031 kl. 09.00 UTC');
    await expectValidHtml(page.text);
    const fileUrl = `${link}/files/${file.id}/${file.filename}`;
    expect(page.text).toContain(fileUrl);
    const bytes = await t.http.get(fileUrl).buffer(true).expect(200);
    expect(Buffer.compare(bytes.body as Buffer, minimalPdf)).toBe(0);
    expect(bytes.headers['cache-control']).toBe('private, no-store');
    expect(bytes.headers['x-robots-tag']).toBe('noindex');
    // The public file URL still answers nothing.
    await t.http.get(`/files/${file.id}/${file.filename}`).expect(404);
    await t.http.get(`${link}/files/${file.id}/other.pdf`).expect(404);

    const log = await t.http.get(`/api/releases/${release.id}/advance-access/log`).set(newsroom.auth).expect(200);
    expect(log.body).toHaveLength(2);
    // Keyed with SIGNING_SECRET: not the plain SHA-256 anyone could match by trying every IPv4 address.
    const keyed = (address: string) => addressHash(t.ctx.config.signingSecret, address);
    expect(log.body[1]).toMatchObject({ journalist: { id: swedish.id, name: swedish.name, outlet: 'Daily Example' }, language: 'sv', file: null, userAgent: 'ReporterBrowser/1.0' });
    expect([keyed('::ffff:127.0.0.1'), keyed('127.0.0.1')]).toContain(log.body[1].addressHash);
    expect(log.body[1].addressHash).not.toBe(createHash('sha256').update('127.0.0.1').digest('hex'));
    expect(log.body[0]).toMatchObject({ file: { attachmentId: file.id, filename: file.filename } });
    await t.http.get(`/api/releases/${release.id}/advance-access/log`).set(other.auth).expect(403);
    await t.http.get(`/api/releases/${release.id}/advance-access/log`).expect(401);

    // Publication: the link leads to the public page.
    t.clock.advance(Date.parse(publishAt) - t.clock.now().getTime() + 1000);
    const after = await t.http.get(link).expect(302);
    expect(after.headers.location).toBe(`https://news.example.test/${newsroom.slug}/sv/${release.id}/nytt-bibliotek-oppnas`);
    await t.http.get(fileUrl).expect(302);
  });

  it("switches the page's language through the link, logs each opening in its language, and leads to that language's public page after", async () => {
    const journalist = await accredit(newsroom, { languages: ['sv'] });
    const release = await scheduledRelease(newsroom, 2 * HOUR);
    await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: [journalist.id] }).expect(200);
    await sendDueAdvanceLinks(t.ctx);
    const link = linkIn(mailsTo(journalist.email)[0]!.mail.text!);
    const swedish = await t.http.get(link).expect(200);
    expect(swedish.text).toContain('Nytt bibliotek öppnas');
    // The language switch stays behind the link (the public page answers 404 until the publication time).
    const switchTo = /<a href="([^"]+)" hreflang="fi"/.exec(swedish.text)?.[1]?.replace(/&#x3D;/g, '=');
    expect(switchTo).toBe(`${link}?lang=fi`);
    const nav = /<nav class="languages"[\s\S]*?<\/nav>/.exec(swedish.text)![0];
    expect(nav).not.toContain(`/${newsroom.slug}/`);
    const finnish = await t.http.get(switchTo!).expect(200);
    expect(finnish.text).toContain('Uusi kirjasto avataan');
    expect(finnish.text).toContain('EMBARGO – julkaisuvapaa');
    expect(finnish.headers['x-robots-tag']).toBe('noindex');
    // A language the release lacks: the link's own.
    expect((await t.http.get(`${link}?lang=de`).expect(200)).text).toContain('Nytt bibliotek öppnas');
    const log = await t.http.get(`/api/releases/${release.id}/advance-access/log`).set(newsroom.auth).expect(200);
    expect(log.body.map((o: any) => o.language)).toEqual(['sv', 'fi', 'sv']);

    t.clock.advance(2 * HOUR + 1000);
    const after = await t.http.get(switchTo!).expect(302);
    expect(after.headers.location).toBe(`https://news.example.test/${newsroom.slug}/fi/${release.id}/uusi-kirjasto-avataan`);
  });

  it('kills a link when it is revoked, all are revoked, or its journalist is suspended or removed', async () => {
    const [a, b, c, d] = [await accredit(newsroom), await accredit(newsroom), await accredit(newsroom), await accredit(newsroom)];
    const release = await scheduledRelease(newsroom, 2 * HOUR);
    const given = await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: [a.id, b.id, c.id, d.id] }).expect(200);
    await sendDueAdvanceLinks(t.ctx);
    const links = Object.fromEntries([a, b, c, d].map((j) => [j.id, linkIn(mailsTo(j.email)[0]!.mail.text!)]));
    for (const path of Object.values(links)) await t.http.get(path as string).expect(200);

    const linkOf = (j: Record<string, any>) => given.body.links.find((l: any) => l.journalist.id === j.id).id;
    await t.http.delete(`/api/releases/${release.id}/advance-access/links/${linkOf(a)}`).set(other.auth).expect(403);
    await t.http.delete(`/api/releases/${release.id}/advance-access/links/${linkOf(a)}`).set(newsroom.auth).expect(204);
    await t.http.get(links[a.id]!).expect(410);
    await t.http.post(`/api/newsrooms/${newsroom.slug}/journalists/${b.id}/suspend`).set(newsroom.auth).expect(200);
    await t.http.get(links[b.id]!).expect(410);
    // Reactivated, the old link stays dead.
    await t.http.post(`/api/newsrooms/${newsroom.slug}/journalists/${b.id}/reactivate`).set(newsroom.auth).expect(200);
    await t.http.get(links[b.id]!).expect(410);
    await t.http.delete(`/api/newsrooms/${newsroom.slug}/journalists/${c.id}`).set(newsroom.auth).expect(204);
    await t.http.get(links[c.id]!).expect(410);
    await t.http.get(links[d.id]!).expect(200);

    const revoked = await t.http.delete(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).expect(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(revoked.body.links.every((l: any) => l.status === 'revoked')).toBe(true);
    await t.http.get(links[d.id]!).expect(410);
    // The log keeps the removed journalist's name.
    const log = await t.http.get(`/api/releases/${release.id}/advance-access/log`).set(newsroom.auth).expect(200);
    expect(log.body.map((o: any) => o.journalist.name)).toContain(c.name);
    // Unknown tokens are 404, like any unknown page.
    await t.http.get('/advance/' + 'A'.repeat(43)).expect(404);
    await t.http.get('/advance/short').expect(404);
  });

  it('sends a link to a journalist accredited after advance access for all opened, once', async () => {
    const release = await scheduledRelease(newsroom, 2 * HOUR);
    await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: 'all' }).expect(200);
    await sendDueAdvanceLinks(t.ctx);
    const late = await accredit(newsroom);
    await sendDueAdvanceLinks(t.ctx);
    const state = await t.http.get(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).expect(200);
    expect(state.body.links.find((l: any) => l.journalist.id === late.id)).toMatchObject({ status: 'sent' });
    const count = mailsTo(late.email).length;
    expect(count).toBeGreaterThan(0);
    await sendDueAdvanceLinks(t.ctx);
    expect(mailsTo(late.email)).toHaveLength(count);
    // Taken back, so that journalists accredited by later tests get no link to it.
    await t.http.delete(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).expect(200);
  });

  it('closes the link when the release goes back to draft', async () => {
    const j = await accredit(newsroom);
    const release = await scheduledRelease(newsroom, 2 * HOUR);
    await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: [j.id] }).expect(200);
    await sendDueAdvanceLinks(t.ctx);
    const link = linkIn(mailsTo(j.email)[0]!.mail.text!);
    await t.http.post(`/api/releases/${release.id}/unschedule`).set(newsroom.auth).expect(200);
    await t.http.get(link).expect(410);
  });

  it('refuses advance access that is not before a scheduled publication, or for journalists not of the newsroom', async () => {
    const draft = await buildRelease(t, newsroom);
    const mine = await accredit(newsroom);
    const theirs = await accredit(other);
    await t.http.put(`/api/releases/${draft.id}/advance-access`).set(newsroom.auth).send({ journalists: 'all' }).expect(409);
    const release = await scheduledRelease(newsroom, HOUR);
    const late = await t.http
      .put(`/api/releases/${release.id}/advance-access`)
      .set(newsroom.auth)
      .send({ journalists: 'all', opensAt: new Date(t.clock.now().getTime() + 2 * HOUR).toISOString() })
      .expect(422);
    expect(late.body.errors[0].path).toBe('opensAt');
    const foreign = await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: [mine.id, theirs.id] }).expect(422);
    expect(foreign.body.errors.map((e: any) => e.path)).toEqual(['journalists.1']);
    await t.http.put(`/api/releases/${release.id}/advance-access`).set(other.auth).send({ journalists: [theirs.id] }).expect(403);
    await t.http.get(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).expect(404);
  });
});
