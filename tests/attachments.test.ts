import { createHash, randomInt } from 'node:crypto';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { setImmediate } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import type supertest from 'supertest';
import { pixelBombGif } from '../bench/hostile-inputs.js';
import { BLOB_GRACE_MS, sweepUnusedBlobs } from '../src/attachments/blobs.js';
import { MAX_IMAGE_PIXELS } from '../src/attachments/images.js';
import { cleanFilename } from '../src/attachments/upload.js';
import { startTestApp, TestClock, type TestApp } from './support/app.js';
import { ageBlobs, hasBlob, hasRendition, storedBlobCount, tempFiles } from './support/files.js';
import { buildAttachment, buildNewsroom, buildRelease, minimalPdf, type NewsroomFixture } from './support/factories.js';

// A small upload limit (52 KB), so that going over it is cheap.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ UPLOAD_MAX_MB: '0.05' });
});
afterAll(() => t.close());

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A photo as cameras write it: stored landscape, with EXIF saying "turn 90° clockwise". */
const sidewaysPhoto = () =>
  sharp({ create: { width: 2400, height: 1200, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();

/** A small PNG, different each time. */
const smallPng = () =>
  sharp({ create: { width: 40, height: 30, channels: 4, background: { r: randomInt(256), g: randomInt(256), b: randomInt(256), alpha: 1 } } })
    .png()
    .toBuffer();

/** The path part of a URL the API gave, to request from the test app. */
const local = (url: string) => new URL(url).pathname;

const expectProblem = (res: supertest.Response, status: number) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status });
};

/** Runs the blob clean-up as it would run once the grace period has passed. */
async function sweepLater() {
  await ageBlobs(t, BLOB_GRACE_MS + 1000);
  return sweepUnusedBlobs(t.ctx);
}

async function newRelease(newsroom?: NewsroomFixture) {
  const owner = newsroom ?? (await buildNewsroom(t));
  const release = await buildRelease(t, owner);
  return { newsroom: owner, release, upload: `/api/releases/${release.id}/attachments` };
}

describe('uploading', () => {
  it('takes an image: measures it upright, keeps its hash and makes a WebP rendition', async () => {
    const { newsroom, release, upload } = await newRelease();
    const photo = await sidewaysPhoto();
    const res = await t.http
      .post(upload)
      .set(newsroom.auth)
      .field('caption_fi', ' Kirjaston julkisivu ')
      .field('caption_sv', 'Bibliotekets fasad')
      .field('credit', 'Kuva: Maija')
      .attach('file', photo, { filename: 'C:\\Users\\maija\\julkisivu.jpg', contentType: 'application/octet-stream' })
      .expect(201);
    expect(res.body).toMatchObject({
      filename: 'julkisivu.jpg',
      contentType: 'image/jpeg',
      size: photo.length,
      sha256: sha256(photo),
      width: 1200,
      height: 2400,
      caption: { fi: 'Kirjaston julkisivu', sv: 'Bibliotekets fasad' },
      credit: 'Kuva: Maija',
    });
    expect(res.body.url).toBe(`https://news.example.test/files/${res.body.id}/julkisivu.jpg`);
    expect(res.body.webUrl).toBe(`https://news.example.test/files/${res.body.id}/web`);

    const original = await t.http.get(local(res.body.url)).set(newsroom.auth).buffer(true).expect(200);
    expect(original.headers['content-type']).toBe('image/jpeg');
    expect(Buffer.compare(original.body, photo)).toBe(0);

    const web = await t.http.get(local(res.body.webUrl)).set(newsroom.auth).buffer(true).expect(200);
    expect(web.headers['content-type']).toBe('image/webp');
    expect(web.headers['content-disposition']).toBe('inline; filename=julkisivu.webp');
    const rendition = await sharp(web.body).metadata();
    expect(rendition).toMatchObject({ format: 'webp', width: 800, height: 1600 });
    expect(rendition.exif).toBeUndefined();
    expect(rendition.orientation).toBeUndefined();

    const got = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(got.body.attachments).toEqual([res.body]);
  });

  it('does not enlarge small images', async () => {
    const { newsroom, release } = await newRelease();
    const attachment = await buildAttachment(t, newsroom, release.id, { bytes: await smallPng(), filename: 'logo.png' });
    expect(attachment).toMatchObject({ contentType: 'image/png', width: 40, height: 30 });
    const web = await t.http.get(local(attachment.webUrl)).set(newsroom.auth).buffer(true).expect(200);
    expect(await sharp(web.body).metadata()).toMatchObject({ width: 40, height: 30 });
  });

  it('takes a PDF, offering it inline under its UTF-8 name', async () => {
    const { newsroom, release } = await newRelease();
    const attachment = await buildAttachment(t, newsroom, release.id, { filename: 'Tiedote ä.pdf' });
    expect(attachment).toMatchObject({
      filename: 'Tiedote ä.pdf',
      contentType: 'application/pdf',
      size: minimalPdf.length,
      width: null,
      height: null,
      webUrl: null,
    });
    expect(attachment.url).toBe(`https://news.example.test/files/${attachment.id}/Tiedote%20%C3%A4.pdf`);
    const file = await t.http.get(local(attachment.url)).set(newsroom.auth).expect(200);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toBe(`inline; filename="Tiedote ?.pdf"; filename*=UTF-8''Tiedote%20%C3%A4.pdf`);
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    await t.http.get(`/files/${attachment.id}/web`).set(newsroom.auth).expect(404);
  });

  it('takes legacy Office files by their extension, and only those', async () => {
    const { newsroom, release, upload } = await newRelease();
    const cfb = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);
    const doc = await buildAttachment(t, newsroom, release.id, { bytes: cfb, filename: 'muistio.DOC' });
    expect(doc.contentType).toBe('application/msword');
    const file = await t.http.get(local(doc.url)).set(newsroom.auth).expect(200);
    expect(file.headers['content-disposition']).toMatch(/^attachment; filename=muistio.DOC$/);
    const msi = await t.http.post(upload).set(newsroom.auth).attach('file', cfb, 'setup.msi');
    expectProblem(msi, 415);
  });

  it.each([
    ['text', Buffer.from('just some text, honest')],
    ['SVG', Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ['bare SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>')],
    ['HTML', Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>')],
    ['an executable', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)])],
    ['a ZIP archive', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(40)])],
    ['a JPEG header over garbage', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), Buffer.from('JFIF'), Buffer.alloc(300, 7)])],
  ])('answers 415 for %s disguised as a JPEG', async (_name, bytes) => {
    const { newsroom, release, upload } = await newRelease();
    const res = await t.http.post(upload).set(newsroom.auth).attach('file', bytes, { filename: 'photo.jpg', contentType: 'image/jpeg' });
    expectProblem(res, 415);
    const got = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(got.body.attachments).toEqual([]);
  });

  it('answers 415 for a body that is not multipart', async () => {
    const { newsroom, upload } = await newRelease();
    expectProblem(await t.http.post(upload).set(newsroom.auth).send({ file: 'x' }), 415);
    expectProblem(await t.http.post(upload).set(newsroom.auth).set('Content-Type', 'image/jpeg').send(Buffer.from('x')), 415);
    expectProblem(await t.http.post(upload).set(newsroom.auth), 415);
  });

  it('answers 422 for a form without a file or with unknown fields, 400 for a second file or a malformed body', async () => {
    const { newsroom, upload } = await newRelease();
    const noFile = await t.http.post(upload).set(newsroom.auth).field('caption_fi', 'Kuva');
    expectProblem(noFile, 422);
    expect(noFile.body.errors).toEqual([expect.objectContaining({ path: 'file' })]);

    const two = await t.http.post(upload).set(newsroom.auth).attach('file', minimalPdf, 'a.pdf').attach('file', minimalPdf, 'b.pdf');
    expectProblem(two, 400);

    const unknown = await t.http.post(upload).set(newsroom.auth).field('title', 'x').attach('file', minimalPdf, 'a.pdf');
    expectProblem(unknown, 422);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ path: 'title' })]);

    const broken = await t.http
      .post(upload)
      .set(newsroom.auth)
      .set('Content-Type', 'multipart/form-data; boundary=xyz')
      .send('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 and then it stops');
    expectProblem(broken, 400);
    const noBoundary = await t.http.post(upload).set(newsroom.auth).set('Content-Type', 'multipart/form-data').send('x');
    expectProblem(noBoundary, 400);
  });

  it('checks captions and credit: 422 for a language the newsroom lacks, too long or NUL', async () => {
    const { newsroom, upload } = await newRelease();
    const foreign = await t.http.post(upload).set(newsroom.auth).field('caption_de', 'Fassade').attach('file', minimalPdf, 'a.pdf');
    expectProblem(foreign, 422);
    expect(foreign.body.errors).toEqual([expect.objectContaining({ path: 'caption_de' })]);

    const long = await t.http.post(upload).set(newsroom.auth).field('caption_fi', 'x'.repeat(501)).attach('file', minimalPdf, 'a.pdf');
    expectProblem(long, 422);
    expect(long.body.errors).toEqual([expect.objectContaining({ path: 'caption_fi' })]);

    const nul = await t.http.post(upload).set(newsroom.auth).field('caption_fi', 'a\u0000b').attach('file', minimalPdf, 'a.pdf');
    expectProblem(nul, 422);
    expect(nul.body.errors).toEqual([expect.objectContaining({ path: 'caption_fi' })]);

    const proto = await t.http.post(upload).set(newsroom.auth).field('caption___proto__', 'x').attach('file', minimalPdf, 'a.pdf');
    expectProblem(proto, 422);
    expect(proto.body.errors).toEqual([expect.objectContaining({ path: 'caption___proto__' })]);

    const credit = await t.http.post(upload).set(newsroom.auth).field('credit', 'x'.repeat(5000)).attach('file', minimalPdf, 'a.pdf');
    expectProblem(credit, 422);
    expect(credit.body.errors).toEqual([expect.objectContaining({ path: 'credit' })]);
    expect(tempFiles(t)).toEqual([]);
  });

  it('answers 401 without a token, 403 for another newsroom, 404 for an unknown release', async () => {
    const { newsroom, upload } = await newRelease();
    const other = await buildNewsroom(t);
    expectProblem(await t.http.post(upload).attach('file', minimalPdf, 'a.pdf'), 401);
    expectProblem(await t.http.post(upload).set(other.auth).attach('file', minimalPdf, 'a.pdf'), 403);
    await t.http.post(upload).set(t.admin).attach('file', minimalPdf, 'a.pdf').expect(201);
    const unknown = await t.http
      .post('/api/releases/00000000-0000-4000-8000-000000000000/attachments')
      .set(newsroom.auth)
      .attach('file', minimalPdf, 'a.pdf');
    expectProblem(unknown, 404);
  });

  it('stores the same bytes once, however many attachments name them', async () => {
    const { newsroom, release } = await newRelease();
    const bytes = await smallPng();
    const before = await storedBlobCount(t);
    const first = await buildAttachment(t, newsroom, release.id, { bytes, filename: 'a.png' });
    const second = await buildAttachment(t, newsroom, release.id, { bytes, filename: 'b.png' });
    expect(second.sha256).toBe(first.sha256);
    expect(second.id).not.toBe(first.id);
    expect(await storedBlobCount(t)).toBe(before + 1);

    await t.http.delete(`/api/releases/${release.id}/attachments/${first.id}`).set(newsroom.auth).expect(204);
    await t.http.get(local(second.url)).set(newsroom.auth).expect(200);
    await t.http.get(local(second.webUrl)).set(newsroom.auth).expect(200);
    await t.http.delete(`/api/releases/${release.id}/attachments/${second.id}`).set(newsroom.auth).expect(204);
    // Files go with the clean-up, once unused for the grace period; never in the request.
    expect(await hasBlob(t, first.sha256)).toBe(true);
    await sweepLater();
    expect(await hasBlob(t, first.sha256)).toBe(false);
    expect(await hasRendition(t, first.sha256)).toBe(false);
  });

  it('lists attachments on the release in upload order and shows a published release as updated', async () => {
    const { newsroom, release } = await newRelease();
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    const published = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    t.clock.advance(1000);
    const a = await buildAttachment(t, newsroom, release.id, { filename: 'a.pdf' });
    const b = await buildAttachment(t, newsroom, release.id, { bytes: await smallPng(), filename: 'b.png' });
    const got = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(got.body.attachments.map((x: { id: string }) => x.id)).toEqual([a.id, b.id]);
    expect(got.body.status).toBe('published');
    expect(Date.parse(got.body.updatedAt)).toBeGreaterThan(Date.parse(published.body.updatedAt));
  });

  it('gives concurrent uploads to one release their own places', async () => {
    const { newsroom, release } = await newRelease();
    const uploads = await Promise.all(
      Array.from({ length: 6 }, (_, i) => buildAttachment(t, newsroom, release.id, { filename: `${i}.pdf` })),
    );
    const rows = await t.ctx.db.selectFrom('attachments').select('position').where('release_id', '=', release.id).execute();
    expect(new Set(rows.map((r) => r.position)).size).toBe(uploads.length);
  });

  it('answers 409 for a withdrawn release', async () => {
    const { newsroom, release, upload } = await newRelease();
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).expect(200);
    expectProblem(await t.http.post(upload).set(newsroom.auth).attach('file', minimalPdf, 'a.pdf'), 409);
  });

  it('keeps file names to a base name without control characters', () => {
    expect(cleanFilename('/etc/passwd')).toBe('passwd');
    expect(cleanFilename('..\\..\\boot.ini')).toBe('boot.ini');
    expect(cleanFilename('re\u0000po\u0007rt\n.pdf')).toBe('report.pdf');
    expect(cleanFilename('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(cleanFilename('..')).toBe('attachment');
    expect(cleanFilename('Web')).toBe('attachment');
    expect(cleanFilename(undefined)).toBe('attachment');
    expect(cleanFilename('  ')).toBe('attachment');
    const long = cleanFilename(`${'ä'.repeat(300)}.pdf`);
    expect(Array.from(long)).toHaveLength(200);
    expect(long.endsWith('ä.pdf')).toBe(true);
  });
});

describe('the size limit', () => {
  it('answers 413 for a file over UPLOAD_MAX_MB and keeps nothing of it', async () => {
    const { newsroom, upload } = await newRelease();
    const before = await storedBlobCount(t);
    const big = Buffer.concat([minimalPdf, Buffer.alloc(200 * 1024, 0x20)]);
    const res = await t.http.post(upload).set(newsroom.auth).attach('file', big, 'big.pdf');
    expectProblem(res, 413);
    expect(tempFiles(t)).toEqual([]);
    expect(await storedBlobCount(t)).toBe(before);

    // The connection is still good for the next request, and a file within the limit goes in.
    const fits = Buffer.concat([minimalPdf, Buffer.alloc(40 * 1024, 0x20)]);
    await t.http.post(upload).set(newsroom.auth).attach('file', fits, 'fits.pdf').expect(201);
  });

  it('answers 413 for a form with too many fields', async () => {
    const { newsroom, upload } = await newRelease();
    const req = t.http.post(upload).set(newsroom.auth);
    for (let i = 0; i < 40; i++) req.field(`caption_f${i}`, 'x');
    expectProblem(await req.attach('file', minimalPdf, 'a.pdf'), 413);
  });
});

describe('editing and removing', () => {
  it('changes captions and credit, checking languages', async () => {
    const { newsroom, release } = await newRelease();
    const attachment = await buildAttachment(t, newsroom, release.id, { fields: { caption_fi: 'Vanha', caption_sv: 'Gammal', credit: 'X' } });
    const path = `/api/releases/${release.id}/attachments/${attachment.id}`;
    const res = await t.http.patch(path).set(newsroom.auth).send({ caption: { fi: 'Uusi', sv: '' }, credit: null }).expect(200);
    expect(res.body).toMatchObject({ id: attachment.id, caption: { fi: 'Uusi' }, credit: null });
    expect(res.body.caption).not.toHaveProperty('sv');

    const foreign = await t.http.patch(path).set(newsroom.auth).send({ caption: { en: 'New' } });
    expectProblem(foreign, 422);
    expect(foreign.body.errors).toEqual([expect.objectContaining({ path: 'caption.en' })]);
    expectProblem(await t.http.patch(path).set(newsroom.auth).send({ filename: 'x.pdf' }), 422);
    expectProblem(await t.http.patch(path).set((await buildNewsroom(t)).auth).send({ credit: 'Y' }), 403);

    const got = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(got.body.attachments[0]).toMatchObject({ caption: { fi: 'Uusi' }, credit: null });
  });

  it('removes an attachment: 204, then its file is gone; 404 for one not on the release', async () => {
    const { newsroom, release } = await newRelease();
    const other = await buildRelease(t, newsroom);
    const attachment = await buildAttachment(t, newsroom, release.id, { bytes: Buffer.concat([minimalPdf, Buffer.from('only here')]) });
    await t.http.delete(`/api/releases/${other.id}/attachments/${attachment.id}`).set(newsroom.auth).expect(404);
    await t.http.delete(`/api/releases/${release.id}/attachments/${attachment.id}`).set(newsroom.auth).expect(204);
    await t.http.get(local(attachment.url)).set(newsroom.auth).expect(404);
    await sweepLater();
    expect(await hasBlob(t, attachment.sha256)).toBe(false);
    await t.http.delete(`/api/releases/${release.id}/attachments/${attachment.id}`).set(newsroom.auth).expect(404);
    const got = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(got.body.attachments).toEqual([]);
  });
});

describe('serving files under embargo', () => {
  it('hides files until publication, shows them to staff uncached, and answers 410 after withdrawal', async () => {
    const { newsroom, release } = await newRelease();
    const other = await buildNewsroom(t);
    const attachment = await buildAttachment(t, newsroom, release.id, { bytes: await smallPng(), filename: 'kuva.png' });
    const file = local(attachment.url);
    const web = local(attachment.webUrl);

    for (const url of [file, web]) {
      const hidden = await t.http.get(url);
      expectProblem(hidden, 404);
      expect(hidden.headers['cache-control']).toBe('no-store');
      expectProblem(await t.http.get(url).set(other.auth), 404);
      const staff = await t.http.get(url).set(newsroom.auth).expect(200);
      expect(staff.headers['cache-control']).toBe('private, no-store');
      await t.http.get(url).set(t.admin).expect(200);
    }

    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    for (const url of [file, web]) {
      const open = await t.http.get(url).expect(200);
      expect(open.headers['cache-control']).toBe('public, max-age=300');
      expect(open.headers['x-content-type-options']).toBe('nosniff');
      expect(open.headers['etag']).toMatch(new RegExp(`^"${attachment.sha256}`));
    }
    // The name segment is only for people: any name serves the same file.
    await t.http.get(`/files/${attachment.id}/other-name.png`).expect(200);

    await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).expect(200);
    expectProblem(await t.http.get(file), 410);
    expectProblem(await t.http.get(file).set(other.auth), 410);
    const staff = await t.http.get(file).set(newsroom.auth).expect(200);
    expect(staff.headers['cache-control']).toBe('private, no-store');
  });

  it('opens files of a scheduled release when its time comes, job or no job', async () => {
    const { newsroom, release } = await newRelease();
    const attachment = await buildAttachment(t, newsroom, release.id);
    const publishAt = new Date(t.clock.now().getTime() + 60 * 60 * 1000).toISOString();
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);
    await t.http.get(local(attachment.url)).expect(404);
    t.clock.advance(61 * 60 * 1000);
    await t.http.get(local(attachment.url)).expect(200);
  });

  it('serves byte ranges and answers 304 to a matching ETag', async () => {
    const { newsroom, release } = await newRelease();
    const attachment = await buildAttachment(t, newsroom, release.id);
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    const url = local(attachment.url);
    const size = minimalPdf.length;
    const part = await t.http.get(url).set('Range', 'bytes=0-7').buffer(true).expect(206);
    expect(part.body.toString()).toBe('%PDF-1.4');
    expect(part.headers).toMatchObject({ 'content-range': `bytes 0-7/${size}`, 'content-length': '8', 'accept-ranges': 'bytes' });
    const tail = await t.http.get(url).set('Range', 'bytes=-6').buffer(true).expect(206);
    expect(tail.body.toString()).toBe('%%EOF\n');
    expect(tail.headers['content-range']).toBe(`bytes ${size - 6}-${size - 1}/${size}`);

    const whole = await t.http.get(url).buffer(true).expect(200);
    expect(whole.headers).toMatchObject({ 'content-length': String(size), 'accept-ranges': 'bytes' });
    expect(Buffer.compare(whole.body, minimalPdf)).toBe(0);
    await t.http.get(url).set('If-None-Match', whole.headers['etag']!).expect(304);
    await t.http.get(url).set('If-Modified-Since', whole.headers['last-modified']!).expect(304);
    // Also when the request says no-cache, as Node's fetch does with every conditional request.
    const reload = { 'Cache-Control': 'no-cache', Pragma: 'no-cache' };
    await t.http.get(url).set({ ...reload, 'If-None-Match': whole.headers['etag']! }).expect(304);
    await t.http.get(url).set({ ...reload, 'If-Modified-Since': whole.headers['last-modified']! }).expect(304);
    await t.http.get(url).set({ ...reload, 'If-None-Match': '"other"' }).expect(200);

    // A range past the end: 416, saying the size.
    const outside = await t.http.get(url).set('Range', `bytes=${size}-`);
    expectProblem(outside, 416);
    expect(outside.headers['content-range']).toBe(`bytes */${size}`);
    // A range of another version (If-Range), several ranges, or a malformed one: the whole file.
    const stale = await t.http.get(url).set('Range', 'bytes=0-7').set('If-Range', '"an-older-version"').buffer(true).expect(200);
    expect(stale.body.length).toBe(size);
    const current = await t.http.get(url).set('Range', 'bytes=0-7').set('If-Range', whole.headers['etag']!).expect(206);
    expect(current.headers['content-range']).toBe(`bytes 0-7/${size}`);
    expect((await t.http.get(url).set('Range', 'bytes=0-1,5-6').buffer(true).expect(200)).body.length).toBe(size);
    expect((await t.http.get(url).set('Range', 'pages=1').buffer(true).expect(200)).body.length).toBe(size);

    // HEAD: the same headers, no bytes.
    const head = await t.http.head(url).expect(200);
    expect(head.headers).toMatchObject({ 'content-length': String(size), etag: whole.headers['etag'], 'content-type': 'application/pdf' });
    const headPart = await t.http.head(url).set('Range', 'bytes=2-3').expect(206);
    expect(headPart.headers['content-range']).toBe(`bytes 2-3/${size}`);
  });

  it('answers 404, with nothing of the file in its headers, when the store has lost the bytes', async () => {
    const { newsroom, release } = await newRelease();
    const attachment = await buildAttachment(t, newsroom, release.id, { bytes: Buffer.concat([minimalPdf, Buffer.from(`lost ${randomInt(1e9)}`)]) });
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    await t.ctx.files.removeBlob(attachment.sha256);
    for (const range of [undefined, 'bytes=0-3']) {
      const req = t.http.get(local(attachment.url));
      const res = range ? await req.set('Range', range) : await req;
      expectProblem(res, 404);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['etag'] ?? '').not.toContain(attachment.sha256);
      expect(res.headers['content-disposition']).toBeUndefined();
    }
  });

  it('answers 404 for unknown files', async () => {
    expectProblem(await t.http.get('/files/00000000-0000-4000-8000-000000000000/x.pdf'), 404);
    expectProblem(await t.http.get('/files/not-an-id/x.pdf'), 404);
    expectProblem(await t.http.get('/files/not-an-id/web'), 404);
  });
});

describe('the API document', () => {
  it('describes the upload form and the file routes', async () => {
    const doc = (await t.http.get('/api/openapi.json').expect(200)).body;
    const form = doc.paths['/api/releases/{id}/attachments'].post.requestBody.content['multipart/form-data'].schema;
    expect(form.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(form.required).toEqual(['file']);
    expect(doc.paths['/api/releases/{id}/attachments/{attachmentId}']).toHaveProperty('patch');
    expect(doc.paths['/api/releases/{id}/attachments/{attachmentId}']).toHaveProperty('delete');
    expect(doc.paths['/files/{attachmentId}/{filename}'].get.security).toEqual([]);
    expect(doc.paths['/files/{attachmentId}/web']).toHaveProperty('get');
  });
});

describe('hostile uploads (issue 9)', () => {
  it('refuses an image over 100 megapixels from its header, before decoding it (422)', async () => {
    const { newsroom, upload } = await newRelease();
    const started = Date.now();
    const res = await t.http.post(upload).set(newsroom.auth).attach('file', pixelBombGif(), 'bomb.gif');
    expectProblem(res, 422);
    expect(res.body.errors).toEqual([{ path: 'file', message: expect.stringContaining('16383 x 16383') }]);
    expect(MAX_IMAGE_PIXELS).toBe(100_000_000);
    // Decoding takes seconds; reading the header, milliseconds. (A loose bound, not a timing test.)
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('bounds the whole multipart request, not just the file: a long preamble is a 413', async () => {
    const { newsroom, upload } = await newRelease();
    const boundary = 'xyz';
    const preamble = 'p'.repeat(400_000);
    const body = `${preamble}\r\n--${boundary}\r\nContent-Disposition: form-data; name="credit"\r\n\r\nx\r\n--${boundary}--\r\n`;
    const res = await t.http.post(upload).set(newsroom.auth).set('Content-Type', `multipart/form-data; boundary=${boundary}`).send(body);
    expectProblem(res, 413);
  });

  it('gives a shared blob the Last-Modified of each attachment, not of the first upload anywhere', async () => {
    const bytes = await smallPng();
    const a = await newRelease();
    const b = await newRelease();
    const first = await buildAttachment(t, a.newsroom, a.release.id, { bytes, filename: 'a.png' });
    t.clock.advance(3 * 24 * 3_600_000);
    const second = await buildAttachment(t, b.newsroom, b.release.id, { bytes, filename: 'b.png' });
    const modified = async (url: string, auth: { Authorization: string }) =>
      (await t.http.get(local(url)).set(auth).expect(200)).headers['last-modified'];
    expect(await modified(second.url, b.newsroom.auth)).toBe(new Date(second.createdAt).toUTCString());
    expect(await modified(first.url, a.newsroom.auth)).toBe(new Date(first.createdAt).toUTCString());
    expect(new Date(second.createdAt).toUTCString()).not.toBe(new Date(first.createdAt).toUTCString());
  });
});

describe('blobs: nothing lost, nothing early (issue 9)', () => {
  it('never loses the file of an upload that races with deleting the same bytes and the clean-up', async () => {
    const { newsroom, release } = await newRelease();
    const other = await newRelease();
    for (let round = 0; round < 25; round++) {
      const bytes = Buffer.concat([minimalPdf, Buffer.from(`race ${round} ${randomInt(1e9)}`)]);
      const old = await buildAttachment(t, newsroom, release.id, { bytes });
      // The old upload is past the grace period: only the new upload's claim protects the bytes.
      await ageBlobs(t, BLOB_GRACE_MS + 1000);
      const [, uploaded] = await Promise.all([
        t.http.delete(`/api/releases/${release.id}/attachments/${old.id}`).set(newsroom.auth).expect(204),
        buildAttachment(t, other.newsroom, other.release.id, { bytes }),
        sweepUnusedBlobs(t.ctx),
        sweepUnusedBlobs(t.ctx),
      ]);
      await sweepUnusedBlobs(t.ctx);
      const res = await t.http.get(local(uploaded.url)).set(other.newsroom.auth);
      expect([round, res.status]).toEqual([round, 200]);
      expect(await hasBlob(t, uploaded.sha256)).toBe(true);
    }
  });

  it('deleting a draft leaves its files to the clean-up', async () => {
    const { newsroom, release } = await newRelease();
    const attachment = await buildAttachment(t, newsroom, release.id, { bytes: Buffer.concat([minimalPdf, Buffer.from(`draft ${randomInt(1e9)}`)]) });
    await t.http.delete(`/api/releases/${release.id}`).set(newsroom.auth).expect(204);
    expect(await hasBlob(t, attachment.sha256)).toBe(true);
    expect(await sweepUnusedBlobs(t.ctx)).not.toContain(attachment.sha256);
    expect(await sweepLater()).toContain(attachment.sha256);
    expect(await hasBlob(t, attachment.sha256)).toBe(false);
  });

  it("never deletes a file in the store that this database did not record (another database's)", async () => {
    const foreign = Buffer.from(`another database's bytes ${randomInt(1e9)}`);
    await t.ctx.files.keepBlob(sha256(foreign), foreign);
    await sweepLater();
    expect(await hasBlob(t, sha256(foreign))).toBe(true);
  });
});

describe('blobs across machines whose clocks differ (issue 14)', () => {
  const HOURS = 3_600_000;
  /** The worker role on another machine: the same database and store, its clock `offset` away. */
  const workerWithClock = (offset: number) => {
    const clock = new TestClock();
    clock.advance(offset);
    return { ...t.ctx, clock };
  };

  it("keeps an unused blob for the grace period of the database's clock, whatever the web's and worker's clocks say", async () => {
    const { newsroom, release } = await newRelease();
    const worker = workerWithClock(2 * HOURS);
    t.clock.advance(-2 * HOURS);
    try {
      const attachment = await buildAttachment(t, newsroom, release.id, { bytes: Buffer.concat([minimalPdf, Buffer.from(`skew ${randomInt(1e9)}`)]) });
      await t.http.delete(`/api/releases/${release.id}/attachments/${attachment.id}`).set(newsroom.auth).expect(204);
      expect(await sweepUnusedBlobs(worker)).not.toContain(attachment.sha256);
      expect(await hasBlob(t, attachment.sha256)).toBe(true);
      await ageBlobs(t, BLOB_GRACE_MS + 1000);
      expect(await sweepUnusedBlobs(worker)).toContain(attachment.sha256);
    } finally {
      t.clock.advance(2 * HOURS);
    }
  });

  it('never loses a re-uploaded file to a clean-up running on a worker whose clock is two hours ahead', async () => {
    const { newsroom, release } = await newRelease();
    const worker = workerWithClock(2 * HOURS);
    const lost: number[] = [];
    for (let round = 0; round < 30; round++) {
      const bytes = Buffer.concat([minimalPdf, Buffer.from(`re-upload ${round} ${randomInt(1e9)}`)]);
      const old = await buildAttachment(t, newsroom, release.id, { bytes });
      // The clean-up runs again and again while the attachment is deleted and the same bytes uploaded again.
      let uploading = true;
      const sweeping = (async () => {
        // (Yielding to I/O each time: on SQLite a sweep finds nothing without ever waiting.)
        while (uploading) await Promise.all([sweepUnusedBlobs(worker), setImmediate()]);
      })();
      const [, again] = await Promise.all([
        t.http.delete(`/api/releases/${release.id}/attachments/${old.id}`).set(newsroom.auth).expect(204),
        buildAttachment(t, newsroom, release.id, { bytes }),
      ]).finally(() => {
        uploading = false;
      });
      await sweeping;
      await sweepUnusedBlobs(worker);
      const res = await t.http.get(local(again.url)).set(newsroom.auth);
      if (res.status !== 200 || !(await hasBlob(t, again.sha256))) lost.push(round);
    }
    expect(lost).toEqual([]);
  });
});

describe('temp files', () => {
  it('removes uploads cut off by a crash, and leaves ones under way', async () => {
    const stale = await t.ctx.files.tempPath();
    const fresh = await t.ctx.files.tempPath();
    writeFileSync(stale, 'half an upload');
    writeFileSync(fresh, 'an upload under way');
    const longAgo = new Date(Date.now() - 7 * 3_600_000);
    utimesSync(stale, longAgo, longAgo);

    await t.ctx.files.removeStaleTemp(3_600_000);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });
});
