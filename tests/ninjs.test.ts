import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { ninjsErrors } from './support/ninjs.js';

/*
 * Releases as IPTC ninjs 2.2 for wire services, each document checked against IPTC's
 * published JSON Schema: published, with a press image, multilingual, corrected,
 * withdrawn (canceled), the newsroom's list, and embargo.
 */

const BASE = 'https://news.example.test';
let t: TestApp;
let newsroom: NewsroomFixture;
let contact: Record<string, any>;

const path = (url: string) => url.slice(BASE.length);
const get = (url: string) => t.http.get(path(url));

/** The document at `url`, after checking that IPTC's schema takes it. */
async function ninjs(url: string, status = 200) {
  const res = await get(url).expect(status);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(ninjsErrors(res.body)).toEqual([]);
  return res.body as Record<string, any>;
}

const publish = async (id: string) =>
  (await t.http.post(`/api/releases/${id}/publish`).set(t.admin).expect(200)).body as Record<string, any>;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  contact = await buildContact(t, newsroom);
});

afterAll(async () => {
  await t.close();
});

describe('the schema check itself', () => {
  it('refuses what ninjs 2.2 does not allow', () => {
    expect(ninjsErrors({ uri: 'urn:x:1', pubstatus: 'withdrawn' })).not.toEqual([]);
    expect(ninjsErrors({ uri: 'urn:x:1', body_html: '<p>1.x</p>' })).not.toEqual([]);
    expect(ninjsErrors({ headlines: [{ value: 'no uri' }] })).not.toEqual([]);
    expect(ninjsErrors({ uri: 'urn:x:1', pubstatus: 'usable' })).toEqual([]);
  });
});

describe('a public release as ninjs', () => {
  it('in each of its languages: its text, keywords, contacts and source, one document per language', async () => {
    const created = await buildRelease(t, newsroom, { contactIds: [contact.id] });
    expect(created.links.ninjs).toEqual({
      fi: `${BASE}/${newsroom.slug}/fi/${created.id}/ninjs.json`,
      sv: `${BASE}/${newsroom.slug}/sv/${created.id}/ninjs.json`,
    });
    const release = await publish(created.id);

    const fi = await ninjs(release.links.ninjs.fi);
    expect(fi).toMatchObject({
      standard: { name: 'ninjs', version: '2.2', schema: 'http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json' },
      uri: `urn:newsroom:release:${release.id}:fi`,
      type: 'text',
      version: '1',
      firstcreated: release.publishedAt,
      versioncreated: release.publishedAt,
      pubstatus: 'usable',
      language: 'fi',
      genres: [{ name: 'Tiedote', literal: 'press-release' }],
      headlines: [{ role: 'main', value: 'Uusi kirjasto avataan' }],
      descriptions: [{ role: 'summary', value: 'Kaupunki avaa uuden kirjaston.' }],
      bodies: [{ role: 'main', contenttype: 'text/html', value: release.translations.fi.bodyHtml, wordcount: 3 }],
      subjects: [{ name: 'kirjasto' }, { name: 'kulttuuri' }],
      by: 'Länsi-Esimerkin kaupunki',
      infosources: [
        { name: 'Länsi-Esimerkin kaupunki', uri: newsroom.body.links.web.fi, contactinfo: [{ type: 'web', value: 'https://example.org' }] },
      ],
      people: [
        {
          name: 'Maija Meikäläinen',
          rel: 'contact',
          contactinfo: [
            { type: 'phone', role: 'work', value: '+358 40 123 4567' },
            { type: 'email', role: 'work', value: 'maija@example.org' },
          ],
        },
      ],
      renditions: [{ name: 'page', href: release.links.web.fi, contenttype: 'text/html', title: 'Uusi kirjasto avataan' }],
    });
    expect(fi.associations).toBeUndefined();

    const sv = await ninjs(release.links.ninjs.sv);
    expect(sv).toMatchObject({
      uri: `urn:newsroom:release:${release.id}:sv`,
      language: 'sv',
      genres: [{ name: 'Pressmeddelande' }],
      headlines: [{ value: 'Nytt bibliotek öppnas' }],
      subjects: [{ name: 'bibliotek' }],
      by: 'Västra Exempel stad',
    });
    expect(JSON.stringify(sv)).not.toContain('kirjasto');
  });

  it('with a press image: an associated picture with its original and its web-size rendition', async () => {
    const created = await buildRelease(t, newsroom);
    const png = await sharp({ create: { width: 2400, height: 1350, channels: 3, background: { r: 9, g: 80, b: 160 } } }).png().toBuffer();
    const image = await buildAttachment(t, newsroom, created.id, {
      bytes: png,
      filename: 'kirjasto.png',
      fields: { caption_fi: 'Uusi kirjasto', credit: 'Kuva: Kaupunki' },
    });
    await buildAttachment(t, newsroom, created.id); // a PDF: no picture
    const release = await publish(created.id);

    const doc = await ninjs(release.links.ninjs.fi);
    expect(doc.associations).toEqual([
      {
        name: 'picture1',
        uri: `urn:newsroom:attachment:${image.id}`,
        type: 'picture',
        representationtype: 'partial',
        descriptions: [{ role: 'caption', value: 'Uusi kirjasto' }],
        by: 'Kuva: Kaupunki',
        renditions: [
          { name: 'original', href: image.url, contenttype: 'image/png', width: 2400, height: 1350, sizeinbytes: image.size },
          { name: 'web', href: image.webUrl, contenttype: 'image/webp', width: 1600, height: 900 },
        ],
      },
    ]);
    // The renditions are what their URLs serve.
    const original = await get(image.url).buffer(true).expect(200);
    expect(original.body.length).toBe(image.size);
    const web = await get(image.webUrl).buffer(true).expect(200);
    expect(web.headers['content-type']).toBe('image/webp');
    expect(await sharp(web.body).metadata()).toMatchObject({ width: 1600, height: 900 });
    // No caption in Swedish: none given.
    expect((await ninjs(release.links.ninjs.sv)).associations[0].descriptions).toBeUndefined();
  });

  it('a correction raises the version; edits before publication do not', async () => {
    const created = await buildRelease(t, newsroom);
    await t.http
      .patch(`/api/releases/${created.id}`)
      .set(newsroom.auth)
      .send({ translations: { fi: { title: 'Luonnoksen otsikko' } } })
      .expect(200);
    const release = await publish(created.id);
    expect((await ninjs(release.links.ninjs.fi)).version).toBe('1');

    t.clock.advance(60_000);
    const corrected = await t.http
      .patch(`/api/releases/${created.id}`)
      .set(newsroom.auth)
      .send({ translations: { fi: { title: 'Korjattu otsikko' } }, change: { kind: 'minor' } })
      .expect(200);
    const doc = await ninjs(release.links.ninjs.fi);
    expect(doc).toMatchObject({
      version: '2',
      firstcreated: release.publishedAt,
      versioncreated: corrected.body.updatedAt,
      headlines: [{ value: 'Korjattu otsikko' }],
    });
    expect(Date.parse(doc.versioncreated)).toBeGreaterThan(Date.parse(doc.firstcreated));

    // A new image is a correction too: the item now has it.
    t.clock.advance(60_000);
    await buildAttachment(t, newsroom, created.id, { bytes: await sharp({ create: { width: 20, height: 10, channels: 3, background: '#000' } }).png().toBuffer(), filename: 'a.png' });
    expect(await ninjs(release.links.ninjs.fi)).toMatchObject({ version: '3', associations: [{ type: 'picture' }] });
  });

  it('withdrawn: 410, as its pages, with the item canceled in a later version and nothing of its content', async () => {
    const release = await publish((await buildRelease(t, newsroom, { contactIds: [contact.id] })).id);
    await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ keywords: { fi: ['korjaus'] }, change: { kind: 'minor' } }).expect(200);
    expect((await ninjs(release.links.ninjs.fi)).version).toBe('2');
    t.clock.advance(1000);
    const withdrawn = (await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).expect(200)).body;

    for (const lang of ['fi', 'sv']) {
      const canceled = await ninjs(release.links.ninjs[lang], 410);
      expect(canceled).toEqual({
        standard: { name: 'ninjs', version: '2.2', schema: 'http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json' },
        uri: `urn:newsroom:release:${release.id}:${lang}`,
        version: '3',
        versioncreated: withdrawn.withdrawnAt,
        pubstatus: 'canceled',
      });
    }
    await get(release.links.web.fi).expect(410);
    expect((await get(newsroom.body.links.ninjs.fi).expect(200)).text).not.toContain(release.id);
  });

  it('answers conditional requests, like the feeds', async () => {
    const release = await publish((await buildRelease(t, newsroom)).id);
    const first = await get(release.links.ninjs.fi).expect(200);
    expect(first.headers.etag).toMatch(/^"/);
    expect(first.headers['cache-control']).toBe('public, no-cache');
    await get(release.links.ninjs.fi).set('If-None-Match', first.headers.etag!).expect(304);
    await get(release.links.ninjs.fi).set({ 'If-None-Match': first.headers.etag!, 'Cache-Control': 'no-cache' }).expect(304);
  });

  it('is 404 at an address the release is not at: another newsroom, a language it lacks, an unknown id', async () => {
    const finnishOnly = await publish(
      (await buildRelease(t, newsroom, { translations: { fi: { title: 'Vain suomeksi' } }, keywords: {} })).id,
    );
    await ninjs(finnishOnly.links.ninjs.fi);
    await get(`${BASE}/${newsroom.slug}/sv/${finnishOnly.id}/ninjs.json`).expect(404);
    const other = await buildNewsroom(t);
    await get(`${BASE}/${other.slug}/fi/${finnishOnly.id}/ninjs.json`).expect(404);
    await get(`${BASE}/${newsroom.slug}/fi/00000000-0000-4000-8000-000000000000/ninjs.json`).expect(404);
    await get(`${BASE}/no-such-newsroom/fi/ninjs.json`).expect(404);
    await get(`${BASE}/${newsroom.slug}/de/ninjs.json`).expect(404);
  });
});

describe("a newsroom's ninjs list", () => {
  it('the latest public releases in one language, newest first, each a valid ninjs item', async () => {
    const fresh = await buildNewsroom(t);
    const first = await publish((await buildRelease(t, fresh)).id);
    t.clock.advance(1000);
    const fiOnly = await publish((await buildRelease(t, fresh, { translations: { fi: { title: 'Toinen' } }, keywords: {} })).id);
    await buildRelease(t, fresh); // a draft

    expect(fresh.body.links.ninjs).toEqual({ fi: `${BASE}/${fresh.slug}/fi/ninjs.json`, sv: `${BASE}/${fresh.slug}/sv/ninjs.json` });
    const res = await get(fresh.body.links.ninjs.fi).expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const items = res.body as Record<string, any>[];
    expect(items.map((item) => item.uri)).toEqual([`urn:newsroom:release:${fiOnly.id}:fi`, `urn:newsroom:release:${first.id}:fi`]);
    for (const item of items) expect(ninjsErrors(item)).toEqual([]);

    const sv = (await get(fresh.body.links.ninjs.sv).expect(200)).body as Record<string, any>[];
    expect(sv.map((item) => item.uri)).toEqual([`urn:newsroom:release:${first.id}:sv`]);
    expect(sv[0]!.language).toBe('sv');
  });
});

describe('embargo', () => {
  it('before its time a release is 404 exactly like an unknown one and in no list; at its time in both, with no job run', async () => {
    const fresh = await buildNewsroom(t);
    const created = await buildRelease(t, fresh, { translations: { fi: { title: 'Salainen' } }, keywords: {} });
    const publishAt = new Date(t.clock.now().getTime() + 60_000).toISOString();
    await t.http.post(`/api/releases/${created.id}/schedule`).set(fresh.auth).send({ publishAt }).expect(200);
    const unknownId = '00000000-0000-4000-8000-000000000000';

    const embargoed = await get(created.links.ninjs.fi).expect(404);
    const unknown = await get(created.links.ninjs.fi.replace(created.id, unknownId)).expect(404);
    expect(embargoed.headers['content-type']).toBe(unknown.headers['content-type']);
    expect(embargoed.headers['cache-control']).toBe('no-store');
    expect(embargoed.text.replace(created.id, unknownId)).toBe(unknown.text);
    expect(embargoed.text).not.toContain('Salainen');

    const list = await get(fresh.body.links.ninjs.fi).expect(200);
    expect(list.body).toEqual([]);
    // No cache may reuse the list without asking (past the publication time), and nothing counts down to it.
    expect(list.headers['cache-control']).toBe('public, no-cache');

    t.clock.advance(61_000);
    expect((await ninjs(created.links.ninjs.fi)).headlines[0].value).toBe('Salainen');
    expect(((await get(fresh.body.links.ninjs.fi).expect(200)).body as unknown[]).length).toBe(1);
    const row = await t.ctx.db.selectFrom('releases').select('status').where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('scheduled');
  });
});
