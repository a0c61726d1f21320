import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sendDueAdvanceLinks, startAdvanceWorker } from '../src/advance/worker.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';

/*
 * "Updated before publication": an edit of a scheduled release, with notifyJournalists,
 * emails the journalists holding live advance links once, with what changed, still under
 * embargo; nobody else, never twice, never after publication.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR = 3600_000;

let t: TestApp;
let sink: SmtpSink;
let newsroom: NewsroomFixture;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'news@example.test' });
  newsroom = await buildNewsroom(t);
});
afterAll(async () => {
  await t.close();
  await sink.close();
});

let counter = 0;
async function accredit(overrides: Record<string, unknown> = {}) {
  const res = await t.http
    .post(`/api/newsrooms/${newsroom.slug}/journalists`)
    .set(newsroom.auth)
    .send({ name: `Reporter ${++counter}`, email: `upd${counter}-${Date.now()}@example.net`, ...overrides })
    .expect(201);
  return res.body as Record<string, any>;
}
const mailsTo = (address: string) => sink.received.filter((m) => m.to === address.toLowerCase());

/** A release scheduled in two hours whose links went out to the journalists given. */
async function releaseWithLinks(journalists: Record<string, any>[]) {
  const release = await buildRelease(t, newsroom);
  const publishAt = new Date(t.clock.now().getTime() + 2 * HOUR).toISOString();
  await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);
  const given = await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: journalists.map((j) => j.id) }).expect(200);
  // A running worker may win the links' claims: wait for the emails, whoever sends them.
  await sendDueAdvanceLinks(t.ctx);
  expect(await until(() => journalists.every((j) => mailsTo(j.email).length === 1))).toBe(true);
  return { id: release.id as string, links: given.body.links as { id: string; journalist: { id: string } }[] };
}

describe('updated before publication', () => {
  it('tells each journalist with a live link once, through the worker, with the fields changed and the embargo', async () => {
    const worker: RunningWorker = await startAdvanceWorker(t.ctx);
    try {
      const [swedish, finnish, revoked, notGiven] = [await accredit({ languages: ['sv'] }), await accredit({ languages: ['fi'] }), await accredit(), await accredit()];
      const release = await releaseWithLinks([swedish, finnish, revoked]);
      const revokedLink = release.links.find((l) => l.journalist.id === revoked.id)!.id;
      await t.http.delete(`/api/releases/${release.id}/advance-access/links/${revokedLink}`).set(newsroom.auth).expect(204);

      // An edit without the flag tells nobody.
      await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { fi: { lead: 'Uusi ingressi.' } } }).expect(200);
      await t.http
        .patch(`/api/releases/${release.id}`)
        .set(newsroom.auth)
        .send({ translations: { sv: { title: 'Nytt bibliotek öppnar i maj' }, fi: { body: 'Kirjasto avataan **toukokuussa**.' } }, notifyJournalists: true })
        .expect(200);
      expect(await until(() => mailsTo(swedish.email).length === 2 && mailsTo(finnish.email).length === 2, 15_000)).toBe(true);
      await sendDueAdvanceLinks(t.ctx); // the sweep after the job: nothing more
      await sleep(500);
      expect(mailsTo(swedish.email)).toHaveLength(2);
      expect(mailsTo(finnish.email)).toHaveLength(2);
      expect(mailsTo(revoked.email)).toHaveLength(1);
      expect(mailsTo(notGiven.email)).toHaveLength(0);

      const toSwedish = mailsTo(swedish.email)[1]!.mail;
      expect(toSwedish.subject).toMatch(/^Uppdaterat före publicering – EMBARGO – får publiceras .+ \(Europe\/Helsinki\): Nytt bibliotek öppnar i maj$/);
      expect(toSwedish.text).toMatch(/^\*\*\* EMBARGO – får publiceras .+ UTC \*\*\*/);
      expect(toSwedish.text).toContain(' * Rubrik (SV)');
      expect(toSwedish.text).toContain(' * Text (FI)');
      expect(toSwedish.text).not.toContain('Ingress');
      expect(toSwedish.html).toContain('<li>Rubrik (SV)</li>');
      // It answers the link's email and carries no link (the earlier one shows the new version).
      expect(toSwedish.inReplyTo).toBe(mailsTo(swedish.email)[0]!.mail.messageId);
      expect(toSwedish.text).not.toContain('/advance/');
      expect(mailsTo(finnish.email)[1]!.mail.subject).toMatch(/^Päivitetty ennen julkaisua – EMBARGO/);

      const state = (await t.http.get(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).expect(200)).body;
      expect(state.updates).toEqual([
        { id: expect.any(String), at: expect.any(String), fields: ['translations.fi.body', 'translations.sv.title'], queued: 0, sent: 2, failed: 0, skipped: 0 },
      ]);
      // An edit that changes nothing records nothing.
      await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { sv: { title: 'Nytt bibliotek öppnar i maj' } }, notifyJournalists: true }).expect(200);
      expect((await t.http.get(`/api/releases/${release.id}/advance-access`).set(newsroom.auth)).body.updates).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });

  it('refuses the flag on a draft, and sends nothing left of an update once the release is public', async () => {
    const draft = await buildRelease(t, newsroom);
    const refused = await t.http.patch(`/api/releases/${draft.id}`).set(newsroom.auth).send({ translations: { fi: { lead: 'x' } }, notifyJournalists: true }).expect(422);
    expect(refused.body.errors).toEqual([{ path: 'notifyJournalists', message: 'only for a scheduled release, before its publication time' }]);

    const journalist = await accredit({ languages: ['fi'] });
    const release = await releaseWithLinks([journalist]);
    // No worker runs: the update waits in the database while the release becomes public.
    await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { fi: { lead: 'Uusi ingressi.' } }, notifyJournalists: true }).expect(200);
    t.clock.advance(2 * HOUR + 1000);
    await sendDueAdvanceLinks(t.ctx);
    expect(mailsTo(journalist.email)).toHaveLength(1);
    const state = (await t.http.get(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).expect(200)).body;
    expect(state.updates[0]).toMatchObject({ fields: ['translations.fi.lead'], queued: 0, sent: 0, skipped: 1 });
    // Public now: the flag is refused.
    await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { fi: { lead: 'Toinen.' } }, notifyJournalists: true }).expect(422);
  });
});
