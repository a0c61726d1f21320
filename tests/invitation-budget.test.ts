import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/lib/config.js';
import { formatDateTime, t as say } from '../src/lib/i18n.js';
import { sweepConfirmations } from '../src/subscriptions/mail.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, type NewsroomFixture } from './support/factories.js';
import { StaffClient, visibleText } from './support/staff.js';
import { newsroomId } from './support/subscribers.js';

/*
 * Staff invitations (CSV upload) cannot make the service a spam relay: each newsroom
 * invites at most its budget in 24 hours (INVITATIONS_PER_DAY, 500 unless set, or the
 * newsroom's own number from the admin), decided in the database, and no address is
 * asked twice in 24 hours whichever newsrooms ask.
 */

const DAY_MS = 24 * 3600_000;

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.ctx.subscriptionMail.queue.obliterate({ force: true }).catch(() => undefined);
  await t?.close();
});

let counter = 0;
const address = (label: string) => `${label}.${Date.now().toString(36)}.${++counter}@example.net`;
const csvOf = (emails: readonly string[]) => ['email', ...emails].join('\n');

async function signedIn(fixture: NewsroomFixture, lang = 'en') {
  const staff = new StaffClient(t);
  await staff.signIn(fixture.token);
  await staff.get(`/admin/subscribers?lang=${lang}`);
  return staff;
}

/** Confirmation requests recorded for the newsroom's subscribers (one per email that goes out). */
async function invitationsOf(fixture: NewsroomFixture): Promise<string[]> {
  const rows = await t.ctx.db
    .selectFrom('subscription_confirmations')
    .innerJoin('subscribers', 'subscribers.id', 'subscription_confirmations.subscriber_id')
    .select('subscribers.email_key')
    .where('subscribers.newsroom_id', '=', await newsroomId(t.ctx.db, fixture.slug))
    .where('subscription_confirmations.source', '=', 'invitation')
    .execute();
  return rows.map((row) => row.email_key);
}

const budgetOf = async (fixture: NewsroomFixture) =>
  (await t.http.get(`/api/newsrooms/${fixture.slug}/invitation-budget`).set(fixture.auth).expect(200)).body;

const setBudget = (fixture: NewsroomFixture, perDay: unknown) =>
  t.http.put(`/api/newsrooms/${fixture.slug}/invitation-budget`).set(t.admin).send({ perDay });

describe('INVITATIONS_PER_DAY', () => {
  const here = { STORAGE_DIR: '/tmp/newsroom-invitations/files', ADMIN_TOKEN, SIGNING_SECRET: 'x'.repeat(32) };

  it('is 500 unless set; a bad value stops the start, naming the variable', () => {
    expect(loadConfig(here).invitationsPerDay).toBe(500);
    expect(loadConfig({ ...here, INVITATIONS_PER_DAY: '2000' }).invitationsPerDay).toBe(2000);
    expect(loadConfig({ ...here, INVITATIONS_PER_DAY: '0' }).invitationsPerDay).toBe(0);
    for (const bad of ['-1', 'many', '1.5', '100001']) expect(() => loadConfig({ ...here, INVITATIONS_PER_DAY: bad })).toThrow(/INVITATIONS_PER_DAY: /);
  });
});

describe('the invitation budget of a newsroom', () => {
  it('is 500 addresses in 24 hours by default: the rows over it are reported, in the staff’s language, and can be invited once it frees', async () => {
    const room = await buildNewsroom(t);
    const emails = Array.from({ length: 502 }, () => address('many'));
    const staff = await signedIn(room);
    const res = await staff.inviteFromCsv(csvOf(emails));
    // The post redirects (303) to the subscribers page, which reports the result once.
    expect(res.status).toBe(200);
    const text = visibleText(res.text);
    expect(text).toContain('Invited (a confirmation request is on its way): 500');
    expect(text).toContain('Not asked, over the invitation budget: 2');
    const { freesAt } = await budgetOf(room);
    // Lines 2-501 hold the first 500 addresses (line 1 is the header).
    expect(text).toContain(
      `This newsroom may ask at most 500 addresses to confirm in 24 hours. Rows 502–503 were not asked: invite them again from ${formatDateTime('en', freesAt, 'Europe/Helsinki')}.`,
    );
    expect(res.text).toMatch(/<div class="warning" role="alert"><p>This newsroom may ask at most 500/);
    const invited = await invitationsOf(room);
    expect(invited).toHaveLength(500);
    expect(invited).not.toContain(emails[500]!.toLowerCase());
    expect(await budgetOf(room)).toEqual({ perDay: 500, isDefault: true, used: 500, left: 0, freesAt });

    // Another upload that day, in Finnish: refused for the budget, said in Finnish.
    await staff.get('/admin/subscribers?lang=fi');
    expect(visibleText((await staff.get('/admin/subscribers')).text)).toContain(
      say('fi', 'admin.subscribers.import.budgetSpent', { perDay: '500', time: formatDateTime('fi', freesAt, 'Europe/Helsinki') }),
    );
    const finnish = await staff.inviteFromCsv(csvOf([address('later')]));
    expect(finnish.status).toBe(200);
    expect(visibleText(finnish.text)).toContain(
      say('fi', 'admin.subscribers.import.overBudgetNotice', { perDay: '500', lines: '2', time: formatDateTime('fi', freesAt, 'Europe/Helsinki') }),
    );
    expect(await invitationsOf(room)).toHaveLength(500);

    // A day later the budget is free again: the rows left over can be invited.
    t.clock.advance(DAY_MS + 1000);
    const nextDay = await (await signedIn(room)).inviteFromCsv(csvOf(emails.slice(500)));
    expect(nextDay.status).toBe(200);
    expect(visibleText(nextDay.text)).toContain('Invited (a confirmation request is on its way): 2');
    expect(visibleText(nextDay.text)).toContain('This newsroom may still invite 498 addresses in the next 24 hours (at most 500 in 24 hours).');
    expect(await invitationsOf(room)).toHaveLength(502);
  }, 60_000);

  it('is the newsroom’s own when the admin sets one through the API; 0 turns invitations off; null goes back to the default', async () => {
    const room = await buildNewsroom(t);
    const other = await buildNewsroom(t);
    await t.http.get(`/api/newsrooms/${room.slug}/invitation-budget`).expect(401);
    await t.http.get(`/api/newsrooms/${room.slug}/invitation-budget`).set(other.auth).expect(403);
    await t.http.put(`/api/newsrooms/${room.slug}/invitation-budget`).set(room.auth).send({ perDay: 100_000 }).expect(403);
    for (const bad of [-1, 1.5, '3', 100_001, undefined]) {
      const refused = await setBudget(room, bad).expect(422);
      expect(refused.body.errors[0].path).toBe('perDay');
    }

    expect((await setBudget(room, 3).expect(200)).body).toEqual({ perDay: 3, isDefault: false, used: 0, left: 3, freesAt: null });
    const staff = await signedIn(room);
    const emails = Array.from({ length: 5 }, () => address('own'));
    const res = await staff.inviteFromCsv(csvOf(emails));
    expect(res.status).toBe(200);
    expect(visibleText(res.text)).toContain('Invited (a confirmation request is on its way): 3');
    expect(visibleText(res.text)).toContain('Rows 5–6 were not asked');
    // Other newsrooms keep theirs.
    expect((await budgetOf(other)).perDay).toBe(500);
    expect((await (await signedIn(other)).inviteFromCsv(csvOf([address('elsewhere')]))).status).toBe(200);

    await setBudget(room, 0).expect(200);
    expect(visibleText((await staff.get('/admin/subscribers')).text)).toContain('The service admin has turned invitations off for this newsroom.');
    const off = await staff.inviteFromCsv(csvOf([address('off')]));
    expect(off.status).toBe(200);
    expect(visibleText(off.text)).toContain('The service admin has turned invitations off for this newsroom. Rows 2 were not asked.');

    expect((await setBudget(room, null).expect(200)).body).toMatchObject({ perDay: 500, isDefault: true, used: 3, left: 497 });
  });

  it('is spent once when two uploads of the newsroom run at once', async () => {
    const room = await buildNewsroom(t);
    await setBudget(room, 30).expect(200);
    const [a, b] = await Promise.all([signedIn(room), signedIn(room)]);
    const results = await Promise.all([
      a.inviteFromCsv(csvOf(Array.from({ length: 25 }, () => address('first')))),
      b.inviteFromCsv(csvOf(Array.from({ length: 25 }, () => address('second')))),
    ]);
    const invited = results.map((r) => Number(/Invited \(a confirmation request is on its way\): (\d+)/.exec(visibleText(r.text))![1]));
    expect(invited[0]! + invited[1]!).toBe(30);
    expect(await invitationsOf(room)).toHaveLength(30);
    // One of them was refused part of its rows: its page says so.
    expect(results.filter((r) => /Not asked, over the invitation budget: [1-9]/.test(visibleText(r.text)))).toHaveLength(1);
  });
});

describe('the invitation window of an address', () => {
  it('asks no address twice in 24 hours, whichever newsroom asks, even after its subscriber row is removed', async () => {
    const [first, second, third] = [await buildNewsroom(t), await buildNewsroom(t), await buildNewsroom(t)];
    const shared = address('shared');
    const formAsked = address('form');
    expect(visibleText((await (await signedIn(first)).inviteFromCsv(csvOf([shared]))).text)).toContain('Invited (a confirmation request is on its way): 1');
    // Asked through a public form of a third newsroom.
    await t.http.post(`/api/newsrooms/${third.slug}/subscriptions`).send({ email: formAsked }).expect(202);

    const staff = await signedIn(second);
    const res = await staff.inviteFromCsv(csvOf([shared.toUpperCase(), formAsked]));
    expect(res.status).toBe(200);
    expect(visibleText(res.text)).toContain('Invited (a confirmation request is on its way): 0');
    expect(visibleText(res.text)).toContain('Skipped, asked to confirm in the last 24 hours: 2');
    expect(await invitationsOf(second)).toEqual([]);
    // Nothing is written for the newsroom that did not ask, and its budget is untouched.
    const secondId = await newsroomId(t.ctx.db, second.slug);
    expect(await t.ctx.db.selectFrom('subscribers').select('id').where('newsroom_id', '=', secondId).execute()).toEqual([]);
    expect((await budgetOf(second)).used).toBe(0);

    // Removing the subscriber does not make the address new again, nor give the budget back.
    const firstId = await newsroomId(t.ctx.db, first.slug);
    const row = await t.ctx.db.selectFrom('subscribers').select('id').where('newsroom_id', '=', firstId).executeTakeFirstOrThrow();
    await t.http.delete(`/api/newsrooms/${first.slug}/subscribers/${row.id}`).set(first.auth).expect(204);
    const again = await (await signedIn(first)).inviteFromCsv(csvOf([shared]));
    expect(visibleText(again.text)).toContain('Skipped, asked to confirm in the last 24 hours: 1');
    expect((await budgetOf(first)).used).toBe(1);
    // The window holds a keyed hash of the address, never the address.
    const windowRows = await t.ctx.db.selectFrom('invited_addresses').selectAll().execute();
    expect(JSON.stringify(windowRows)).not.toContain(shared.split('@')[0]!.toLowerCase());

    // A day later the other newsroom may ask, and the sweep forgets the old windows.
    t.clock.advance(DAY_MS + 1000);
    await sweepConfirmations(t.ctx);
    const sweptHashes = await t.ctx.db.selectFrom('invited_addresses').select('asked_at').execute();
    expect(sweptHashes.every((r) => Date.parse(String(r.asked_at)) > t.clock.now().getTime() - DAY_MS)).toBe(true);
    const later = await (await signedIn(second)).inviteFromCsv(csvOf([shared, formAsked]));
    expect(visibleText(later.text)).toContain('Invited (a confirmation request is on its way): 2');
    expect((await invitationsOf(second)).sort()).toEqual([formAsked, shared].map((e) => e.toLowerCase()).sort());
  });
});
