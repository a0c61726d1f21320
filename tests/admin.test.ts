import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import supertest from 'supertest';
import { hashSecret } from '../src/auth/tokens.js';
import { SESSION_COOKIE } from '../src/admin/session.js';
import { formatDate, formatDateTime, formatSize, formatTime } from '../src/lib/i18n.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildContact, buildNewsroom, buildRelease, minimalPdf, type NewsroomFixture } from './support/factories.js';
import { StaffClient, visibleText } from './support/staff.js';

let t: TestApp;
let newsroom: NewsroomFixture;
let other: NewsroomFixture;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  other = await buildNewsroom(t);
});
afterAll(() => t.close());

const signedIn = async (fixture: NewsroomFixture = newsroom) => {
  const staff = new StaffClient(t);
  await staff.signIn(fixture.token);
  return staff;
};

const editorForm = (overrides: Record<string, string | string[]> = {}) => ({
  type: 'press-release',
  'translations.fi.title': 'Uusi silta avataan',
  'translations.fi.lead': 'Kaupunki avaa sillan.',
  'translations.fi.body': 'Silta avataan **maanantaina**.',
  'keywords.fi': 'silta, liikenne',
  'translations.sv.title': 'Ny bro öppnas',
  'translations.sv.lead': '',
  'translations.sv.body': 'Bron öppnas på måndag.',
  'keywords.sv': 'bro',
  ...overrides,
});

async function createViaForm(staff: StaffClient, overrides: Record<string, string | string[]> = {}): Promise<string> {
  await staff.get('/admin/releases/new');
  const res = await staff.post('/admin/releases/new', editorForm(overrides));
  expect(res.status).toBe(303);
  return /\/admin\/releases\/([^?]+)\?saved=1/.exec(res.headers.location!)![1]!;
}

const versionOf = (html: string) => /name="version" value="(\d+)"/.exec(html)![1]!;

/** A server-sent event stream read to its end. */
const readStream = (staff: StaffClient, path: string) =>
  supertest(t.app)
    .get(path)
    .set('Cookie', staff.cookieHeader)
    .buffer(true)
    .parse((response, done) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => done(null, body));
    });

/** The events of a stream, each with its name and data. */
const streamEvents = (body: string) =>
  body
    .split('\n\n')
    .filter((e) => /^event: /m.test(e))
    .map((e) => ({ event: /^event: (.*)$/m.exec(e)![1]!, data: JSON.parse(/^data: (.*)$/m.exec(e)![1]!) }));

describe('signing in', () => {
  it('takes a newsroom token, keeps only a hash of the session id, and sets a strict cookie', async () => {
    const staff = new StaffClient(t);
    const page = await staff.get('/admin/sign-in');
    expect(page.status).toBe(200);
    const res = await staff.post('/admin/sign-in', { token: newsroom.token });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/releases');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Secure/); // PUBLIC_URL is https in the tests
    expect(cookie).toMatch(/Path=\/admin/);
    expect(cookie).toMatch(/Max-Age=43200/);

    const id = staff.cookies.get(SESSION_COOKIE)!.split('.')[0]!;
    const rows = await t.ctx.db.selectFrom('admin_sessions').selectAll().execute();
    expect(rows.some((r) => r.id_hash === hashSecret(id))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(id);

    const list = await staff.get('/admin/releases');
    expect(list.status).toBe(200);
    expect(list.headers['content-security-policy']).toContain("script-src 'self'");
    expect(list.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(list.headers['cache-control']).toBe('no-store');
  });

  it('refuses a wrong token with the error next to the field', async () => {
    const staff = new StaffClient(t);
    await staff.get('/admin/sign-in');
    const res = await staff.post('/admin/sign-in', { token: 'nr_00000000-0000-0000-0000-000000000000.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' });
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/id="f-token-error"/);
    expect(res.text).toMatch(/aria-invalid="true"/);
    expect(staff.cookies.has(SESSION_COOKIE)).toBe(false);
  });

  it('refuses a sign-in without the form’s CSRF token (403)', async () => {
    const staff = new StaffClient(t);
    await staff.get('/admin/sign-in');
    expect((await staff.post('/admin/sign-in', { token: newsroom.token, _csrf: 'forged' })).status).toBe(403);
    const fresh = new StaffClient(t);
    expect((await fresh.post('/admin/sign-in', { token: newsroom.token, _csrf: null })).status).toBe(403);
  });

  it('sends pages to the sign-in form without a session, and refuses posts (401)', async () => {
    const anonymous = new StaffClient(t);
    const res = await anonymous.get('/admin/releases');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/sign-in');
    expect((await anonymous.post('/admin/releases/new', editorForm())).status).toBe(401);
  });

  it('ends an idle session after 12 hours', async () => {
    const staff = await signedIn();
    expect((await staff.get('/admin/releases')).status).toBe(200);
    t.clock.advance(12 * 60 * 60 * 1000 + 1000);
    try {
      const res = await staff.get('/admin/releases');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/admin/sign-in');
      expect((await staff.post('/admin/releases/new', editorForm())).status).toBe(401);
    } finally {
      t.clock.advance(-(12 * 60 * 60 * 1000 + 1000));
    }
  });

  it('keeps a session in use alive past 12 hours from sign-in', async () => {
    const staff = await signedIn();
    try {
      t.clock.advance(8 * 60 * 60 * 1000);
      expect((await staff.get('/admin/releases')).status).toBe(200);
      t.clock.advance(8 * 60 * 60 * 1000);
      expect((await staff.get('/admin/releases')).status).toBe(200);
    } finally {
      t.clock.advance(-16 * 60 * 60 * 1000);
    }
  });

  it('ends every session of a token when it is revoked', async () => {
    const token = await t.http.post(`/api/newsrooms/${newsroom.slug}/tokens`).set(t.admin).send({ name: 'temp' }).expect(201);
    const first = new StaffClient(t);
    await first.signIn(token.body.token);
    const second = new StaffClient(t);
    await second.signIn(token.body.token);
    expect((await first.get('/admin/releases')).status).toBe(200);
    await t.http.delete(`/api/newsrooms/${newsroom.slug}/tokens/${token.body.id}`).set(t.admin).expect(204);
    for (const staff of [first, second]) {
      const res = await staff.get('/admin/releases');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/admin/sign-in');
    }
    const left = await t.ctx.db.selectFrom('admin_sessions').select('id_hash').where('token_id', '=', token.body.id).execute();
    expect(left).toEqual([]);
  });

  it('signs out: the session is gone on the server too', async () => {
    const staff = await signedIn();
    const cookie = staff.cookieHeader;
    await staff.get('/admin/releases');
    expect((await staff.post('/admin/sign-out')).status).toBe(303);
    expect(staff.cookies.has(SESSION_COOKIE)).toBe(false);
    // Replaying the old cookie does not bring the session back.
    const replay = await t.http.get('/admin/releases').set('Cookie', cookie);
    expect(replay.status).toBe(303);
  });

  it('refuses a cookie whose signature does not match', async () => {
    const staff = await signedIn();
    const [id] = staff.cookies.get(SESSION_COOKIE)!.split('.');
    const res = await t.http.get('/admin/releases').set('Cookie', `${SESSION_COOKIE}=${id}.forged`);
    expect(res.status).toBe(303);
  });
});

describe('CSRF', () => {
  it('refuses every kind of post without the session’s token (403), and keeps the data as it was', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    const page = await staff.get(`/admin/releases/${id}`);
    const version = versionOf(page.text);
    const posts: [string, Record<string, string | null>][] = [
      ['/admin/releases/new', { ...editorForm(), _csrf: null }],
      [`/admin/releases/${id}`, { ...editorForm({ 'translations.fi.title': 'Kaapattu' }), version, _csrf: 'nope' }],
      [`/admin/releases/${id}/publish`, { version, _csrf: null }],
      [`/admin/releases/${id}/schedule`, { publishAt: '2099-01-01T10:00', version, _csrf: null }],
      ['/admin/contacts', { name: 'X', _csrf: null }],
      ['/admin/settings', { languages: 'fi', _csrf: null }],
      ['/admin/sign-out', { _csrf: null }],
      ['/admin/preview', { markdown: 'x', _csrf: null }],
    ];
    for (const [path, fields] of posts) {
      const res = await staff.post(path, fields);
      expect([path, res.status]).toEqual([path, 403]);
    }
    // A token of another session is no good either.
    const otherStaff = await signedIn();
    await otherStaff.get('/admin/releases');
    expect((await staff.post('/admin/contacts', { name: 'X', _csrf: otherStaff.csrf })).status).toBe(403);
    const api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(api.body.status).toBe('draft');
    expect(api.body.translations.fi.title).toBe('Uusi silta avataan');
    // Uploads carry the token as the form's first field, read before the file: without
    // it, after the file, or in the URL, nothing is stored.
    const pdf = { name: 'x.pdf', content: minimalPdf, type: 'application/pdf' };
    const path = `/admin/releases/${id}/attachments`;
    expect((await staff.upload(path, pdf, { _csrf: null })).status).toBe(403);
    const late = await supertest(t.app).post(path).set('Cookie', staff.cookieHeader).attach('file', minimalPdf, 'x.pdf').field('_csrf', staff.csrf);
    expect(late.status).toBe(403);
    expect((await supertest(t.app).post(`${path}?_csrf=${encodeURIComponent(staff.csrf)}`).set('Cookie', staff.cookieHeader).attach('file', minimalPdf, 'x.pdf')).status).toBe(403);
    expect((await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200)).body.attachments).toEqual([]);
    // Scripts send it as a header too; with the field, it is taken out before the form's own fields are checked.
    const scripted = await supertest(t.app).post(path).set({ Cookie: staff.cookieHeader, 'X-CSRF-Token': staff.csrf }).field('_csrf', staff.csrf).attach('file', minimalPdf, 'x.pdf');
    expect(scripted.status).toBe(303);
  });

  it('never puts the token in a URL: every form carries it in its body', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    const admin = new StaffClient(t);
    await admin.signIn(ADMIN_TOKEN);
    const pages = [
      ...(await Promise.all(['/admin/releases', `/admin/releases/${id}`, '/admin/contacts', '/admin/subscribers', '/admin/settings'].map((p) => staff.get(p)))),
      await admin.get('/admin/newsrooms'),
    ];
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.text).not.toMatch(/_csrf(=|&#x3D;)/);
      // Each multipart form has the token as its first field.
      for (const form of page.text.match(/<form [^>]*multipart\/form-data[^>]*>\s*(?:\{\{!--[^]*?--\}\}\s*)?<input[^>]*>/g) ?? []) {
        expect(form).toMatch(/<input type="hidden" name="_csrf" value="[^"]+">$/);
      }
    }
    expect((pages[1]!.text.match(/multipart\/form-data/g) ?? []).length).toBe(1);
  });
});

describe('releases', () => {
  it('writes a bilingual release through the form, as the API sees it', async () => {
    const staff = await signedIn();
    const contact = await buildContact(t, newsroom);
    const id = await createViaForm(staff, { contactIds: [contact.id], type: 'news', 'translations.fi.body': 'Silta avataan **maanantaina**.\r\n\n- kohta' });
    const api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(api.body).toMatchObject({
      type: 'news',
      status: 'draft',
      translations: {
        fi: { title: 'Uusi silta avataan', lead: 'Kaupunki avaa sillan.', body: 'Silta avataan **maanantaina**.\n\n- kohta' },
        sv: { title: 'Ny bro öppnas', lead: '', body: 'Bron öppnas på måndag.' },
      },
      keywords: { fi: ['silta', 'liikenne'], sv: ['bro'] },
    });
    expect(api.body.contacts.map((c: { id: string }) => c.id)).toEqual([contact.id]);

    const page = await staff.get(`/admin/releases/${id}?saved=1`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('value="Uusi silta avataan"');
    expect(page.text).toContain('<strong>maanantaina</strong>'); // the stored, sanitised preview
    // The Markdown comes back exactly as written (no indentation added to the textarea).
    expect(page.text).toContain('name="translations.fi.body" rows="14" class="markdown">Silta avataan **maanantaina**.\n\n- kohta</textarea>');
    expect(page.text).toMatch(new RegExp(`id="contact-${contact.id}" name="contactIds" value="${contact.id}" checked`));
  });

  it('shows the API’s field errors next to the fields and keeps what was typed', async () => {
    const staff = await signedIn();
    await staff.get('/admin/releases/new');
    const res = await staff.post('/admin/releases/new', editorForm({ 'translations.fi.title': 'x'.repeat(301), 'keywords.sv': 'y'.repeat(61) }));
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/<p class="field-error" id="f-translations-fi-title-error">[^<]+<\/p>/);
    expect(res.text).toMatch(/id="f-translations-fi-title"[^>]*aria-invalid="true" aria-describedby="f-translations-fi-title-error"/);
    expect(res.text).toMatch(/id="f-keywords-sv-error"/);
    expect(res.text).toContain('href="#f-translations-fi-title"');
    expect(res.text).toContain('href="#f-keywords-sv"');
    expect(res.text).toContain('Bron öppnas på måndag.');

    const empty = await staff.post('/admin/releases/new', editorForm({ 'translations.fi.title': '', 'translations.fi.lead': '', 'translations.fi.body': '', 'keywords.fi': '', 'translations.sv.title': '', 'translations.sv.body': '', 'keywords.sv': '' }));
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('href="#f-translations"');
  });

  it('warns when someone else saved meanwhile (409), keeping the text typed', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    const page = await staff.get(`/admin/releases/${id}`);
    const version = versionOf(page.text);
    await t.http.patch(`/api/releases/${id}`).set(newsroom.auth).send({ translations: { fi: { lead: 'Toinen muokkasi.' } } }).expect(200);
    const res = await staff.post(`/admin/releases/${id}`, { ...editorForm({ 'translations.fi.title': 'Minun otsikkoni' }), version });
    expect(res.status).toBe(409);
    expect(res.text).toContain('class="warning" role="alert"');
    expect(res.text).toContain('value="Minun otsikkoni"');
    const api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(api.body.translations.fi.lead).toBe('Toinen muokkasi.');
    expect(api.body.translations.fi.title).toBe('Uusi silta avataan');

    const fresh = await staff.get(`/admin/releases/${id}`);
    const saved = await staff.post(`/admin/releases/${id}`, { ...editorForm({ 'translations.fi.title': 'Minun otsikkoni' }), version: versionOf(fresh.text) });
    expect(saved.status).toBe(303);
  });

  it('removes a language emptied in the form', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    const page = await staff.get(`/admin/releases/${id}`);
    await staff.post(`/admin/releases/${id}`, { ...editorForm({ 'translations.sv.title': '', 'translations.sv.body': '', 'keywords.sv': '' }), version: versionOf(page.text) });
    const api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(Object.keys(api.body.translations)).toEqual(['fi']);
    expect(api.body.keywords).toEqual({ fi: ['silta', 'liikenne'] });
  });

  it('lists releases with a status filter, a title search, times in the newsroom zone and delivery counts', async () => {
    const room = await buildNewsroom(t, { timezone: 'America/New_York' });
    const staff = await signedIn(room);
    const draft = await createViaForm(staff, { 'translations.fi.title': 'Kesäjuhla 100%', 'translations.sv.title': 'Sommarfest' });
    const published = await buildRelease(t, room);
    await t.http.post(`/api/releases/${published.id}/publish`).set(room.auth).expect(200);
    const row = await t.ctx.db.selectFrom('releases').select('published_at').where('id', '=', published.id).executeTakeFirstOrThrow();

    const all = await staff.get('/admin/releases?lang=en');
    expect(all.text).toContain(`/admin/releases/${draft}`);
    expect(all.text).toContain(`/admin/releases/${published.id}`);
    expect(all.text).toContain(formatDateTime('en', row.published_at!, 'America/New_York'));
    expect(all.text).toContain('0/0 sent, 0 failed');

    const drafts = await staff.get('/admin/releases?status=draft');
    expect(drafts.text).toContain(`/admin/releases/${draft}`);
    expect(drafts.text).not.toContain(`/admin/releases/${published.id}`);
    const found = await staff.get(`/admin/releases?q=${encodeURIComponent('SOMMAR')}`);
    expect(found.text).toContain(`/admin/releases/${draft}`);
    expect(found.text).not.toContain(`/admin/releases/${published.id}`);
    // LIKE's wildcards are taken as text.
    const percent = await staff.get(`/admin/releases?q=${encodeURIComponent('100%')}`);
    expect(percent.text).toContain(`/admin/releases/${draft}`);
    const none = await staff.get(`/admin/releases?q=${encodeURIComponent('%')}&status=published`);
    expect(none.text).not.toContain(`/admin/releases/${published.id}`);
  });

  it('renders the live preview with the server’s sanitiser', async () => {
    const staff = await signedIn();
    await staff.get('/admin/releases');
    const res = await staff.post('/admin/preview', { markdown: '# Otsikko\n\n**lihava** <script>alert(1)</script> [x](javascript:alert(1))' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h2>Otsikko</h2>');
    expect(res.text).toContain('<strong>lihava</strong>');
    expect(res.text).not.toMatch(/<script|href="javascript:/);
  });
});

describe('previews', () => {
  it('show a scheduled release\'s page and email per language exactly as the site and the delivery render them', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    // Under embargo, with a fixed time: both previews show that time.
    const publishAt = new Date(Date.now() + 86_400_000).toISOString();
    await t.http.post(`/api/releases/${id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);
    const editor = await staff.get(`/admin/releases/${id}`);
    expect(editor.text).toContain(`/admin/releases/${id}/preview/sv`);
    expect(editor.text).toContain(`/admin/releases/${id}/email/fi`);

    const page = await staff.get(`/admin/releases/${id}/preview/sv`);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    const api = await t.http.get(`/api/releases/${id}/preview/sv`).set(newsroom.auth).expect(200);
    expect(page.text).toBe(api.text);
    expect(page.text).toContain(`<time datetime="${publishAt}">`);
    expect(page.text).toContain('<h1>Ny bro öppnas</h1>');

    const email = await staff.get(`/admin/releases/${id}/email/fi`);
    expect(email.status).toBe(200);
    expect(email.headers['content-security-policy']).toMatch(/^sandbox allow-same-origin; default-src 'none'/);
    expect(email.headers['content-security-policy']).not.toMatch(/allow-scripts|allow-forms|script-src/);
    expect(email.text).toContain('Uusi silta avataan');
    expect(email.text).toContain('<strong>maanantaina</strong>');
    const text = await staff.get(`/admin/releases/${id}/email/fi?part=text`);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toMatch(/^Uusi silta avataan\n/);
    expect((await staff.get(`/admin/releases/${id}/email/en`)).status).toBe(404);

    // Nobody else's: a release of another newsroom is 403 here too.
    const theirs = await buildRelease(t, other);
    expect((await staff.get(`/admin/releases/${theirs.id}/preview/fi`)).status).toBe(403);
    expect((await staff.get(`/admin/releases/${theirs.id}/email/fi`)).status).toBe(403);
  });

  it('show the images of a release under embargo through the staff app’s own file URLs', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#2a6' } }).jpeg().toBuffer();
    const image = await buildAttachment(t, newsroom, id, { bytes: jpeg, filename: 'kuva.jpg' });
    const pdf = await buildAttachment(t, newsroom, id);
    await t.http.post(`/api/releases/${id}/schedule`).set(newsroom.auth).send({ publishAt: new Date(Date.now() + 86_400_000).toISOString() }).expect(200);

    const page = await staff.get(`/admin/releases/${id}/preview/fi`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`src="/admin/files/${image.id}/web"`);
    expect(page.text).toContain(`href="/admin/files/${pdf.id}/document.pdf"`);
    expect(page.text).not.toContain(`https://news.example.test/files/${image.id}`);
    const web = await t.http.get(`/admin/files/${image.id}/web`).set('Cookie', staff.cookieHeader);
    expect(web.status).toBe(200);
    expect(web.headers['content-type']).toMatch(/^image\//);
    const original = await t.http.get(`/admin/files/${image.id}/kuva.jpg`).set('Cookie', staff.cookieHeader);
    expect([original.status, original.headers['content-type']]).toEqual([200, 'image/jpeg']);
    await t.http.get(`/admin/files/${image.id}/web`).expect(303); // without the session: to the sign-in

    // The API's preview keeps the public file URLs, which stay closed to the public until publication.
    const api = await t.http.get(`/api/releases/${id}/preview/fi`).set(newsroom.auth).expect(200);
    expect(api.text).toContain(`src="https://news.example.test/files/${image.id}/web"`);
    await t.http.get(`/files/${image.id}/web`).expect(404);
    await t.http.get(`/files/${image.id}/kuva.jpg`).expect(404);
  });
});

describe('publication', () => {
  it('schedules at a time read in the newsroom’s zone, unschedules, and refuses past or malformed times next to the field', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    let page = await staff.get(`/admin/releases/${id}`);
    const bad = await staff.post(`/admin/releases/${id}/schedule`, { publishAt: 'tomorrow', version: versionOf(page.text) });
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/id="f-publishAt-error"/);
    const past = await staff.post(`/admin/releases/${id}/schedule`, { publishAt: '2001-01-01T10:00', version: versionOf(page.text) });
    expect(past.status).toBe(422);
    expect(past.text).toMatch(/id="f-publishAt-error">must be in the future/);

    const year = new Date().getUTCFullYear() + 1;
    const res = await staff.post(`/admin/releases/${id}/schedule`, { publishAt: `${year}-07-01T09:30`, version: versionOf(page.text) });
    expect(res.status).toBe(303);
    const api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(api.body.status).toBe('scheduled');
    expect(api.body.publishAt).toBe(`${year}-07-01T06:30:00.000Z`); // Helsinki is UTC+3 in summer

    page = await staff.get(`/admin/releases/${id}`);
    expect(page.text).toContain(`value="${year}-07-01T09:30"`);
    expect((await staff.post(`/admin/releases/${id}/unschedule`, { version: versionOf(page.text) })).status).toBe(303);
    expect((await t.http.get(`/api/releases/${id}`).set(newsroom.auth)).body.status).toBe('draft');
  });

  it('publishes and withdraws after a confirmation page; an edit after publication shows as updated', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    const confirm = await staff.get(`/admin/releases/${id}/publish`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain(`action="/admin/releases/${id}/publish"`);
    expect((await staff.post(`/admin/releases/${id}/publish`, { version: versionOf(confirm.text) })).status).toBe(303);
    expect((await t.http.get(`/api/releases/${id}`).set(newsroom.auth)).body.status).toBe('published');

    t.clock.advance(60_000);
    try {
      const page = await staff.get(`/admin/releases/${id}?lang=en`);
      expect(page.text).not.toContain('status-updated');
      await staff.post(`/admin/releases/${id}`, { ...editorForm({ 'translations.fi.lead': 'Korjattu.', 'change.kind': 'minor' }), version: versionOf(page.text) });
      const edited = await staff.get(`/admin/releases/${id}`);
      expect(edited.text).toContain('status-updated');

      const withdraw = await staff.get(`/admin/releases/${id}/withdraw`);
      // A confirmation page of an outdated version is refused rather than acted on.
      expect((await staff.post(`/admin/releases/${id}/withdraw`, { version: '0' })).status).toBe(409);
      expect((await staff.post(`/admin/releases/${id}/withdraw`, { version: versionOf(withdraw.text) })).status).toBe(303);
      expect((await t.http.get(`/api/releases/${id}`).set(newsroom.auth)).body.status).toBe('withdrawn');
    } finally {
      t.clock.advance(-60_000);
    }
  });
});

describe('delivery counts', () => {
  it('stream as server-sent events while messages are queued, and show on the editor', async () => {
    const staff = await signedIn();
    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    // Rows as the delivery worker (another component) writes them, after announcing the release.
    const now = new Date().toISOString();
    await t.ctx.db.updateTable('releases').set({ announced_at: now }).where('id', '=', release.id).execute();
    const rows = ['queued', 'queued', 'sent', 'failed'].map((status, i) => ({
      id: `d-${release.id}-${i}`,
      release_id: release.id,
      subscriber_id: `s-${i}`,
      status,
      created_at: now,
      updated_at: now,
    }));
    await t.ctx.db.insertInto('deliveries').values(rows).execute();

    const page = await staff.get(`/admin/releases/${release.id}?lang=en`);
    expect(page.text).toContain('Email: 1 of 4 sent, 2 queued, 1 failed.');
    const live = /data-live="([^"]+)"/.exec(page.text)![1]!.replace(/&#x3D;/g, '=');
    expect(live).toMatch(new RegExp(`^/admin/releases/${release.id}/live\\?since=`));

    const sending = setTimeout(() => {
      void t.ctx.db.updateTable('deliveries').set({ status: 'sent' }).where('release_id', '=', release.id).where('status', '=', 'queued').execute();
    }, 1200);
    const res = await readStream(staff, live);
    clearTimeout(sending);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = streamEvents(res.body as string);
    expect(events[0]).toMatchObject({ event: 'state', data: { status: 'published', label: 'Published', version: expect.any(Number) } });
    const counts = events.filter((e) => e.event === 'counts').map((e) => e.data);
    expect(counts[0]).toEqual({ total: 4, queued: 2, sent: 1, failed: 1, skipped: 0, bounced: 0, complained: 0 });
    expect(counts.at(-1)).toEqual({ total: 4, queued: 0, sent: 3, failed: 1, skipped: 0, bounced: 0, complained: 0 });
    expect(events.at(-1)!.event).toBe('done');
    // Once everything is sent, the page no longer follows it.
    expect((await staff.get(`/admin/releases/${release.id}`)).text).not.toContain('data-live=');

    // Another newsroom's staff get nothing.
    const outsider = await signedIn(other);
    expect((await outsider.get(`/admin/releases/${release.id}/live`)).status).toBe(403);
  });

  it('follow a scheduled release into publication: the status switches, then the counts come', async () => {
    const staff = await signedIn();
    const release = await buildRelease(t, newsroom);
    // Far enough ahead that a loaded CI machine still shows it scheduled.
    const publishAt = new Date(Date.now() + 4000).toISOString();
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);
    const page = await staff.get(`/admin/releases/${release.id}?lang=en`);
    expect(visibleText(page.text)).toMatch(/Scheduled\s+to be published .* \(Europe\/Helsinki\)/);
    // The delivery section is there, hidden until publication.
    expect(page.text).toMatch(/<section id="delivery"[^>]* data-while="published withdrawn" hidden>/);
    const live = /data-live="([^"]+)"/.exec(page.text)![1]!.replace(/&#x3D;/g, '=');
    const version = Number(versionOf(page.text));

    // What the publication and delivery workers do, a moment after the time: record it as
    // published (a new version, the same update time), write its deliveries, announce it.
    const work = setTimeout(async () => {
      const at = new Date().toISOString();
      await t.ctx.db.insertInto('deliveries').values([0, 1].map((i) => ({ id: `l-${release.id}-${i}`, release_id: release.id, subscriber_id: `s-${i}`, status: 'sent', sent_at: at, created_at: at, updated_at: at }))).execute();
      await t.ctx.db.updateTable('releases').set({ status: 'published', published_at: publishAt, version: version + 1, announced_at: at }).where('id', '=', release.id).execute();
    }, Date.parse(publishAt) - Date.now() + 500);
    const res = await readStream(staff, live);
    clearTimeout(work);
    const events = streamEvents(res.body as string);
    const states = events.filter((e) => e.event === 'state').map((e) => e.data);
    expect(states[0]).toMatchObject({ status: 'scheduled', version });
    expect(states).toContainEqual(expect.objectContaining({ status: 'published', label: 'Published', when: expect.objectContaining({ label: 'published', at: publishAt }) }));
    // The publication raised the version; nobody edited the release, so the page may take it over.
    expect(states.at(-1)).toMatchObject({ status: 'published', version: version + 1 });
    expect(events.filter((e) => e.event === 'counts').at(-1)!.data).toEqual({ total: 2, queued: 0, sent: 2, failed: 0, skipped: 0, bounced: 0, complained: 0 });
    expect(events.at(-1)!.event).toBe('done');
  });

  it('say when someone else changed the release since the page was shown', async () => {
    const staff = await signedIn();
    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: new Date(Date.now() + 3600_000).toISOString() }).expect(200);
    const page = await staff.get(`/admin/releases/${release.id}`);
    const live = /data-live="([^"]+)"/.exec(page.text)![1]!.replace(/&#x3D;/g, '=');
    await t.http.post(`/api/releases/${release.id}/unschedule`).set(newsroom.auth).expect(200);
    const events = streamEvents((await readStream(staff, live)).body as string);
    expect(events[0]).toMatchObject({ event: 'state', data: { status: 'draft', changed: true } });
    expect(events[0]!.data).not.toHaveProperty('version');
    expect(events.at(-1)!.event).toBe('done');
  });
});

describe('delivery view', () => {
  it('shows counts per language, a chart of outcomes over time in the newsroom’s zone, and each failure with its SMTP reply', async () => {
    const staff = await signedIn();
    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    // A tenth into a second, so that each time below falls in the second the test means.
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 100).toISOString();
    const second = (n: number) => new Date(Date.parse(now) + n * 1000).toISOString();
    const rows = (
      [
        ['fi', 'sent', null, second(0), 1],
        ['fi', 'failed', '550 5.1.1 <x@example.fi>: Recipient address rejected', null, 1],
        ['sv', 'sent', null, second(0.5), 1],
        ['sv', 'skipped', null, null, 0],
        ['sv', 'sent', null, second(2.2), 3],
      ] as const
    ).map(([language, status, reply, sentAt, attempts], i) => ({
      id: `v-${release.id}-${i}`,
      release_id: release.id,
      subscriber_id: `s-${i}`,
      status,
      language,
      attempts,
      smtp_response: reply,
      sent_at: sentAt,
      created_at: now,
      updated_at: now,
    }));
    await t.ctx.db.insertInto('deliveries').values(rows).execute();
    const page = await staff.get(`/admin/releases/${release.id}?lang=en`);
    const text = visibleText(page.text);
    expect(text).toContain('Sending by language');
    expect(text).toMatch(/Finnish\s*1\s*0\s*1\s*0\s*0\s*0\s*2/);
    expect(text).toMatch(/Swedish\s*2\s*0\s*0\s*1\s*0\s*0\s*3/);
    // Over time, by the second, in the newsroom's zone: in the first, one accepted and one
    // failed (the failure's time is its last change), then one more accepted; in the third,
    // one accepted after retries. Stacked: accepted, after a retry, failed.
    const bars = [...page.text.matchAll(/<g><title>([^<]*)<\/title>(.*?)<\/g>/g)].map((m) => [m[1], [...m[2]!.matchAll(/class="(\w+)"/g)].map((c) => c[1])]);
    const clock = (offset: number) => formatTime('en', new Date(Math.floor(Date.parse(now) / 1000) * 1000 + offset * 1000).toISOString(), 'Europe/Helsinki', true);
    expect(bars.slice(0, 3)).toEqual([
      [`${clock(0)}: 2 accepted, 0 after a retry, 1 failed`, ['accepted', 'failed']],
      [`${clock(1)}: 0 accepted, 0 after a retry, 0 failed`, []],
      [`${clock(2)}: 0 accepted, 1 after a retry, 0 failed`, ['retried']],
    ]);
    expect(bars).toHaveLength(4); // four steps of the time axis, one bar each
    expect(text).toContain('Emails per second');
    expect(text).toContain(`${formatDate('en', now, 'Europe/Helsinki')}, ${clock(0)}–${clock(4)} (Europe/Helsinki)`);
    expect(text).toMatch(/Accepted by the mail server: 2\s+Accepted after a retry: 1\s+Failed: 1/);
    // The y axis: 0 to the tallest bar, rounded up.
    expect(page.text).toContain('<span class="y-top">5</span>');
    // The report sits in a section of its own, before the editor, apart from the publication panel.
    expect(page.text.indexOf('id="delivery"')).toBeLessThan(page.text.indexOf('id="release-form"'));
    expect(page.text.indexOf('id="delivery-report"')).toBeLessThan(page.text.indexOf('class="release-side"'));
    // The same report alone, for the page to refresh.
    const fragment = await staff.get(`/admin/releases/${release.id}/deliveries?lang=fi`);
    expect(visibleText(fragment.text)).toContain('Sähköposteja sekunnissa');
    expect(fragment.text).not.toContain('<html');
    expect(text).toContain('Failures (1)');
    expect(page.text).toContain('<code>550 5.1.1 &lt;x@example.fi&gt;: Recipient address rejected</code>');
  });
});

describe('attachments', () => {
  it('uploads with the token as the form’s first field, edits captions and credit, and removes', async () => {
    const staff = await signedIn();
    const id = await createViaForm(staff);
    const page = await staff.get(`/admin/releases/${id}`);
    const action = /<form method="post" action="([^"]+)" enctype="multipart\/form-data"/.exec(page.text)![1]!;
    expect(action).toBe(`/admin/releases/${id}/attachments`);
    const upload = await staff.upload(action, { name: 'tiedote.pdf', content: minimalPdf }, { caption_fi: 'Kuvateksti', credit: 'Kuvaaja' });
    expect(upload.status).toBe(303);
    let api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(api.body.attachments).toHaveLength(1);
    const attachment = api.body.attachments[0];
    expect(attachment).toMatchObject({ filename: 'tiedote.pdf', caption: { fi: 'Kuvateksti' }, credit: 'Kuvaaja' });

    const edited = await staff.get(`/admin/releases/${id}?lang=fi`);
    expect(edited.text).toContain('tiedote.pdf');
    // Its size, as the site writes sizes.
    expect(edited.text).toContain(`(${formatSize('fi', minimalPdf.length)})`);
    // The staff link serves the embargoed file to the session.
    const file = await t.http.get(`/admin/files/${attachment.id}/tiedote.pdf`).set('Cookie', staff.cookieHeader);
    expect(file.status).toBe(200);
    expect(file.headers['cache-control']).toBe('private, no-store');
    await t.http.get(`/admin/files/${attachment.id}/tiedote.pdf`).expect(303);

    const tooLong = await staff.post(`/admin/releases/${id}/attachments/${attachment.id}`, { 'caption.fi': 'x'.repeat(501), 'caption.sv': '', credit: '' });
    expect(tooLong.status).toBe(422);
    expect(tooLong.text).toMatch(new RegExp(`id="f-a-${attachment.id}-caption-fi-error"`));
    expect((await staff.post(`/admin/releases/${id}/attachments/${attachment.id}`, { 'caption.fi': '', 'caption.sv': 'Bildtext', credit: '' })).status).toBe(303);
    api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(api.body.attachments[0]).toMatchObject({ caption: { sv: 'Bildtext' }, credit: null });

    // A file of a type not taken: the editor says so, nothing is added.
    const refused = await staff.upload(action, { name: 'notes.txt', content: Buffer.from('just text') });
    expect(refused.status).toBe(415);
    expect(refused.text).toContain('upload-error');

    expect((await staff.post(`/admin/releases/${id}/attachments/${attachment.id}/remove`)).status).toBe(303);
    api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(api.body.attachments).toEqual([]);
  });
});

describe('another newsroom', () => {
  it('cannot be read or changed through the staff app (403)', async () => {
    const staff = await signedIn(newsroom);
    await staff.get('/admin/releases');
    const theirs = await buildRelease(t, other);
    const theirContact = await buildContact(t, other);
    const theirAttachment = await buildAttachment(t, other, theirs.id);
    const gets = [`/admin/releases/${theirs.id}`, `/admin/releases/${theirs.id}/publish`, '/admin/newsrooms'];
    for (const path of gets) expect([path, (await staff.get(path)).status]).toEqual([path, 403]);
    // An embargoed file of another newsroom is not there at all, as in the API.
    expect((await staff.get(`/admin/files/${theirAttachment.id}/document.pdf`)).status).toBe(404);
    const posts: [string, Record<string, string>][] = [
      [`/admin/releases/${theirs.id}`, { ...editorForm(), version: '1' }],
      [`/admin/releases/${theirs.id}/publish`, { version: '1' }],
      [`/admin/releases/${theirs.id}/withdraw`, { version: '1' }],
      [`/admin/releases/${theirs.id}/schedule`, { publishAt: '2099-01-01T10:00', version: '1' }],
      [`/admin/releases/${theirs.id}/unschedule`, { version: '1' }],
      [`/admin/releases/${theirs.id}/attachments/${theirAttachment.id}`, { 'caption.fi': 'x' }],
      [`/admin/releases/${theirs.id}/attachments/${theirAttachment.id}/remove`, {}],
      [`/admin/releases/${theirs.id}/contacts`, { version: '1', name: 'Kaapattu' }],
      [`/admin/contacts/${theirContact.id}`, { name: 'Kaapattu' }],
      [`/admin/contacts/${theirContact.id}/delete`, {}],
      ['/admin/newsrooms', { slug: 'kaapattu', languages: 'fi', name: 'X' }],
      ['/admin/newsrooms/switch', { slug: other.slug }],
      [`/admin/newsrooms/${other.slug}/tokens`, { name: 'x' }],
    ];
    for (const [path, fields] of posts) expect([path, (await staff.post(path, fields)).status]).toEqual([path, 403]);
    const api = await t.http.get(`/api/releases/${theirs.id}`).set(other.auth).expect(200);
    expect(api.body).toMatchObject({ status: 'draft', translations: theirs.translations });
    expect(api.body.attachments).toHaveLength(1);
    expect((await t.http.get(`/api/contacts/${theirContact.id}`).set(other.auth)).body.name).toBe(theirContact.name);
  });
});

describe('contacts and settings', () => {
  it('creates, validates, edits and deletes contacts', async () => {
    const room = await buildNewsroom(t);
    const staff = await signedIn(room);
    await staff.get('/admin/contacts');
    const bad = await staff.post('/admin/contacts', { name: '', 'title.fi': 'päällikkö', phone: 'call me', email: 'nope' });
    expect(bad.status).toBe(422);
    for (const field of ['name', 'phone', 'email']) expect(bad.text).toMatch(new RegExp(`id="f-c-new-${field}-error"`));
    expect(bad.text).toContain('value="päällikkö"');
    expect((await staff.post('/admin/contacts', { name: 'Liisa Esimerkki', 'title.fi': 'tiedottaja', 'title.sv': '', phone: '+358 40 000 0000', email: 'liisa@example.org' })).status).toBe(303);
    const [contact] = (await t.http.get(`/api/newsrooms/${room.slug}/contacts`).set(room.auth).expect(200)).body;
    expect(contact).toMatchObject({ name: 'Liisa Esimerkki', title: { fi: 'tiedottaja' }, phone: '+358 40 000 0000', email: 'liisa@example.org' });
    expect((await staff.post(`/admin/contacts/${contact.id}`, { name: 'Liisa Esimerkki', 'title.fi': '', 'title.sv': 'informatör', phone: '', email: 'liisa@example.org' })).status).toBe(303);
    expect((await t.http.get(`/api/contacts/${contact.id}`).set(room.auth)).body).toMatchObject({ title: { sv: 'informatör' }, phone: null });
    expect((await staff.post(`/admin/contacts/${contact.id}/delete`)).status).toBe(303);
    await t.http.get(`/api/contacts/${contact.id}`).set(room.auth).expect(404);
  });

  it('creates a contact from the editor and names it on the release, in one transaction', async () => {
    const room = await buildNewsroom(t);
    const staff = await signedIn(room);
    const existing = await buildContact(t, room, { name: 'Aino Aiempi' });
    expect((await staff.get('/admin/releases/new')).text).toContain('Save the draft first');
    const id = await createViaForm(staff, { contactIds: existing.id });
    const editor = await staff.get(`/admin/releases/${id}`);
    expect(editor.text).toContain(`action="/admin/releases/${id}/contacts"`);
    expect(editor.text).toContain('id="f-nc-name"');
    const version = versionOf(editor.text);
    const contactsOfRoom = async () => (await t.http.get(`/api/newsrooms/${room.slug}/contacts`).set(room.auth).expect(200)).body;

    const bad = await staff.post(`/admin/releases/${id}/contacts`, { version, name: '', 'title.fi': 'päällikkö', 'title.sv': '', phone: 'soita', email: 'ei' });
    expect(bad.status).toBe(422);
    for (const field of ['name', 'phone', 'email']) expect(bad.text).toMatch(new RegExp(`id="f-nc-${field}-error"`));
    expect(bad.text).toContain('value="päällikkö"');
    expect(bad.text).toContain('href="#f-nc-email"');

    // A release changed meanwhile: a 409, and no contact is left behind either.
    const stale = await staff.post(`/admin/releases/${id}/contacts`, { version: String(Number(version) - 1), name: 'Ville Välissä', 'title.fi': '', 'title.sv': '', phone: '', email: '' });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('value="Ville Välissä"');
    expect((await contactsOfRoom()).map((c: { name: string }) => c.name)).toEqual(['Aino Aiempi']);

    const ok = await staff.post(`/admin/releases/${id}/contacts`, { version, name: 'Uma Uusi', 'title.fi': 'tiedottaja', 'title.sv': 'informatör', phone: '+358 40 111 2222', email: 'uma@example.org' });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe(`/admin/releases/${id}#f-contactIds`);
    const created = (await contactsOfRoom()).find((c: { name: string }) => c.name === 'Uma Uusi');
    expect(created).toMatchObject({ title: { fi: 'tiedottaja', sv: 'informatör' }, phone: '+358 40 111 2222', email: 'uma@example.org' });
    const api = await t.http.get(`/api/releases/${id}`).set(room.auth).expect(200);
    expect(api.body.contacts.map((c: { id: string }) => c.id)).toEqual([existing.id, created.id]);
    expect((await staff.get(`/admin/releases/${id}`)).text).toMatch(new RegExp(`id="contact-${created.id}" name="contactIds" value="${created.id}" checked`));
  });

  it('changes the newsroom’s texts, languages, zone and links, with errors next to the fields', async () => {
    const room = await buildNewsroom(t);
    const staff = await signedIn(room);
    await staff.get('/admin/settings');
    const bad = await staff.post('/admin/settings', { languages: 'fi, sv', 'name.fi': 'Nimi', 'name.sv': '', 'boilerplate.fi': '', 'boilerplate.sv': '', timezone: 'Mars/Olympus', website: 'ftp://x', social: 'x = @ok' });
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/id="f-timezone-error"/);
    expect(bad.text).toMatch(/id="f-website-error"/);
    const ok = await staff.post('/admin/settings', {
      languages: 'fi, sv, en',
      'name.fi': 'Uusi nimi',
      'name.sv': 'Nytt namn',
      'boilerplate.fi': 'Olemme **kaupunki**.',
      'boilerplate.sv': '',
      timezone: 'Europe/Stockholm',
      website: 'https://example.com',
      social: 'x = @uusi\nmastodon = https://mastodon.example/@uusi',
    });
    expect(ok.status).toBe(303);
    const api = await t.http.get(`/api/newsrooms/${room.slug}`).expect(200);
    expect(api.body).toMatchObject({
      languages: ['fi', 'sv', 'en'],
      name: { fi: 'Uusi nimi', sv: 'Nytt namn' },
      boilerplate: { fi: 'Olemme **kaupunki**.' },
      timezone: 'Europe/Stockholm',
      website: 'https://example.com',
      social: { x: '@uusi', mastodon: 'https://mastodon.example/@uusi' },
    });
  });
});

describe('newsroom logo', () => {
  it('is uploaded in the settings (CSRF as the form’s first field), shown on the site and in the email, and removed', async () => {
    const room = await buildNewsroom(t);
    const staff = await signedIn(room);
    const page = await staff.get('/admin/settings?lang=en');
    expect(page.text).toContain('id="logo-file"');
    expect(page.text).toContain('at most 2\u00a0MB');
    const action = '/admin/settings/logo';
    const logo = await sharp({ create: { width: 120, height: 60, channels: 4, background: '#06cf' } }).png().toBuffer();

    // Without the form's token nothing happens.
    await t.http.post(action).set('Cookie', staff.cookieHeader).attach('file', logo, 'logo.png').expect(403);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const refused = await staff.upload(action, { name: 'logo.svg', content: svg });
    expect(refused.status).toBe(415);
    expect(refused.text).toMatch(/id="logo-file-error"[^>]*>The logo must be a PNG, JPEG or WebP image/);
    expect((await t.http.get(`/api/newsrooms/${room.slug}`).expect(200)).body.logoUrl).toBeNull();

    const uploaded = await staff.upload(action, { name: 'logo.png', content: logo });
    expect([uploaded.status, uploaded.headers.location]).toEqual([303, '/admin/settings?saved=1#logo']);
    const { logoUrl } = (await t.http.get(`/api/newsrooms/${room.slug}`).expect(200)).body;
    const path = new URL(logoUrl).pathname;
    expect((await staff.get('/admin/settings')).text).toContain(`src="${path}"`);
    expect((await t.http.get(path).expect(200)).headers['content-type']).toBe('image/png');
    expect((await t.http.get(`/${room.slug}/fi`).expect(200)).text).toContain(`src="${logoUrl}"`);
    // The email's header: an absolute URL under PUBLIC_URL.
    const release = await buildRelease(t, room);
    expect((await staff.get(`/admin/releases/${release.id}/email/fi`)).text).toContain(`src="${logoUrl}"`);

    expect((await staff.post('/admin/settings/logo/remove')).status).toBe(303);
    expect((await t.http.get(`/api/newsrooms/${room.slug}`).expect(200)).body.logoUrl).toBeNull();
    expect((await staff.get('/admin/settings')).text).not.toContain('/files/logo/');
  });
});

describe('the admin', () => {
  it('creates a newsroom and a token, switches newsroom and revokes the token', async () => {
    const admin = new StaffClient(t);
    const res = await admin.signIn(ADMIN_TOKEN);
    expect(res.headers.location).toBe('/admin/newsrooms');
    // No newsroom picked yet: pages that need one lead to the list.
    expect((await admin.get('/admin/releases')).headers.location).toBe('/admin/newsrooms');
    await admin.get('/admin/newsrooms');
    const bad = await admin.post('/admin/newsrooms', { slug: 'Bad Slug', languages: 'fi', name: '', timezone: 'Europe/Helsinki' });
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/id="f-slug-error"/);
    expect(bad.text).toMatch(/id="f-name-error"/);
    const slug = `admin-made-${Date.now().toString(36)}`;
    expect((await admin.post('/admin/newsrooms', { slug, languages: 'sv, en', name: 'Admins rum', timezone: 'Europe/Helsinki' })).status).toBe(303);
    const settings = await admin.get('/admin/settings');
    expect(settings.text).toContain('Admins rum');

    // Made by a post that redirects (303) to the page, which shows the token once: a
    // reload neither makes another nor shows this one again.
    const created = await admin.post(`/admin/newsrooms/${slug}/tokens`, { name: 'desk' });
    expect([created.status, created.headers.location]).toEqual([303, '/admin/newsrooms']);
    const shown = await admin.get('/admin/newsrooms');
    const token = /<code class="token">([^<]+)<\/code>/.exec(shown.text)![1]!;
    expect(token).toMatch(/^nr_/);
    expect((await admin.get('/admin/newsrooms')).text).not.toContain(token);
    expect((await t.http.get(`/api/newsrooms/${slug}/tokens`).set(t.admin).expect(200)).body.filter((tk: { name: string }) => tk.name === 'desk')).toHaveLength(1);
    // Kept for that one page sealed, never as the token itself.
    await admin.post(`/admin/newsrooms/${slug}/tokens`, { name: 'sealed' });
    const sealed = JSON.stringify(await t.ctx.db.selectFrom('admin_sessions').select('flash').where('flash', 'is not', null).execute());
    expect(sealed).toContain('token.');
    const sealedToken = /<code class="token">([^<]+)<\/code>/.exec((await admin.get('/admin/newsrooms')).text)![1]!;
    expect(sealed).not.toContain(sealedToken);
    expect(sealed).not.toContain(sealedToken.split('.')[1]);
    const staff = new StaffClient(t);
    await staff.signIn(token);
    expect(visibleText((await staff.get('/admin/releases')).text)).toContain('Admins rum');
    // Its last use, in its newsroom's zone, labelled with it.
    const used = await t.ctx.db.selectFrom('api_tokens').select('last_used_at').where('name', '=', 'desk').executeTakeFirstOrThrow();
    const listed = visibleText((await admin.get('/admin/newsrooms?lang=en')).text);
    expect(listed).toContain(`desk last used ${formatDateTime('en', used.last_used_at!, 'Europe/Helsinki')} (Europe/Helsinki)`);
    expect(listed).toContain('sealed not used yet');

    await admin.post('/admin/newsrooms/switch', { slug: newsroom.slug });
    expect((await admin.get('/admin/contacts')).text).toContain(newsroom.body.name.fi);

    const tokenId = /^nr_([0-9a-f-]{36})\./.exec(token)![1]!;
    await admin.get('/admin/newsrooms');
    expect((await admin.post(`/admin/newsrooms/${slug}/tokens/${tokenId}/revoke`)).status).toBe(303);
    expect((await staff.get('/admin/releases')).status).toBe(303);
  });
});

describe('interface language', () => {
  it('follows Accept-Language, and ?lang= switches and is remembered', async () => {
    const staff = new StaffClient(t);
    const sv = await staff.get('/admin/sign-in', { 'Accept-Language': 'sv-FI,sv;q=0.9,en;q=0.5' });
    expect(sv.text).toContain('<html lang="sv">');
    expect(sv.text).toContain('Logga in');
    const en = await staff.get('/admin/sign-in');
    expect(en.text).toContain('<html lang="en">');
    const fi = await staff.get('/admin/sign-in?lang=fi', { 'Accept-Language': 'sv' });
    expect(fi.text).toContain('Kirjaudu sisään');
    expect(staff.cookies.get('nr_admin_lang')).toBe('fi');
    const again = await staff.get('/admin/sign-in', { 'Accept-Language': 'sv' });
    expect(again.text).toContain('<html lang="fi">');
  });
});

// Last: it locks this address out of the sign-in form.
describe('failed sign-ins', () => {
  it('are slowed down, then refused with 429 for the address, even with a good token', async () => {
    const staff = new StaffClient(t);
    await staff.get('/admin/sign-in');
    const durations: number[] = [];
    let last = 0;
    for (let i = 0; i < 8; i++) {
      const started = Date.now();
      last = (await staff.post('/admin/sign-in', { token: `wrong-${i}` })).status;
      durations.push(Date.now() - started);
      expect(last).toBe(401);
    }
    // The first failures are answered at once; later ones wait longer and longer.
    expect(durations[7]!).toBeGreaterThanOrEqual(1200);
    expect(durations[5]!).toBeGreaterThanOrEqual(700);
    const locked = await staff.post('/admin/sign-in', { token: newsroom.token });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(staff.cookies.has(SESSION_COOKIE)).toBe(false);
    t.clock.advance(15 * 60 * 1000 + 1000);
    try {
      expect((await staff.post('/admin/sign-in', { token: newsroom.token })).status).toBe(303);
    } finally {
      t.clock.advance(-(15 * 60 * 1000 + 1000));
    }
  });
});
