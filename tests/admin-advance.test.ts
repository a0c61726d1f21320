import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sendDueAdvanceLinks } from '../src/advance/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink } from './support/smtp.js';
import { StaffClient } from './support/staff.js';

/* The staff app's journalists page and a release's advance access page, through forms. */

let t: TestApp;
let sink: SmtpSink;
let newsroom: NewsroomFixture;
let staff: StaffClient;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ SMTP_URL: sink.url });
  newsroom = await buildNewsroom(t);
  staff = new StaffClient(t);
  await staff.signIn(newsroom.token);
});
afterAll(async () => {
  await t.close();
  await sink.close();
});

describe('staff app: journalists and advance access', () => {
  it('adds, suspends, reactivates and removes journalists on the journalists page', async () => {
    const page = await staff.get('/admin/journalists');
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/admin/journalists"');
    const bad = await staff.post('/admin/journalists', { name: 'Nobody', email: 'not-an-address', languages: 'fi' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('value="Nobody"');
    const added = await staff.post('/admin/journalists', { name: 'Anna Reporter', outlet: 'Radio Example', email: 'anna@example.net', languages: 'sv, fi', note: '' });
    expect(added.status).toBe(303);
    const list = await t.http.get(`/api/newsrooms/${newsroom.slug}/journalists`).set(newsroom.auth).expect(200);
    const anna = list.body.find((j: any) => j.email === 'anna@example.net');
    expect(anna).toMatchObject({ name: 'Anna Reporter', outlet: 'Radio Example', languages: ['sv', 'fi'], status: 'active' });
    expect((await staff.get('/admin/journalists')).text).toContain('Anna Reporter');

    expect((await staff.post(`/admin/journalists/${anna.id}/suspend`)).status).toBe(303);
    expect((await t.http.get(`/api/newsrooms/${newsroom.slug}/journalists/${anna.id}`).set(newsroom.auth)).body.status).toBe('suspended');
    expect((await staff.post(`/admin/journalists/${anna.id}/reactivate`)).status).toBe(303);
    expect((await staff.post(`/admin/journalists/${anna.id}/remove`)).status).toBe(303);
    await t.http.get(`/api/newsrooms/${newsroom.slug}/journalists/${anna.id}`).set(newsroom.auth).expect(404);
    // Without the CSRF token nothing happens.
    expect((await staff.post('/admin/journalists', { _csrf: null, name: 'X', email: 'x@example.net' })).status).toBe(403);
  });

  it('gives advance access to chosen journalists, shows the links and the access log, and revokes', async () => {
    const chosen = (await t.http.post(`/api/newsrooms/${newsroom.slug}/journalists`).set(newsroom.auth).send({ name: 'Chosen One', email: 'chosen@example.net' }).expect(201)).body;
    await t.http.post(`/api/newsrooms/${newsroom.slug}/journalists`).set(newsroom.auth).send({ name: 'Left Out', email: 'left@example.net' }).expect(201);
    const release = await buildRelease(t, newsroom);
    const editor = await staff.get(`/admin/releases/${release.id}`);
    expect(editor.text).toContain(`href="/admin/releases/${release.id}/advance"`);
    const draftPage = await staff.get(`/admin/releases/${release.id}/advance`);
    expect(draftPage.text).toContain('Advance access is given to a scheduled release');

    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: '2031-01-01T10:00:00+02:00' }).expect(200);
    const page = await staff.get(`/admin/releases/${release.id}/advance?lang=en`);
    expect(page.status).toBe(200);
    // The staff app says the log exists.
    expect(page.text).toContain('Every opening of a personal link or one of its files is logged');

    const late = await staff.post(`/admin/releases/${release.id}/advance`, { opensAt: '2031-01-02T10:00', audience: 'chosen', journalists: [chosen.id] });
    expect(late.status).toBe(422);
    const given = await staff.post(`/admin/releases/${release.id}/advance`, { opensAt: '', audience: 'chosen', journalists: [chosen.id] });
    expect(given.status).toBe(303);
    await sendDueAdvanceLinks(t.ctx);
    const mail = sink.received.find((m) => m.to === 'chosen@example.net');
    expect(sink.received.find((m) => m.to === 'left@example.net')).toBeUndefined();
    const link = new URL(/https:\/\/\S+\/advance\/[A-Za-z0-9_-]+/.exec(mail!.mail.text!)![0]).pathname;
    await t.http.get(link).set('User-Agent', 'LoggedBrowser/2.0').expect(200);

    const shown = await staff.get(`/admin/releases/${release.id}/advance`);
    expect(shown.text).toContain('Chosen One');
    expect(shown.text).toContain('Sent, live');
    expect(shown.text).toContain('LoggedBrowser/2.0');

    const state = await t.http.get(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).expect(200);
    expect((await staff.post(`/admin/releases/${release.id}/advance/links/${state.body.links[0].id}/revoke`)).status).toBe(303);
    await t.http.get(link).expect(410);
    expect((await staff.post(`/admin/releases/${release.id}/advance/revoke`)).status).toBe(303);
    expect((await staff.get(`/admin/releases/${release.id}/advance`)).text).toContain('All revoked');
  });

  it('offers the editor of a scheduled release with live links to tell their journalists of the edit, and tells them once', async () => {
    const journalist = (await t.http.post(`/api/newsrooms/${newsroom.slug}/journalists`).set(newsroom.auth).send({ name: 'Told One', email: 'told@example.net' }).expect(201)).body;
    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: '2031-01-01T10:00:00+02:00' }).expect(200);
    // No link out yet: nothing to offer.
    expect((await staff.get(`/admin/releases/${release.id}?lang=en`)).text).not.toContain('name="notifyJournalists"');
    await t.http.put(`/api/releases/${release.id}/advance-access`).set(newsroom.auth).send({ journalists: [journalist.id] }).expect(200);
    await sendDueAdvanceLinks(t.ctx);
    const mails = () => sink.received.filter((m) => m.to === 'told@example.net');
    expect(mails()).toHaveLength(1);

    const editor = await staff.get(`/admin/releases/${release.id}?lang=en`);
    expect(editor.text).toContain('name="notifyJournalists"');
    expect(editor.text).toContain('Email the journalists holding advance links (1)');
    const version = /name="version" value="(\d+)"/.exec(editor.text)![1]!;
    const form = (version: string, title: string, notify: Record<string, string>) => ({
      version,
      type: 'press-release',
      'translations.fi.title': title,
      'translations.fi.lead': 'Kaupunki avaa uuden kirjaston.',
      'translations.fi.body': 'Kirjasto avataan **maanantaina**.',
      'translations.sv.title': 'Nytt bibliotek öppnas',
      'translations.sv.lead': 'Staden öppnar ett nytt bibliotek.',
      'translations.sv.body': 'Biblioteket öppnas **på måndag**.',
      ...notify,
    });
    // Not ticked: nobody is told.
    expect((await staff.post(`/admin/releases/${release.id}`, form(version, 'Kirjasto avataan', {}))).status).toBe(303);
    await sendDueAdvanceLinks(t.ctx);
    expect(mails()).toHaveLength(1);
    const next = /name="version" value="(\d+)"/.exec((await staff.get(`/admin/releases/${release.id}`)).text)![1]!;
    expect((await staff.post(`/admin/releases/${release.id}`, form(next, 'Kirjasto avataan maanantaina', { notifyJournalists: 'yes' }))).status).toBe(303);
    await sendDueAdvanceLinks(t.ctx);
    await sendDueAdvanceLinks(t.ctx);
    expect(mails()).toHaveLength(2);
    expect(mails()[1]!.mail.subject).toMatch(/^Päivitetty ennen julkaisua – EMBARGO – julkaisuvapaa .+: Kirjasto avataan maanantaina$/);
    expect(mails()[1]!.mail.text).toContain(' * Otsikko (FI)');
    expect((await t.http.get(`/api/releases/${release.id}/advance-access`).set(newsroom.auth)).body.updates).toHaveLength(1);
  });

  it("refuses another newsroom's release", async () => {
    const other = await buildNewsroom(t);
    const theirs = await buildRelease(t, other);
    expect((await staff.get(`/admin/releases/${theirs.id}/advance`)).status).toBe(403);
  });
});
