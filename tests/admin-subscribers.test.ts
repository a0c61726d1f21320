import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseCsv } from 'csv-parse/sync';
import { HtmlValidate } from 'html-validate';
import { formatDateTime, t as say } from '../src/lib/i18n.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, type NewsroomFixture } from './support/factories.js';
import { StaffClient, visibleText } from './support/staff.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';

/*
 * The subscribers view of the staff app: counts, search, removal, export, and invitations
 * from a CSV upload that only ever ask for consent (pending rows and confirmation emails
 * recorded and queued; the mail worker's sending is the subscription tests' part).
 */

let t: TestApp;
let newsroom: NewsroomFixture;
let other: NewsroomFixture;
let ownId: string;
let otherId: string;

let counter = 0;
const address = (label: string) => `${label}.${Date.now().toString(36)}.${++counter}@example.net`;

// Whitespace left by template blocks is no fault of the markup.
const validator = new HtmlValidate({ extends: ['html-validate:recommended'], rules: { 'no-trailing-whitespace': 'off' } });
async function expectValidHtml(html: string) {
  const report = await validator.validateString(html);
  expect(report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId} ${m.line}:${m.column} ${m.message}`))).toEqual([]);
}

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  other = await buildNewsroom(t, { languages: ['en'], name: { en: 'Other Town' }, boilerplate: {} });
  ownId = await newsroomId(t.ctx.db, newsroom.slug);
  otherId = await newsroomId(t.ctx.db, other.slug);
});

afterAll(async () => {
  await t?.ctx.subscriptionMail.queue.obliterate({ force: true }).catch(() => undefined);
  await t?.close();
});

const signedIn = async (fixture: NewsroomFixture = newsroom, lang = 'en') => {
  const staff = new StaffClient(t);
  await staff.signIn(fixture.token);
  await staff.get(`/admin/subscribers?lang=${lang}`);
  return staff;
};

/**
 * Uploads `csv` as the browser's form does (multipart, the CSRF token its first field)
 * and, as the browser does, follows the redirect (303) to the page showing the result.
 */
const upload = (staff: StaffClient, csv: string | Buffer, csrf?: string | null) => staff.inviteFromCsv(csv, csrf);

const rowOf = (newsroomKey: string, email: string) =>
  t.ctx.db.selectFrom('subscribers').selectAll().where('newsroom_id', '=', newsroomKey).where('email_key', '=', email.toLowerCase()).executeTakeFirst();

const confirmationsOf = (subscriberId: string) =>
  t.ctx.db.selectFrom('subscription_confirmations').selectAll().where('subscriber_id', '=', subscriberId).execute();

/** The rows of the page's subscriber table, as text. */
const tableRows = (html: string) =>
  [...(/<table class="subscribers[^"]*">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '').matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
    visibleText(m[1]!).trim(),
  );

describe('the subscribers page', () => {
  it('counts by status and language, searches and filters, with times in the newsroom zone', async () => {
    const tag = `count${Date.now().toString(36)}`;
    const [confirmedFi, , pending, , bounced] = await insertSubscribers(t.ctx.db, ownId, [
      { email: `${tag}-a@example.net`, languages: ['fi'] },
      { email: `${tag}-b@example.net`, languages: ['sv', 'fi'] },
      { email: `${tag}-c@example.net`, status: 'pending' },
      { email: `${tag}-d@example.net`, status: 'unsubscribed' },
      { email: `${tag}-e@example.net`, status: 'unsubscribed' },
    ]);
    await t.ctx.db.updateTable('subscribers').set({ hard_bounces: 2 }).where('id', '=', bounced!.id).execute();
    await insertSubscribers(t.ctx.db, otherId, [{ email: `${tag}-other@example.net`, languages: ['en'] }]);
    const staff = await signedIn();

    const page = await staff.get('/admin/subscribers');
    expect(page.status).toBe(200);
    await expectValidHtml(page.text);
    const api = (await t.http.get(`/api/newsrooms/${newsroom.slug}/subscribers`).set(newsroom.auth).expect(200)).body.counts;
    const text = visibleText(page.text);
    expect(text).toContain(`Confirmed ${api.status.confirmed}`);
    expect(text).toContain(`Awaiting confirmation ${api.status.pending}`);
    expect(text).toContain(`Unsubscribed ${api.status.unsubscribed}`);
    expect(text).toContain(`of which suppressed after bounced email 1`);
    expect(text).toContain(`Finnish ${api.language.fi}`);
    expect(text).toContain(`Swedish ${api.language.sv}`);
    expect(text).not.toContain(`${tag}-other`);

    const found = await staff.get(`/admin/subscribers?q=${tag}-`);
    expect(tableRows(found.text).map((r) => r.split(' ')[0]).sort()).toEqual(['a', 'b', 'c', 'd', 'e'].map((x) => `${tag}-${x}@example.net`));
    const row = await rowOf(ownId, confirmedFi!.email);
    expect(tableRows(found.text).find((r) => r.startsWith(confirmedFi!.email))).toContain(formatDateTime('en', row!.created_at, 'Europe/Helsinki'));

    const filtered = await staff.get(`/admin/subscribers?q=${tag.toUpperCase()}&status=pending`);
    expect(tableRows(filtered.text)).toHaveLength(1);
    expect(tableRows(filtered.text)[0]).toContain(pending!.email);
    expect(tableRows(filtered.text)[0]).toContain('Awaiting confirmation');
    expect(visibleText((await staff.get('/admin/subscribers?q=nobody-has-this')).text)).toContain('No subscribers to show.');
  });

  it('pages through a long list', async () => {
    const tag = `pages${Date.now().toString(36)}`;
    await insertSubscribers(t.ctx.db, ownId, Array.from({ length: 55 }, (_, i) => ({ email: `${tag}-${i}@example.net` })));
    const staff = await signedIn();
    const first = await staff.get(`/admin/subscribers?q=${tag}`);
    expect(tableRows(first.text)).toHaveLength(50);
    expect(visibleText(first.text)).toContain('Subscribers 1–50 of 55');
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text)![1]!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
    const second = await staff.get(`/admin/subscribers${next}`);
    expect(tableRows(second.text)).toHaveLength(5);
    expect(second.text).not.toContain('rel="next"');
  });

  it('is in the interface language', async () => {
    const staff = await signedIn(newsroom, 'fi');
    const page = await staff.get('/admin/subscribers');
    expect(page.text).toContain(say('fi', 'admin.subscribers.byStatus'));
    expect(page.text).toContain(say('fi', 'admin.subscribers.import.title'));
    expect(page.text).toContain('href="/admin/subscribers"');
  });
});

describe('removing a subscriber', () => {
  it('asks first (a page of its own), needs the CSRF token, then removes', async () => {
    const [gone] = await insertSubscribers(t.ctx.db, ownId, [{ email: address('remove') }]);
    const staff = await signedIn();
    const confirm = await staff.get(`/admin/subscribers/${gone!.id}/remove`);
    expect(confirm.status).toBe(200);
    expect(visibleText(confirm.text)).toContain(gone!.email);
    expect(confirm.text).toContain(`action="/admin/subscribers/${gone!.id}/remove"`);
    await expectValidHtml(confirm.text);

    expect((await staff.post(`/admin/subscribers/${gone!.id}/remove`, { _csrf: 'forged' })).status).toBe(403);
    expect((await staff.post(`/admin/subscribers/${gone!.id}/remove`, { _csrf: null })).status).toBe(403);
    expect(await rowOf(ownId, gone!.email)).toBeDefined();

    const res = await staff.post(`/admin/subscribers/${gone!.id}/remove`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/subscribers?removed=1');
    expect(await rowOf(ownId, gone!.email)).toBeUndefined();
    expect(visibleText((await staff.get(res.headers.location!)).text)).toContain('The subscriber was removed.');
    expect((await staff.post(`/admin/subscribers/${gone!.id}/remove`)).status).toBe(404);
  });
});

describe('the CSV export', () => {
  it('is the API’s export, as a download, of this newsroom only', async () => {
    const [own] = await insertSubscribers(t.ctx.db, ownId, [{ email: address('export-own'), languages: ['sv', 'fi'] }]);
    const [foreign] = await insertSubscribers(t.ctx.db, otherId, [{ email: address('export-other'), languages: ['en'] }]);
    const staff = await signedIn();
    const res = await staff.get('/admin/subscribers/export');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${newsroom.slug}-subscribers.csv"`);
    expect(res.headers['cache-control']).toBe('no-store');
    const viaApi = await t.http.get(`/api/newsrooms/${newsroom.slug}/subscribers/export`).set(newsroom.auth).expect(200);
    expect(res.text).toBe(viaApi.text);
    const rows = parseCsv(res.text, { columns: true }) as Record<string, string>[];
    expect(rows.find((r) => r.email === own!.email)?.languages).toBe('sv fi');
    expect(rows.some((r) => r.email === foreign!.email)).toBe(false);
  });
});

describe('inviting from a CSV file', () => {
  it('adds new addresses as pending and queues one confirmation email each; leaves confirmed and unsubscribed ones alone', async () => {
    const fresh = address('fresh');
    const bilingual = address('Bilingual');
    const [confirmed, unsubscribed, pending] = await insertSubscribers(t.ctx.db, ownId, [
      { email: address('confirmed'), languages: ['fi'] },
      { email: address('unsubscribed'), status: 'unsubscribed' },
      { email: address('pending'), status: 'pending' },
    ]);
    const csv = [
      'Email,Languages,Keywords',
      `${fresh},,`,
      `${bilingual},"sv;fi","bibliotek; kultur"`,
      `${confirmed!.email},sv,`,
      `${unsubscribed!.email},fi,`,
      `${pending!.email},fi,`,
      'not-an-address,fi,',
      `${address('dane')},da,`,
      `${fresh.toUpperCase()},fi,`,
      ',fi,',
      ',,',
      '',
    ].join('\r\n');
    const staff = await signedIn();
    // Redirected after the post (303) to the page with the result, shown once: a reload shows the page without it.
    const posted = await staff.upload('/admin/subscribers/import', { name: 'list.csv', content: Buffer.from(csv), type: 'text/csv' });
    expect([posted.status, posted.headers.location]).toEqual([303, '/admin/subscribers#import-result']);
    const res = await staff.get('/admin/subscribers');
    expect(res.status).toBe(200);
    expect(visibleText((await staff.get('/admin/subscribers')).text)).not.toContain('Invitation result');
    await expectValidHtml(res.text);
    const text = visibleText(res.text);
    expect(text).toContain('Invited (a confirmation request is on its way): 3');
    expect(text).toContain('Already subscribed: 1');
    expect(text).toContain('Skipped, unsubscribed or suppressed: 1');
    expect(text).toContain('Skipped, asked to confirm in the last 24 hours: 0');
    expect(text).toContain('Not asked, over the invitation budget: 0');
    expect(text).toContain('Rejected rows: 4');
    const rejected = [...res.text.matchAll(/<tr><td>(\d+)<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => [Number(m[1]), m[2]]);
    expect(rejected).toEqual([
      [7, 'not an email address: not-an-address'],
      [8, 'the newsroom has no language: da'],
      [9, 'the same address as row 2'],
      [10, 'no email address'],
    ]);

    const newRow = (await rowOf(ownId, fresh))!;
    expect(newRow.status).toBe('pending');
    expect(JSON.parse(newRow.languages)).toEqual(['fi']); // none given: the newsroom's first
    const bilingualRow = (await rowOf(ownId, bilingual))!;
    expect(bilingualRow.status).toBe('pending');
    expect(bilingualRow.email).toBe(bilingual);

    for (const row of [newRow, bilingualRow, (await rowOf(ownId, pending!.email))!]) {
      const confirmations = await confirmationsOf(row.id);
      expect(confirmations).toHaveLength(1);
      expect(await t.ctx.subscriptionMail.queue.getJob(`confirm-${confirmations[0]!.id}`)).toBeDefined();
    }
    // The wishes travel with the request and apply only when it is confirmed.
    const [request] = await confirmationsOf(bilingualRow.id);
    expect(request!.lang).toBe('sv');
    expect(JSON.parse(request!.languages)).toEqual(['sv', 'fi']);
    expect(JSON.parse(request!.keywords)).toEqual(['bibliotek', 'kultur']);

    for (const kept of [confirmed!, unsubscribed!]) {
      const row = (await rowOf(ownId, kept.email))!;
      expect(await confirmationsOf(row.id)).toEqual([]);
    }
    expect((await rowOf(ownId, confirmed!.email))!.status).toBe('confirmed');
    expect(JSON.parse((await rowOf(ownId, confirmed!.email))!.languages)).toEqual(['fi']);
    expect((await rowOf(ownId, unsubscribed!.email))!.status).toBe('unsubscribed');

    // The same file again: nobody is asked twice within the invitation window.
    const again = visibleText((await upload(staff, csv)).text);
    expect(again).toContain('Invited (a confirmation request is on its way): 0');
    expect(again).toContain('Skipped, asked to confirm in the last 24 hours: 3');
    expect(await confirmationsOf(newRow.id)).toHaveLength(1);
  });

  it('is not held back by the public form’s per-IP limit, nor counts against it', async () => {
    const staff = await signedIn();
    const emails = Array.from({ length: 30 }, () => address('many'));
    const res = await upload(staff, ['email', ...emails].join('\n'));
    expect(visibleText(res.text)).toContain('Invited (a confirmation request is on its way): 30');
    // The public form from the same address still sends its email (its answer is the same either way).
    const asked = address('public');
    await t.http.post(`/api/newsrooms/${newsroom.slug}/subscriptions`).send({ email: asked }).expect(202);
    expect(await confirmationsOf((await rowOf(ownId, asked))!.id)).toHaveLength(1);
  });

  it('reads semicolon-separated files as spreadsheets save them, and our own export', async () => {
    const staff = await signedIn();
    const semicolon = address('semicolon');
    const res = await upload(staff, `\uFEFFemail;languages\n${semicolon};sv fi\n`);
    expect(visibleText(res.text)).toContain('Invited (a confirmation request is on its way): 1');
    expect(JSON.parse((await confirmationsOf((await rowOf(ownId, semicolon))!.id))[0]!.languages)).toEqual(['sv', 'fi']);

    const exported = (await staff.get('/admin/subscribers/export')).text;
    const { confirmed } = (await t.http.get(`/api/newsrooms/${newsroom.slug}/subscribers`).set(newsroom.auth).expect(200)).body.counts.status;
    const reimport = visibleText((await upload(staff, exported)).text);
    expect(reimport).toContain(`Already subscribed: ${confirmed}`);
    expect(reimport).toContain('Rejected rows: 0');
  });

  it('gives the rejection reasons in the interface language', async () => {
    const staff = await signedIn(newsroom, 'sv');
    const res = await upload(staff, 'email,languages\nnope,fi\n');
    expect(visibleText(res.text)).toContain(`2 ${say('sv', 'admin.subscribers.reason.email', { value: 'nope' })}`);
  });

  it('shows what is wrong with a file next to the field, never a 500', async () => {
    const staff = await signedIn();
    const cases: [string | Buffer, number, string][] = [
      ['name,languages\nsomeone@example.net,fi\n', 422, 'the first row has no column named email'],
      [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0xff, 0xfe]), 422, 'the file is not CSV text (UTF-8)'],
      ['email,languages\n"broken@example.net,fi\n', 422, 'the CSV file is malformed at line 2'],
      ['email,languages\n', 422, 'the file has no rows of addresses'],
      ['', 422, 'choose a CSV file'],
      [`email\n${'x@example.net\n'.repeat(10_001)}`, 422, 'too many rows (at most 10,000)'],
      [Buffer.alloc(5 * 1024 * 1024 + 1, 'a'), 413, 'the file is too large (at most 5\u00a0MB)'],
    ];
    for (const [csv, status, message] of cases) {
      const res = await upload(staff, csv);
      expect([res.status, /<p class="field-error" id="f-file-error"[^>]*>([^<]*)<\/p>/.exec(res.text)?.[1]]).toEqual([status, message]);
      expect(res.text).toMatch(/id="f-file"[^>]*aria-invalid="true" aria-describedby="f-file-error"/);
    }
    await expectValidHtml((await upload(staff, 'name\nx\n')).text);
  });

  it('needs the CSRF token, and invites nobody without it', async () => {
    const staff = await signedIn();
    const email = address('forged');
    expect((await upload(staff, `email\n${email}\n`, 'forged')).status).toBe(403);
    expect((await upload(staff, `email\n${email}\n`, null)).status).toBe(403);
    expect(await rowOf(ownId, email)).toBeUndefined();
  });
});

describe('another newsroom', () => {
  it('cannot see, remove or export the subscribers of another (404), nor invite into it', async () => {
    const [theirs] = await insertSubscribers(t.ctx.db, otherId, [{ email: address('theirs'), languages: ['en'] }]);
    const staff = await signedIn(newsroom);
    expect(visibleText((await staff.get(`/admin/subscribers?q=${encodeURIComponent(theirs!.email)}`)).text)).toContain('No subscribers to show.');
    expect((await staff.get(`/admin/subscribers/${theirs!.id}/remove`)).status).toBe(404);
    expect((await staff.post(`/admin/subscribers/${theirs!.id}/remove`)).status).toBe(404);
    expect(await rowOf(otherId, theirs!.email)).toBeDefined();
    expect((await staff.get('/admin/subscribers/export')).text).not.toContain(theirs!.email);

    // An upload lands in the session's own newsroom, whatever the addresses.
    const invited = address('mine');
    await upload(staff, `email\n${invited}\n`);
    expect(await rowOf(ownId, invited)).toBeDefined();
    expect(await rowOf(otherId, invited)).toBeUndefined();

    // And the API keeps them apart the same way: a token of one newsroom is refused on the other's.
    await t.http.delete(`/api/newsrooms/${other.slug}/subscribers/${theirs!.id}`).set(newsroom.auth).expect(403);
    await t.http.delete(`/api/newsrooms/${newsroom.slug}/subscribers/${theirs!.id}`).set(newsroom.auth).expect(404);
  });

  it('asks the admin to pick a newsroom first', async () => {
    const admin = new StaffClient(t);
    await admin.signIn(ADMIN_TOKEN);
    const res = await admin.get('/admin/subscribers');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/newsrooms');
  });
});
