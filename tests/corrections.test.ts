import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asText, startTestApp, type TestApp } from './support/app.js';
import { expectValidHtml } from './support/html.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';

/*
 * Corrections as events: an edit of a published release says whether it is a correction
 * (with a public note per language) or a minor edit; the API, the page, its JSON-LD and
 * the feeds show it. A withdrawal may give a public reason, shown on the 410 page.
 */

const BASE = 'https://news.example.test';
let t: TestApp;
let newsroom: NewsroomFixture;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
});
afterAll(() => t.close());

const path = (url: string) => url.slice(BASE.length);
const publish = async (id: string) => (await t.http.post(`/api/releases/${id}/publish`).set(newsroom.auth).expect(200)).body as Record<string, any>;
const patch = (id: string, body: Record<string, unknown>) => t.http.patch(`/api/releases/${id}`).set(newsroom.auth).send(body);
const jsonLdOf = (html: string) =>
  JSON.parse(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html)![1]!) as Record<string, any>;
const note = { fi: 'Avajaispäivä korjattu tiistaiksi.', sv: 'Öppningsdagen rättad till tisdag.' };

describe('editing a published release', () => {
  it('takes an edit that does not say its kind as a minor edit (as the API always did)', async () => {
    const release = await publish((await buildRelease(t, newsroom)).id);
    const edited = (await patch(release.id, { translations: { fi: { lead: 'Uusi johdanto.' } } }).expect(200)).body;
    expect(edited.status).toBe('published');
    expect(edited.corrections).toEqual([expect.objectContaining({ kind: 'minor', fields: ['translations.fi.lead'], note: {} })]);
  });

  it('needs a correction to have a note in each language, and a minor edit none', async () => {
    const release = await publish((await buildRelease(t, newsroom)).id);
    const fi = { body: 'Kirjasto avataan **tiistaina**.' };

    const noSv = await patch(release.id, { translations: { fi }, change: { kind: 'correction', note: { fi: note.fi } } }).expect(422);
    expect(noSv.body.errors).toEqual([expect.objectContaining({ path: 'change.note.sv' })]);
    const foreign = await patch(release.id, { translations: { fi }, change: { kind: 'correction', note: { ...note, en: 'x' } } }).expect(422);
    expect(foreign.body.errors).toEqual([expect.objectContaining({ path: 'change.note.en' })]);
    const minorWithNote = await patch(release.id, { translations: { fi }, change: { kind: 'minor', note } }).expect(422);
    expect(minorWithNote.body.errors[0].path).toMatch(/^change/);
    // Nothing of the refused edits was written.
    expect((await t.http.get(`/api/releases/${release.id}`).expect(200)).body).toMatchObject({ revision: 1, corrections: [] });

    t.clock.advance(60_000);
    const corrected = (await patch(release.id, { translations: { fi }, change: { kind: 'correction', note } }).expect(200)).body;
    expect(corrected).toMatchObject({ status: 'published', revision: 2, withdrawal: null });
    expect(corrected.corrections).toEqual([
      { id: expect.any(String), kind: 'correction', at: corrected.updatedAt, revision: 2, fields: ['translations.fi.body'], note },
    ]);

    t.clock.advance(60_000);
    const minor = (await patch(release.id, { translations: { sv: { title: 'Nytt bibliotek öppnar' } }, keywords: { fi: ['kirjasto'] }, change: { kind: 'minor' } }).expect(200)).body;
    expect(minor.revision).toBe(3);
    expect(minor.corrections[1]).toEqual({ id: expect.any(String), kind: 'minor', at: minor.updatedAt, revision: 3, fields: ['translations.sv.title', 'keywords.fi'], note: {} });

    // An edit that changes nothing records nothing.
    const same = (await patch(release.id, { translations: { fi }, change: { kind: 'minor' } }).expect(200)).body;
    expect(same).toEqual(minor);

    // The public API shows them too.
    expect((await t.http.get(`/api/releases/${release.id}`).expect(200)).body.corrections).toHaveLength(2);
  });

  it('refuses a kind for a release not yet public, and edits it as before', async () => {
    const draft = await buildRelease(t, newsroom);
    const refused = await patch(draft.id, { type: 'news', change: { kind: 'minor' } }).expect(422);
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: 'change' })]);
    const edited = (await patch(draft.id, { type: 'news' }).expect(200)).body;
    expect(edited).toMatchObject({ type: 'news', revision: 1, corrections: [] });
  });

  it('shows the corrections on the page in its language, in JSON-LD, and marks the feeds and sitemap', async () => {
    const release = await publish((await buildRelease(t, newsroom)).id);
    t.clock.advance(3_600_000);
    const corrected = (await patch(release.id, { translations: { fi: { lead: 'Kaupunki avaa uuden kirjaston tiistaina.' } }, change: { kind: 'correction', note } }).expect(200)).body;
    const at = corrected.corrections[0].at;

    const fi = (await t.http.get(path(corrected.links.web.fi)).expect(200)).text;
    await expectValidHtml(fi);
    const heading = fi.indexOf('<h1>');
    const list = fi.indexOf('class="corrections"');
    expect(list).toBeGreaterThan(heading);
    expect(list).toBeLessThan(fi.indexOf('class="lead"'));
    expect(fi).toContain('Korjaukset</h2>');
    expect(fi).toContain(`<time datetime="${at}">`);
    expect(fi).toContain(note.fi);
    expect(fi).not.toContain(note.sv);
    const sv = (await t.http.get(path(corrected.links.web.sv)).expect(200)).text;
    expect(sv).toContain('Rättelser</h2>');
    expect(sv).toContain(note.sv);
    expect(jsonLdOf(fi)).toMatchObject({
      datePublished: release.publishedAt,
      dateModified: at,
      correction: [{ '@type': 'CorrectionComment', text: note.fi, datePublished: at }],
    });

    // A minor edit is no correction: the list keeps the one.
    t.clock.advance(1000);
    const retitled = (await patch(release.id, { translations: { fi: { title: 'Uusi kirjasto avataan!' } }, change: { kind: 'minor' } }).expect(200)).body;
    const after = (await t.http.get(path(retitled.links.web.fi)).expect(200)).text;
    expect(after.match(/<li><time/g)?.length).toBe(1);

    const atom = (await asText(t.http.get(`/${newsroom.slug}/fi/atom.xml`)).expect(200)).body as string;
    const entry = atom.split('<entry').find((e) => e.includes(release.id))!;
    expect(entry).toContain(`<published>${release.publishedAt}</published>`);
    expect(entry).not.toContain(`<updated>${release.publishedAt}</updated>`);
    const json = JSON.parse((await asText(t.http.get(`/${newsroom.slug}/fi/feed.json`)).expect(200)).body as string);
    const item = json.items.find((i: { id: string }) => i.id.includes(release.id));
    expect(Date.parse(item.date_modified)).toBeGreaterThan(Date.parse(item.date_published));
    expect(item.id).toBe(`urn:newsroom:release:${release.id}:fi`);
    const rss = (await asText(t.http.get(`/${newsroom.slug}/fi/rss.xml`)).expect(200)).body as string;
    expect(rss).toContain(`urn:newsroom:release:${release.id}:fi</guid>`);
    const sitemap = (await asText(t.http.get('/sitemap.xml')).expect(200)).body as string;
    const url = sitemap.split('<url>').find((u) => u.includes(`/fi/${release.id}/`))!;
    expect(Date.parse(/<lastmod>([^<]+)</.exec(url)![1]!)).toBeGreaterThan(Date.parse(release.publishedAt));

    // ninjs: one version more per edit while public.
    const ninjs = (await t.http.get(path(corrected.links.ninjs.fi)).expect(200)).body;
    expect(ninjs.version).toBe('3');
  });
});

describe('withdrawing a release', () => {
  it('gives the public reason on the 410 page in its language, and the feeds drop it', async () => {
    const release = await publish((await buildRelease(t, newsroom)).id);
    const foreign = await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).send({ reason: { en: 'No.' } }).expect(422);
    expect(foreign.body.errors).toEqual([expect.objectContaining({ path: 'reason.en' })]);
    const reason = { fi: 'Tiedote julkaistiin vahingossa <ennen aikojaan>.' };
    const withdrawn = (await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).send({ reason }).expect(200)).body;
    expect(withdrawn).toMatchObject({ status: 'withdrawn', withdrawal: { id: expect.any(String), at: withdrawn.withdrawnAt, reason } });

    const fi = await t.http.get(path(release.links.web.fi)).expect(410);
    await expectValidHtml(fi.text);
    expect(fi.text).toContain('Tiedote julkaistiin vahingossa &lt;ennen aikojaan&gt;.');
    // Swedish has no reason of its own: the Finnish one stands in.
    expect((await t.http.get(path(release.links.web.sv)).expect(410)).text).toContain('Orsak: Tiedote julkaistiin');
    await t.http.get(`/api/releases/${release.id}`).expect(410);

    for (const feed of ['atom.xml', 'rss.xml', 'feed.json']) {
      expect((await asText(t.http.get(`/${newsroom.slug}/fi/${feed}`)).expect(200)).body).not.toContain(release.id);
    }
    expect((await asText(t.http.get('/sitemap.xml')).expect(200)).body).not.toContain(release.id);
  });

  it('without a reason, and without a body, as before', async () => {
    const release = await publish((await buildRelease(t, newsroom)).id);
    const withdrawn = (await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).expect(200)).body;
    expect(withdrawn.withdrawal).toEqual({ id: expect.any(String), at: withdrawn.withdrawnAt, reason: {} });
    const page = (await t.http.get(path(release.links.web.fi)).expect(410)).text;
    expect(page).not.toContain('class="reason"');
    expect((await patch(release.id, { type: 'news', change: { kind: 'minor' } }).expect(409)).body.status).toBe(409);
  });
});
