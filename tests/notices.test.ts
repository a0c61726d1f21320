import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDeliveryWorker } from '../src/delivery/worker.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';
import { StaffClient } from './support/staff.js';

/*
 * Re-notification: those who received a release (their delivery sent) are told of a
 * correction or its withdrawal, in their delivery language, once; nobody else. The real
 * app and workers, real Redis, an SMTP server in this process.
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
const note = { fi: 'Avajaispäivä on tiistai, ei maanantai.', sv: 'Öppningsdagen är tisdag, inte måndag.' };

/** A published release whose email went out to `count` subscribers, as the delivery report says. */
async function sentRelease(count: number) {
  const release = await buildRelease(t, newsroom);
  await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
  expect(
    await until(async () => {
      const report = (await t.http.get(`/api/releases/${release.id}/deliveries`).set(newsroom.auth)).body;
      return report.total === count && report.queued === 0;
    }),
  ).toBe(true);
  return release;
}

describe('notifying those who received a release', () => {
  it('tells each recipient of a correction once, in their language, never later subscribers or failed ones', async () => {
    const [sv, fi, refused] = await insertSubscribers(t.ctx.db, roomId, [{ languages: ['sv'] }, { languages: ['fi'] }, { languages: ['fi'] }]);
    sink.reply = (to) => (to === refused!.email ? { code: 550, message: '5.1.1 No such user' } : undefined);
    const release = await sentRelease(3);
    const original = mailsTo(sv!.email)[0]!.mail;
    const [later] = await insertSubscribers(t.ctx.db, roomId, [{ languages: ['fi'] }]);

    const corrected = (
      await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth)
        .send({ translations: { fi: { body: 'Kirjasto avataan **tiistaina**.' } }, change: { kind: 'correction', note } })
        .expect(200)
    ).body;
    const correctionId = corrected.corrections[0].id;
    const before = sink.received.length;
    const notified = await t.http.post(`/api/releases/${release.id}/corrections/${correctionId}/notify`).set(newsroom.auth).expect(202);
    expect(notified.body).toEqual({ correctionId, recipients: 2 });
    // Once per correction.
    await t.http.post(`/api/releases/${release.id}/corrections/${correctionId}/notify`).set(newsroom.auth).expect(409);

    expect(await until(() => sink.received.length >= before + 2)).toBe(true);
    await sleep(500); // anything more would be a duplicate or a wrong recipient
    const notices = sink.received.slice(before);
    expect(notices.map((m) => m.to).sort()).toEqual([sv!.email, fi!.email].sort());
    const toSv = notices.find((m) => m.to === sv!.email)!.mail;
    expect(toSv.subject).toBe('Rättelse: Nytt bibliotek öppnas');
    expect(toSv.inReplyTo).toBe(original.messageId);
    for (const part of [toSv.text!, toSv.html as string]) {
      expect(part).toContain(note.sv);
      expect(part).toContain(`https://news.example.test/${newsroom.slug}/sv/${release.id}/`);
      expect(part).toMatch(/news\.example\.test\/unsubscribe\//);
    }
    const toFi = notices.find((m) => m.to === fi!.email)!.mail;
    expect(toFi.subject).toBe('Korjaus: Uusi kirjasto avataan');
    expect(toFi.text).toContain(note.fi);
    expect(mailsTo(later!.email)).toHaveLength(0);
    expect(mailsTo(refused!.email)).toHaveLength(0);

    const report = (await t.http.get(`/api/releases/${release.id}/notices`).set(newsroom.auth).expect(200)).body;
    expect(report).toEqual([
      { correctionId, kind: 'correction', requestedAt: expect.any(String), total: 2, queued: 0, sent: 2, failed: 0, skipped: 0 },
    ]);
    sink.reply = () => undefined;
  });

  it('refuses a minor edit, an unknown correction, and another newsroom', async () => {
    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    const minor = (await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ type: 'news', change: { kind: 'minor' } }).expect(200)).body;
    await t.http.post(`/api/releases/${release.id}/corrections/${minor.corrections[0].id}/notify`).set(newsroom.auth).expect(409);
    await t.http.post(`/api/releases/${release.id}/corrections/nope/notify`).set(newsroom.auth).expect(404);
    const other = await buildNewsroom(t);
    await t.http.post(`/api/releases/${release.id}/corrections/${minor.corrections[0].id}/notify`).set(other.auth).expect(403);
    await t.http.post(`/api/releases/${release.id}/corrections/${minor.corrections[0].id}/notify`).expect(401);
  });

  it('tells them of the withdrawal with its reason, from the staff app, and shows it in the delivery report', async () => {
    const [sv] = await insertSubscribers(t.ctx.db, roomId, [{ languages: ['sv'] }]);
    const subscribers = (await t.ctx.db.selectFrom('subscribers').select('id').where('newsroom_id', '=', roomId).where('status', '=', 'confirmed').execute()).length;
    const release = await sentRelease(subscribers);
    const reason = { fi: 'Julkaistu vahingossa.', sv: 'Publicerat av misstag.' };
    const withdrawn = (await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).send({ reason }).expect(200)).body;

    const staff = new StaffClient(t);
    await staff.signIn(newsroom.token);
    const page = await staff.get(`/admin/releases/${release.id}`);
    const notifyUrl = `/admin/releases/${release.id}/corrections/${withdrawn.withdrawal.id}/notify`;
    expect(page.text).toContain(`href="${notifyUrl}"`);
    const confirm = await staff.get(notifyUrl);
    expect(confirm.text).toContain(`action="${notifyUrl}"`);
    const before = sink.received.length;
    expect((await staff.post(notifyUrl, {})).status).toBe(303);
    expect(await until(() => sink.received.length >= before + subscribers)).toBe(true);
    const toSv = mailsTo(sv!.email).at(-1)!.mail;
    expect(toSv.subject).toBe('Återkallat: Nytt bibliotek öppnas');
    expect(toSv.text).toContain(reason.sv);

    // Asked again: refused, nothing more sent.
    expect((await staff.post(notifyUrl, {})).status).toBe(409);
    const report = await staff.get(`/admin/releases/${release.id}/deliveries`);
    expect(report.text).toContain('id="notices"');
    expect(report.text).toContain(`${subscribers}/${subscribers}`);
  });
});
