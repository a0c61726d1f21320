import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { parse as parseCsv } from 'csv-parse/sync';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { t as say } from '../src/lib/i18n.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { subscriberLinks } from '../src/subscriptions/links.js';
import { startSubscriptionMailWorker, sweepConfirmations } from '../src/subscriptions/mail.js';
import { findNewsroomBySlug } from '../src/newsrooms/repository.js';
import { inviteSubscribers, PER_IP_PER_HOUR } from '../src/subscriptions/operations.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, type NewsroomFixture } from './support/factories.js';

/*
 * Subscriptions end to end: the real app, real Redis (BullMQ), a real SMTP server in this
 * process, and the database of the project (SQLite or PostgreSQL).
 */

const PUBLIC_URL = 'https://news.example.test';

let t: TestApp;
let newsroom: NewsroomFixture;
let other: NewsroomFixture;
let worker: RunningWorker | undefined;
let smtp: SMTPServer;
const inbox: ParsedMail[] = [];

const flakyTried = new Set<string>();
function refusalFor(recipient: string): { code: number; text: string } | undefined {
  if (recipient.startsWith('refused.')) return { code: 550, text: 'No such mailbox' };
  if (recipient.startsWith('flaky.') && !flakyTried.has(recipient)) {
    flakyTried.add(recipient);
    return { code: 451, text: 'Try again later' };
  }
  return undefined;
}

let counter = 0;
const address = (label: string) => `${label}.${Date.now().toString(36)}.${++counter}@example.net`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const mailTo = (email: string) => inbox.filter((m) => m.to && !Array.isArray(m.to) && m.to.value[0]?.address === email);

async function waitForMail(email: string, count = 1, timeoutMs = 10_000): Promise<ParsedMail[]> {
  const end = Date.now() + timeoutMs;
  while (mailTo(email).length < count && Date.now() < end) await sleep(50);
  const found = mailTo(email);
  if (found.length < count) throw new Error(`expected ${count} email(s) to ${email}, got ${found.length}`);
  return found;
}

/** The first link under PUBLIC_URL in the plain-text part, as API.md defines the confirmation URL. */
const firstPublicLink = (mail: ParsedMail) => {
  const link = (mail.text ?? '').match(/https?:\/\/\S+/g)?.find((url) => url.startsWith(`${PUBLIC_URL}/`));
  if (!link) throw new Error('no link under PUBLIC_URL in the text part');
  return link;
};
const pathOf = (url: string) => url.slice(PUBLIC_URL.length);

const subscriberRow = (slug: string, email: string) =>
  t.ctx.db
    .selectFrom('subscribers')
    .innerJoin('newsrooms', 'newsrooms.id', 'subscribers.newsroom_id')
    .selectAll('subscribers')
    .where('newsrooms.slug', '=', slug)
    .where('subscribers.email_key', '=', email.toLowerCase())
    .executeTakeFirst();

const subscribe = (email: string, languages = ['sv'], keywords: string[] = [], fixture = newsroom) =>
  t.http.post(`/api/newsrooms/${fixture.slug}/subscriptions`).send({ email, languages, keywords });

/** Subscribes and confirms through the emailed link; returns the confirmed row. */
async function subscribeConfirmed(email: string, languages = ['sv'], keywords: string[] = []) {
  await subscribe(email, languages, keywords).expect(202);
  const [mail] = await waitForMail(email);
  await t.http.post(pathOf(firstPublicLink(mail!))).expect(200);
  return (await subscriberRow(newsroom.slug, email))!;
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // `refused.*` addresses are refused for good; `flaky.*` ones once, then taken.
    onRcptTo(recipient, _session, callback) {
      const refusal = refusalFor(recipient.address);
      if (refusal) callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
      else callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          inbox.push(mail);
          callback();
        },
        (err) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${port}`, PUBLIC_URL });
  newsroom = await buildNewsroom(t);
  other = await buildNewsroom(t, { languages: ['en'], name: { en: 'Other Town' }, boilerplate: {} });
  worker = await startSubscriptionMailWorker(t.ctx);
});

afterAll(async () => {
  await worker?.close();
  await t?.ctx.subscriptionMail.queue.obliterate({ force: true }).catch(() => undefined);
  await t?.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

// Every request of this file comes from one IP: each test starts in a fresh hour of the per-IP limit.
beforeEach(() => t.clock.advance(3_600_000 + 1000));

describe('subscribing (double opt-in)', () => {
  it('records consent from a staff invitation as such once the address confirms', async () => {
    const email = address('invited');
    const room = (await findNewsroomBySlug(t.ctx.db, newsroom.slug))!;
    expect(await inviteSubscribers(t.ctx, room, [{ line: 2, email, languages: ['fi'], keywords: [] }])).toMatchObject({ invited: 1 });
    const [mail] = await waitForMail(email);
    // Worded as the newsroom's invitation, not as someone having asked.
    const name = 'Länsi-Esimerkin kaupunki';
    expect(mail!.subject).toBe(say('fi', 'subscriptions.invitationEmail.subject', { newsroom: name }));
    for (const part of [mail!.text!, mail!.html as string]) {
      expect(part).toContain(say('fi', 'subscriptions.invitationEmail.body', { newsroom: name, email }));
      expect(part).not.toContain(say('fi', 'subscriptions.email.body', { newsroom: name, email }));
    }
    expect(mail!.html).toContain(say('fi', 'subscriptions.invitationEmail.button'));
    expect((await subscriberRow(newsroom.slug, email))!.status).toBe('pending');
    await t.http.post(pathOf(firstPublicLink(mail!))).expect(200);
    expect(await subscriberRow(newsroom.slug, email)).toMatchObject({ status: 'confirmed', consent_source: 'invitation' });
  });

  it('sends a confirmation email in the chosen language; GET shows a button, POST confirms once and records consent', async () => {
    const email = address('anna');
    const res = await subscribe(email, ['sv', 'fi'], ['Bibliotek', 'kultur']).expect(202);
    expect(res.body).toEqual({ status: 'accepted', detail: expect.any(String) });

    const [mail] = await waitForMail(email);
    expect(mail!.subject).toBe(say('sv', 'subscriptions.email.subject', { newsroom: 'Västra Exempel stad' }));
    expect(mail!.from?.value[0]).toEqual({ name: 'Västra Exempel stad', address: 'newsroom@localhost' });
    expect(mail!.text).toContain('Bekräfta prenumerationen');
    expect(mail!.html).toContain('Bekräfta prenumerationen');
    const link = firstPublicLink(mail!);
    expect(link).toMatch(new RegExp(`^${PUBLIC_URL}/subscriptions/confirm/[A-Za-z0-9_-]{43}$`));
    expect(mail!.html).toContain(`href="${link}"`);

    // The token is stored only as a hash.
    const token = link.split('/').pop()!;
    const stored = await t.ctx.db.selectFrom('subscription_confirmations').selectAll().execute();
    expect(stored.some((row) => row.token_hash?.includes(token) || JSON.stringify(row).includes(token))).toBe(false);

    // A scanner's GET changes nothing.
    const page = await t.http.get(pathOf(link)).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text).toContain('<html lang="sv">');
    expect(page.text).toContain(`<form method="post" action="${link}">`);
    expect(page.text).not.toMatch(/<script/i);
    const consentText = say('sv', 'subscriptions.consentText', { newsroom: 'Västra Exempel stad' });
    expect(page.text).toContain(consentText);
    expect((await subscriberRow(newsroom.slug, email))!.status).toBe('pending');

    const confirmed = await t.http.post(pathOf(link)).set('User-Agent', 'MailClient/1.0').expect(200);
    expect(confirmed.text).toContain(say('sv', 'subscriptions.confirmed.title'));
    const row = (await subscriberRow(newsroom.slug, email))!;
    expect(row).toMatchObject({
      status: 'confirmed',
      languages: JSON.stringify(['sv', 'fi']),
      keywords: JSON.stringify(['Bibliotek', 'kultur']),
      consent_user_agent: 'MailClient/1.0',
      consent_text: consentText,
      consent_source: 'form',
    });
    expect(row.consent_ip).toMatch(/127\.0\.0\.1|::1/);
    expect(Date.parse(row.consent_at!)).toBeGreaterThan(0);
    const keywords = await t.ctx.db.selectFrom('subscriber_keywords').select('keyword_key').where('subscriber_id', '=', row.id).orderBy('keyword_key').execute();
    expect(keywords.map((k) => k.keyword_key)).toEqual(['bibliotek', 'kultur']);

    // Single use.
    const again = await t.http.post(pathOf(link)).expect(410);
    expect(again.text).toContain(say('sv', 'subscriptions.expired.title'));
    await t.http.get(pathOf(link)).expect(410);
    await t.http.get('/subscriptions/confirm/not-a-token').expect(404);
  });

  it('answers the same for known and unknown addresses', async () => {
    const known = address('known');
    await subscribeConfirmed(known);
    t.clock.advance(10 * 60_000);
    const a = await subscribe(known).expect(202);
    const b = await subscribe(address('unknown')).expect(202);
    expect(a.body).toEqual(b.body);
    expect(Object.keys(a.headers).sort()).toEqual(Object.keys(b.headers).sort());
    // A known, confirmed address stays as it is until the new link is confirmed.
    expect((await subscriberRow(newsroom.slug, known))!.status).toBe('confirmed');
  });

  it('validates the request (422) and defaults the language to the newsroom first', async () => {
    const bad = await subscribe(address('x'), ['de']).expect(422);
    expect(bad.body.errors).toEqual([{ path: 'languages.0', message: expect.stringContaining('"de"') }]);
    const notEmail = await subscribe('not-an-address').expect(422);
    expect(notEmail.body.errors[0].path).toBe('email');
    await t.http.post('/api/newsrooms/no-such-newsroom/subscriptions').send({ email: address('x') }).expect(404);

    const email = address('default');
    await t.http.post(`/api/newsrooms/${newsroom.slug}/subscriptions`).send({ email }).expect(202);
    const [mail] = await waitForMail(email);
    expect(mail!.subject).toBe(say('fi', 'subscriptions.email.subject', { newsroom: 'Länsi-Esimerkin kaupunki' }));
  });

  it('sends at most one confirmation email per address per 5 minutes, and a bounded number per IP per hour', async () => {
    const email = address('limited');
    await subscribe(email).expect(202);
    await subscribe(email).expect(202);
    await waitForMail(email);
    await sleep(1000);
    expect(mailTo(email)).toHaveLength(1);

    t.clock.advance(5 * 60_000 + 1000);
    await subscribe(email).expect(202);
    await waitForMail(email, 2);

    // One IP, many addresses: the first PER_IP_PER_HOUR are mailed, the rest only answered.
    t.clock.advance(3_600_000 + 1000);
    const many = Array.from({ length: PER_IP_PER_HOUR + 2 }, (_, i) => address(`bulk${i}`));
    for (const each of many) await subscribe(each).expect(202);
    for (const each of many.slice(0, PER_IP_PER_HOUR)) await waitForMail(each);
    await sleep(1000);
    for (const each of many.slice(PER_IP_PER_HOUR)) expect(mailTo(each)).toHaveLength(0);
  });

  it('does for an address asked a moment ago what it does for any other (one queue call), and still sends one email', async () => {
    // The time an answer takes must not tell that someone just subscribed the address.
    const email = address('timing');
    const addBulk = jest.spyOn(t.ctx.subscriptionMail, 'addBulk');
    let queued: string[][];
    try {
      await subscribe(email).expect(202);
      await waitForMail(email); // sent: its job is done and gone
      await subscribe(email).expect(202);
      await subscribe(email).expect(202);
    } finally {
      queued = addBulk.mock.calls.map(([jobs]) => jobs.map((job) => job.opts?.jobId ?? ''));
      addBulk.mockRestore();
    }
    const subscriber = (await subscriberRow(newsroom.slug, email))!;
    const confirmations = await t.ctx.db.selectFrom('subscription_confirmations').select('id').where('subscriber_id', '=', subscriber.id).execute();
    expect(confirmations).toHaveLength(1);
    const jobId = `confirm-${confirmations[0]!.id}`;
    expect(queued.filter((ids) => ids.includes(jobId))).toEqual([[jobId], [jobId], [jobId]]);
    await sleep(1000);
    expect(mailTo(email)).toHaveLength(1);
  });

  it('expires confirmation links after 7 days', async () => {
    const email = address('late');
    await subscribe(email).expect(202);
    const [mail] = await waitForMail(email);
    t.clock.advance(7 * 24 * 3_600_000 + 60_000);
    const page = await t.http.get(pathOf(firstPublicLink(mail!))).expect(410);
    expect(page.text).toContain(say('sv', 'subscriptions.expired.body'));
    await t.http.post(pathOf(firstPublicLink(mail!))).expect(410);
    expect((await subscriberRow(newsroom.slug, email))!.status).toBe('pending');
  });

  it('takes a plain HTML form and answers with a page in the chosen language', async () => {
    const email = address('form');
    const res = await t.http
      .post(`/api/newsrooms/${newsroom.slug}/subscriptions`)
      .type('form')
      .send(`email=${encodeURIComponent(email)}&languages=fi&languages=sv&keywords=${encodeURIComponent('Kirjasto, sää')}`)
      .expect(303);
    // "Check your email" is a page of the site (a reload posts nothing again), naming no address.
    expect(res.headers.location).toBe(`https://news.example.test/${newsroom.slug}/fi/subscription-requested`);
    const shown = await t.http.get(`/${newsroom.slug}/fi/subscription-requested`).expect(200);
    expect(shown.headers['content-type']).toMatch(/^text\/html/);
    expect(shown.text).toContain('<html lang="fi">');
    expect(shown.text).toContain(say('fi', 'subscriptions.requested.title'));
    expect(shown.text).not.toContain(email);
    expect(shown.headers['content-security-policy']).toContain("default-src 'none'");
    await t.http.get(`/${newsroom.slug}/xx/subscription-requested`).expect(404);
    const [mail] = await waitForMail(email);
    expect(mail!.subject).toBe(say('fi', 'subscriptions.email.subject', { newsroom: 'Länsi-Esimerkin kaupunki' }));
    await t.http.post(pathOf(firstPublicLink(mail!))).expect(200);
    expect(await subscriberRow(newsroom.slug, email)).toMatchObject({
      status: 'confirmed',
      languages: '["fi","sv"]',
      keywords: '["Kirjasto","sää"]',
    });

    const bad = await t.http.post(`/api/newsrooms/${newsroom.slug}/subscriptions`).type('form').send('email=nope&languages=sv').expect(422);
    expect(bad.text).toContain(say('sv', 'subscriptions.invalid.title'));
    await t.http
      .post(`/api/newsrooms/${newsroom.slug}/subscriptions`)
      .type('form')
      .send(`email=${'a'.repeat(20_000)}`)
      .expect(413);
  });

  it('retries a temporary SMTP refusal (451) and sends once; a permanent one (550) is recorded and never retried', async () => {
    const flaky = address('flaky');
    await subscribe(flaky).expect(202);
    await waitForMail(flaky, 1, 15_000);
    expect(flakyTried.has(flaky)).toBe(true);

    const refused = address('refused');
    await subscribe(refused).expect(202);
    const row = (await subscriberRow(newsroom.slug, refused))!;
    const failed = async () =>
      t.ctx.db.selectFrom('subscription_confirmations').selectAll().where('subscriber_id', '=', row.id).executeTakeFirstOrThrow();
    const end = Date.now() + 10_000;
    while (!(await failed()).failed_at && Date.now() < end) await sleep(50);
    expect(await failed()).toMatchObject({ failed_at: expect.any(String), failure: expect.stringContaining('550'), token_hash: null, sent_at: null });
    // The sweep leaves it be.
    expect(await sweepConfirmations(t.ctx)).toBe(0);
    await sleep(500);
    expect(mailTo(flaky)).toHaveLength(1);
    expect(mailTo(refused)).toHaveLength(0);
  }, 30_000);

  it('re-queues confirmation emails that Redis lost (the database is the truth)', async () => {
    await worker!.close();
    worker = undefined;
    const email = address('lost');
    await subscribe(email).expect(202);
    const row = (await subscriberRow(newsroom.slug, email))!;
    const recorded = await t.ctx.db.selectFrom('subscription_confirmations').select('id').where('subscriber_id', '=', row.id).executeTakeFirstOrThrow();
    expect(await t.ctx.subscriptionMail.queue.getJob(`confirm-${recorded.id}`)).toBeDefined();
    await t.ctx.subscriptionMail.queue.obliterate({ force: true });
    expect(await t.ctx.subscriptionMail.queue.getJob(`confirm-${recorded.id}`)).toBeUndefined();
    worker = await startSubscriptionMailWorker(t.ctx);
    await waitForMail(email);
  });
});

describe('preferences and unsubscribing (signed links)', () => {
  it('one-click unsubscribes with a POST; the address stays suppressed until a new opt-in is confirmed', async () => {
    const email = address('leaver');
    const row = await subscribeConfirmed(email);
    const links = subscriberLinks(t.ctx, row.id);
    expect(links.unsubscribe.startsWith(`${PUBLIC_URL}/unsubscribe/${row.id}.`)).toBe(true);

    // A forged signature is nobody.
    await t.http.get(`/unsubscribe/${row.id}.AAAA`).expect(404);
    await t.http.post(`/unsubscribe/${row.id}.AAAA`).type('form').send('List-Unsubscribe=One-Click').expect(404);

    const page = await t.http.get(pathOf(links.unsubscribe)).expect(200);
    expect(page.text).toContain(`<form method="post" action="${links.unsubscribe}">`);
    expect((await subscriberRow(newsroom.slug, email))!.status).toBe('confirmed');

    await t.http.post(pathOf(links.unsubscribe)).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect((await subscriberRow(newsroom.slug, email))!.status).toBe('unsubscribed');

    t.clock.advance(10 * 60_000);
    await subscribe(email).expect(202);
    const mails = await waitForMail(email, 2);
    expect((await subscriberRow(newsroom.slug, email))!.status).toBe('unsubscribed');
    await t.http.post(pathOf(firstPublicLink(mails[1]!))).expect(200);
    expect((await subscriberRow(newsroom.slug, email))!.status).toBe('confirmed');
  });

  it('changes languages and keywords on the preferences page', async () => {
    const email = address('prefs');
    const row = await subscribeConfirmed(email, ['sv'], ['bibliotek']);
    const { preferences } = subscriberLinks(t.ctx, row.id);
    const page = await t.http.get(pathOf(preferences)).expect(200);
    expect(page.text).toContain('<html lang="sv">');
    expect(page.text).toContain('name="languages" value="sv" checked');
    expect(page.text).toContain('value="bibliotek"');

    const saved = await t.http.post(pathOf(preferences)).type('form').send('languages=fi&languages=sv&keywords=Sää,%20Kirjasto').expect(200);
    expect(saved.text).toContain(say('fi', 'subscriptions.preferences.saved'));
    const after = (await subscriberRow(newsroom.slug, email))!;
    expect(after).toMatchObject({ languages: '["fi","sv"]', keywords: '["Sää","Kirjasto"]', status: 'confirmed' });
    const keys = await t.ctx.db.selectFrom('subscriber_keywords').select('keyword_key').where('subscriber_id', '=', row.id).orderBy('keyword_key').execute();
    expect(keys.map((k) => k.keyword_key)).toEqual(['kirjasto', 'sää']);

    const none = await t.http.post(pathOf(preferences)).type('form').send('keywords=x').expect(422);
    expect(none.text).toContain(say('fi', 'subscriptions.preferences.needLanguage'));
    const foreign = await t.http.post(pathOf(preferences)).type('form').send('languages=de').expect(422);
    expect(foreign.text).toContain(say('fi', 'subscriptions.preferences.invalid'));
    expect((await subscriberRow(newsroom.slug, email))!.languages).toBe('["fi","sv"]');
  });
});

describe('import (admin token)', () => {
  const importUrl = () => `/api/newsrooms/${newsroom.slug}/subscribers/import`;
  const consent = { source: 'old CRM export', collectedAt: '2025-05-01T10:00:00+03:00' };

  it('imports confirmed subscribers with the consent source, rejects bad entries, keeps unsubscribed ones, sends nothing', async () => {
    const leaver = address('imp-leaver');
    const leaverRow = await subscribeConfirmed(leaver);
    await t.http.post(pathOf(subscriberLinks(t.ctx, leaverRow.id).unsubscribe)).type('form').send('List-Unsubscribe=One-Click').expect(200);
    t.clock.advance(10 * 60_000);
    const pending = address('imp-pending');
    await subscribe(pending).expect(202);
    await waitForMail(pending);
    const mailsBefore = inbox.length;

    const fresh = address('imp-new');
    const res = await t.http
      .post(importUrl())
      .set(t.admin)
      .send({
        consent,
        subscribers: [
          { email: fresh, languages: ['fi'], keywords: ['Kirjasto'] },
          { email: 'broken' },
          { email: address('imp-de'), languages: ['de'] },
          { email: fresh.toUpperCase() },
          { email: leaver },
          { email: pending, languages: ['sv', 'fi'] },
          'not an object',
        ],
      })
      .expect(200);
    expect(res.body).toEqual({
      imported: 1,
      updated: 1,
      rejected: [
        { index: 1, reason: expect.stringContaining('email') },
        { index: 2, reason: expect.stringContaining('"de"') },
        { index: 3, reason: expect.stringContaining('entry 0') },
        { index: 4, reason: expect.stringContaining('unsubscribed') },
        { index: 6, reason: expect.any(String) },
      ],
    });
    expect(await subscriberRow(newsroom.slug, fresh)).toMatchObject({
      status: 'confirmed',
      consent_source: 'old CRM export',
      consent_at: '2025-05-01T07:00:00.000Z',
      languages: '["fi"]',
    });
    expect(await subscriberRow(newsroom.slug, pending)).toMatchObject({ status: 'confirmed', consent_source: 'old CRM export', languages: '["sv","fi"]' });
    expect((await subscriberRow(newsroom.slug, leaver))!.status).toBe('unsubscribed');
    await sleep(1000);
    expect(inbox.length).toBe(mailsBefore);

    await t.http.post(importUrl()).set(newsroom.auth).send({ consent, subscribers: [] }).expect(403);
    await t.http.post(importUrl()).send({ consent, subscribers: [] }).expect(401);
  });

  it('takes 10,000 in one request and refuses more', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ email: `bulk-${i}@import.example`, languages: [i % 2 ? 'fi' : 'sv'] }));
    const res = await t.http.post(importUrl()).set(t.admin).send({ consent, subscribers: many }).expect(200);
    expect(res.body).toEqual({ imported: 10_000, updated: 0, rejected: [] });
    const again = await t.http.post(importUrl()).set(t.admin).send({ consent, subscribers: many.slice(0, 10) }).expect(200);
    expect(again.body).toEqual({ imported: 0, updated: 10, rejected: [] });

    const tooMany = await t.http
      .post(importUrl())
      .set(t.admin)
      .send({ consent, subscribers: [...many, { email: 'one-more@import.example' }] })
      .expect(422);
    expect(tooMany.body.errors[0].path).toBe('subscribers');
  }, 60_000);
});

describe('staff side', () => {
  it('lists with counts, filters, pages, deletes and exports CSV; another newsroom gets 403', async () => {
    const base = `/api/newsrooms/${other.slug}/subscribers`;
    const consent = { source: 'fair', collectedAt: '2025-01-01T00:00:00Z' };
    await t.http
      .post(`${base}/import`)
      .set(t.admin)
      .send({
        consent,
        subscribers: [
          { email: 'alice@staff.example', keywords: ['=HYPERLINK("x")'] },
          { email: 'bob@staff.example' },
          { email: 'carol@staff.example' },
        ],
      })
      .expect(200);
    const token = await t.http.post(`/api/newsrooms/${other.slug}/tokens`).set(t.admin).send({ name: 'desk' }).expect(201);
    const auth = { Authorization: `Bearer ${token.body.token}` };

    const list = await t.http.get(base).set(auth).expect(200);
    expect(list.body).toMatchObject({ total: 3, limit: 50, offset: 0, counts: { status: { pending: 0, confirmed: 3, unsubscribed: 0 }, language: { en: 3 } } });
    expect(list.body.items[0]).toMatchObject({ newsroom: other.slug, status: 'confirmed', languages: ['en'], consent: { source: 'fair' } });

    const bob = list.body.items.find((s: { email: string }) => s.email === 'bob@staff.example');
    await t.http.post(pathOf(subscriberLinks(t.ctx, bob.id).unsubscribe)).send('List-Unsubscribe=One-Click').type('form').expect(200);
    const unsub = await t.http.get(`${base}?status=unsubscribed`).set(auth).expect(200);
    expect(unsub.body.items.map((s: { email: string }) => s.email)).toEqual(['bob@staff.example']);
    expect(unsub.body.counts.status).toEqual({ pending: 0, confirmed: 2, unsubscribed: 1 });
    const search = await t.http.get(`${base}?q=CAROL`).set(auth).expect(200);
    expect(search.body.items.map((s: { email: string }) => s.email)).toEqual(['carol@staff.example']);
    const wildcard = await t.http.get(`${base}?q=%25`).set(auth).expect(200);
    expect(wildcard.body.total).toBe(0);
    const paged = await t.http.get(`${base}?limit=2&offset=2`).set(auth).expect(200);
    expect(paged.body.items).toHaveLength(1);
    expect(paged.body.total).toBe(3);
    await t.http.get(`${base}?limit=0`).set(auth).expect(400);

    const csv = await t.http.get(`${base}/export`).set(auth).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const records = parseCsv(csv.text, { columns: true }) as Record<string, string>[];
    expect(records.map((r) => r.email).sort()).toEqual(['alice@staff.example', 'bob@staff.example', 'carol@staff.example']);
    expect(records.find((r) => r.email === 'alice@staff.example')!.keywords).toBe(`'=HYPERLINK("x")`);
    expect(records.find((r) => r.email === 'bob@staff.example')!.status).toBe('unsubscribed');

    // The first newsroom's token sees nothing of this one.
    await t.http.get(base).set(newsroom.auth).expect(403);
    await t.http.get(`${base}/export`).set(newsroom.auth).expect(403);
    await t.http.delete(`${base}/${bob.id}`).set(newsroom.auth).expect(403);
    // Reached through another newsroom's path, the subscriber does not exist there.
    await t.http.delete(`/api/newsrooms/${newsroom.slug}/subscribers/${bob.id}`).set(newsroom.auth).expect(404);
    await t.http.get(base).expect(401);

    await t.http.delete(`${base}/${bob.id}`).set(auth).expect(204);
    await t.http.delete(`${base}/${bob.id}`).set(auth).expect(404);
    expect((await t.http.get(base).set(auth).expect(200)).body.total).toBe(2);
  });
});

describe('data-subject requests (admin token)', () => {
  it('exports everything held about an address in every newsroom, then erases it', async () => {
    const email = address('gdpr');
    await subscribeConfirmed(email, ['fi']);
    // The same person is also one of the other newsroom's accredited journalists.
    await t.http.post(`/api/newsrooms/${other.slug}/journalists`).set(other.auth)
      .send({ name: 'Gia Dpr', outlet: 'Tietoviikko', email: email.toUpperCase(), note: 'Covers data protection' }).expect(201);
    await t.http
      .post(`/api/newsrooms/${other.slug}/subscribers/import`)
      .set(t.admin)
      .send({ consent: { source: 'fair', collectedAt: '2025-01-01T00:00:00Z' }, subscribers: [{ email: email.toUpperCase() }] })
      .expect(200);

    await t.http.post('/api/subscribers/data-export').set(newsroom.auth).send({ email }).expect(403);
    const held = await t.http.post('/api/subscribers/data-export').set(t.admin).send({ email }).expect(200);
    expect(held.body.email).toBe(email);
    expect(held.body.subscriptions.map((s: { newsroom: string }) => s.newsroom).sort()).toEqual([newsroom.slug, other.slug].sort());
    const mine = held.body.subscriptions.find((s: { newsroom: string }) => s.newsroom === newsroom.slug);
    expect(mine).toMatchObject({ status: 'confirmed', languages: ['fi'], consent: { source: 'form' } });
    expect(mine.confirmationRequests).toEqual([expect.objectContaining({ sentAt: expect.any(String), usedAt: expect.any(String), languages: ['fi'] })]);
    expect(mine.deliveries).toEqual([]);
    expect(held.body.journalists).toEqual([
      expect.objectContaining({ newsroom: other.slug, name: 'Gia Dpr', outlet: 'Tietoviikko', note: 'Covers data protection', advanceLinks: [] }),
    ]);

    await t.http.post('/api/subscribers/erasure').set(newsroom.auth).send({ email }).expect(403);
    const erased = await t.http.post('/api/subscribers/erasure').set(t.admin).send({ email }).expect(200);
    expect(erased.body).toEqual({ erased: 2, erasedJournalists: 1 });
    expect((await t.http.get(`/api/newsrooms/${other.slug}/journalists`).set(other.auth).expect(200)).body).toEqual([]);
    expect(await subscriberRow(newsroom.slug, email)).toBeUndefined();
    expect(await subscriberRow(other.slug, email)).toBeUndefined();
    const after = await t.http.post('/api/subscribers/data-export').set(t.admin).send({ email }).expect(200);
    expect(after.body.subscriptions).toEqual([]);
    expect(after.body.journalists).toEqual([]);
    // Nothing of it stays in the confirmation requests either.
    const left = await t.ctx.db.selectFrom('subscription_confirmations').select('id').where('subscriber_id', 'in', held.body.subscriptions.map((s: { id: string }) => s.id)).execute();
    expect(left).toEqual([]);
  });
});
