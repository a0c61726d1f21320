import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ParsedMail } from 'mailparser';
import { withoutSecrets } from '../src/app.js';
import { startDeliveryWorker } from '../src/delivery/worker.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { StaffClient } from './support/staff.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';

/*
 * Accredited journalists get the release at publication like subscribers, once: a
 * journalist who is also a confirmed subscriber (any case) gets one email, as a
 * subscriber; one who is not gets one of their own, in their language, whose unsubscribe
 * link stops their release emails; a suspended one gets none. Real app, workers, Redis
 * and an SMTP server in this process.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let t: TestApp;
let sink: SmtpSink;
let workers: RunningWorker[];
let newsroom: NewsroomFixture;
let roomId: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'news@example.test' });
  workers = [await startDeliveryWorker(t.ctx), await startPublicationWorker(t.ctx)];
  newsroom = await buildNewsroom(t);
  roomId = await newsroomId(t.ctx.db, newsroom.slug);
});
afterAll(async () => {
  for (const w of workers) await w.close();
  await t.close();
  await sink.close();
});

const mailsTo = (address: string) => sink.received.filter((m) => m.to === address.toLowerCase());
const header = (mail: ParsedMail, name: string) =>
  mail.headerLines.find((h) => h.key === name)?.line.replace(/\r?\n\s+/g, ' ') ?? '';

let counter = 0;
async function accredit(overrides: Record<string, unknown> = {}) {
  const res = await t.http
    .post(`/api/newsrooms/${newsroom.slug}/journalists`)
    .set(newsroom.auth)
    .send({ name: `Reporter ${++counter}`, outlet: 'Radio Example', email: `journo${counter}-${Date.now()}@example.net`, ...overrides })
    .expect(201);
  return res.body as Record<string, any>;
}

/** Publishes a release now and waits until its deliveries, `count` in all, have left. */
async function publishAndDeliver(count: number) {
  const release = await buildRelease(t, newsroom);
  await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
  expect(
    await until(async () => {
      const report = (await t.http.get(`/api/releases/${release.id}/deliveries`).set(newsroom.auth)).body;
      return report.total === count && report.queued === 0;
    }, 20_000),
  ).toBe(true);
  await sleep(500); // anything more would be a duplicate
  return release;
}

describe('release emails to accredited journalists', () => {
  it('sends one email to each journalist, never two to one who subscribes, none to a suspended one; the unsubscribe link stops them', async () => {
    const [reader] = await insertSubscribers(t.ctx.db, roomId, [{ email: `Both.Ways-${Date.now()}@Example.net`, languages: ['fi'] }]);
    // The same person, accredited under the address in other case, reading Swedish first.
    const subscribing = await accredit({ email: reader!.email.toLowerCase(), languages: ['sv'] });
    const swedish = await accredit({ languages: ['en', 'sv'] });
    const suspended = await accredit();
    await t.http.post(`/api/newsrooms/${newsroom.slug}/journalists/${suspended.id}/suspend`).set(newsroom.auth).expect(200);
    // A pending subscription is no subscription: the journalist still gets it as one.
    const pending = await accredit({ languages: ['fi'] });
    await insertSubscribers(t.ctx.db, roomId, [{ email: pending.email, status: 'pending' }]);

    await publishAndDeliver(3);

    expect(mailsTo(reader!.email)).toHaveLength(1);
    const asSubscriber = mailsTo(reader!.email)[0]!.mail;
    // Gets it as the subscriber: their language, their subscription's links.
    expect(asSubscriber.subject).toBe('Uusi kirjasto avataan');
    expect(header(asSubscriber, 'list-unsubscribe')).toContain(`/unsubscribe/${reader!.id}.`);
    expect(mailsTo(subscribing.email)).toHaveLength(1);
    expect(mailsTo(suspended.email)).toHaveLength(0);
    expect(mailsTo(pending.email)).toHaveLength(1);

    expect(mailsTo(swedish.email)).toHaveLength(1);
    const toSwedish = mailsTo(swedish.email)[0]!.mail;
    expect(toSwedish.subject).toBe('Nytt bibliotek öppnas');
    expect(toSwedish.text).toContain('ackrediterade journalister');
    expect(header(toSwedish, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const unsubscribeUrl = /^List-Unsubscribe: <(https:\/\/news\.example\.test\/unsubscribe\/journalist\/[^>]+)>$/i.exec(header(toSwedish, 'list-unsubscribe'))?.[1];
    expect(unsubscribeUrl).toBeDefined();
    expect(toSwedish.text).toContain(unsubscribeUrl);
    const path = new URL(unsubscribeUrl!).pathname;
    // The link is its own credential: never in the request log.
    expect(withoutSecrets(path)).toBe('/unsubscribe/journalist/[redacted]');

    // A token of another kind or a forged one names nobody.
    await t.http.get(`/unsubscribe/journalist/${reader!.id}.AAAA`).expect(404);
    await t.http.get(`/unsubscribe/${path.split('/').pop()}`).expect(404);

    // GET asks (mail scanners change nothing); the one-click POST stops the emails.
    const asked = await t.http.get(path).expect(200);
    expect(asked.text).toContain('Sluta få pressmeddelanden');
    expect((await t.http.get(`/api/newsrooms/${newsroom.slug}/journalists/${swedish.id}`).set(newsroom.auth).expect(200)).body).toMatchObject({
      releaseEmails: true,
      unsubscribedAt: null,
    });
    const done = await t.http.post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(done.text).toContain('Inga fler pressmeddelanden');
    const after = (await t.http.get(`/api/newsrooms/${newsroom.slug}/journalists/${swedish.id}`).set(newsroom.auth).expect(200)).body;
    expect(after).toMatchObject({ status: 'active', releaseEmails: false, unsubscribedAt: expect.any(String) });
    // Staff see it on the journalists page.
    const staff = new StaffClient(t);
    await staff.signIn(newsroom.token);
    expect((await staff.get('/admin/journalists?lang=en')).text).toContain('No release emails (they unsubscribed):');
    // A staff edit does not undo it.
    await t.http.patch(`/api/newsrooms/${newsroom.slug}/journalists/${swedish.id}`).set(newsroom.auth).send({ note: 'radio' }).expect(200);

    const before = sink.received.length;
    await publishAndDeliver(2);
    const next = sink.received.slice(before).map((m) => m.to).sort();
    expect(next).toEqual([reader!.email.toLowerCase(), pending.email.toLowerCase()].sort());
    expect(mailsTo(swedish.email)).toHaveLength(1);
  });

  it('tells a journalist who received the release of its correction, with their own unsubscribe link', async () => {
    const journalist = await accredit({ languages: ['fi'] });
    // The recipients: the reader above (also a journalist, so counted once) and every active journalist still taking the emails.
    const active = (await t.http.get(`/api/newsrooms/${newsroom.slug}/journalists?status=active`).set(newsroom.auth).expect(200)).body as any[];
    const release = await publishAndDeliver(active.filter((j) => j.releaseEmails).length);
    expect(mailsTo(journalist.email)).toHaveLength(1);
    const corrected = (
      await t.http
        .patch(`/api/releases/${release.id}`)
        .set(newsroom.auth)
        .send({ translations: { fi: { body: 'Kirjasto avataan **tiistaina**.' } }, change: { kind: 'correction', note: { fi: 'Päivä korjattu.', sv: 'Dagen rättad.' } } })
        .expect(200)
    ).body;
    await t.http.post(`/api/releases/${release.id}/corrections/${corrected.corrections[0].id}/notify`).set(newsroom.auth).expect(202);
    expect(await until(() => mailsTo(journalist.email).length === 2)).toBe(true);
    const notice = mailsTo(journalist.email)[1]!.mail;
    expect(notice.subject).toBe('Korjaus: Uusi kirjasto avataan');
    expect(header(notice, 'list-unsubscribe')).toContain('/unsubscribe/journalist/');
  });

  it("names a journalist whose address refused the release in the delivery report", async () => {
    const refusing = await accredit();
    sink.reply = (to) => (to === refusing.email.toLowerCase() ? { code: 550, message: '5.1.1 No such user' } : undefined);
    try {
      const active = (await t.http.get(`/api/newsrooms/${newsroom.slug}/journalists?status=active`).set(newsroom.auth).expect(200)).body as any[];
      const release = await publishAndDeliver(active.filter((j) => j.releaseEmails).length);
      const report = (await t.http.get(`/api/releases/${release.id}/deliveries`).set(newsroom.auth).expect(200)).body;
      expect(report.failures.items).toEqual([expect.objectContaining({ subscriberId: refusing.id, email: refusing.email })]);
    } finally {
      sink.reply = () => undefined;
    }
  });
});
