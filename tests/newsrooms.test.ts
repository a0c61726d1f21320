import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { unusedBlobs } from '../src/attachments/repository.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, minimalPdf } from './support/factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('newsrooms', () => {
  it('creates a newsroom with absolute links per language', async () => {
    const res = await t.http
      .post('/api/newsrooms')
      .set(t.admin)
      .send({
        slug: 'west-example',
        languages: ['fi', 'sv'],
        name: { fi: 'Länsi', sv: 'Väst' },
        boilerplate: { fi: 'Tietoa', sv: 'Om oss' },
        timezone: 'Europe/Helsinki',
        website: 'https://example.org',
        social: { x: '@west', facebook: 'https://facebook.com/west' },
      })
      .expect(201);
    expect(res.body).toMatchObject({
      slug: 'west-example',
      languages: ['fi', 'sv'],
      name: { fi: 'Länsi', sv: 'Väst' },
      boilerplate: { fi: 'Tietoa', sv: 'Om oss' },
      timezone: 'Europe/Helsinki',
      website: 'https://example.org',
      social: { x: '@west', facebook: 'https://facebook.com/west' },
      links: {
        web: { fi: 'https://news.example.test/west-example/fi', sv: 'https://news.example.test/west-example/sv' },
        rss: { fi: 'https://news.example.test/west-example/fi/rss.xml', sv: 'https://news.example.test/west-example/sv/rss.xml' },
      },
    });
    const got = await t.http.get('/api/newsrooms/west-example').expect(200);
    expect(got.body).toEqual(res.body);
  });

  it('answers 409 for a slug that exists', async () => {
    const { slug } = await buildNewsroom(t);
    const res = await t.http
      .post('/api/newsrooms')
      .set(t.admin)
      .send({ slug, languages: ['fi'], name: { fi: 'x' } })
      .expect(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 409, title: 'Conflict' });
  });

  it('only lets the admin token create newsrooms', async () => {
    const newsroom = await buildNewsroom(t);
    const body = { slug: 'not-mine', languages: ['fi'], name: { fi: 'x' } };
    await t.http.post('/api/newsrooms').send(body).expect(401);
    await t.http.post('/api/newsrooms').set('Authorization', 'Bearer nope').send(body).expect(401);
    await t.http.post('/api/newsrooms').set(newsroom.auth).send(body).expect(403);
  });

  it('rejects names in languages the newsroom lacks with 422 and the path', async () => {
    const res = await t.http
      .post('/api/newsrooms')
      .set(t.admin)
      .send({ slug: 'lang-check', languages: ['fi'], name: { fi: 'x', de: 'y' } })
      .expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'name.de' })]);
  });

  it('answers 422 naming each field that breaks a rule, and 400 for a body that is no JSON object', async () => {
    const res = await t.http
      .post('/api/newsrooms')
      .set(t.admin)
      .send({ slug: 'Bad Slug!', languages: ['finnish'], name: {}, timezone: 'Mars/Olympus', website: 'javascript:alert(1)', colour: 'red' })
      .expect(422);
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['slug', 'languages.0', 'timezone', 'website', 'colour']));

    const notJson = await t.http.post('/api/newsrooms').set(t.admin).set('Content-Type', 'application/json').send('{"slug": ').expect(400);
    expect(notJson.body.detail).toMatch(/not valid JSON/);
    await t.http.post('/api/newsrooms').set(t.admin).send(['west-example']).expect(400);
    const latin1 = Buffer.concat([Buffer.from('{"slug":"x","languages":["fi"],"name":{"fi":"'), Buffer.from([0xe4]), Buffer.from('"}}')]);
    const notUtf8 = await t.http
      .post('/api/newsrooms')
      .set(t.admin)
      .set('Content-Type', 'application/json')
      .serialize((bytes) => bytes) // raw bytes, not re-encoded as JSON
      .send(latin1)
      .expect(400);
    expect(notUtf8.body.detail).toMatch(/UTF-8/);
  });

  it('lets a newsroom token update its own newsroom only', async () => {
    const a = await buildNewsroom(t);
    const b = await buildNewsroom(t);
    const res = await t.http
      .patch(`/api/newsrooms/${a.slug}`)
      .set(a.auth)
      .send({ boilerplate: { sv: 'Ny text' }, languages: ['fi', 'sv', 'en'], name: { en: 'West' } })
      .expect(200);
    expect(res.body.boilerplate.sv).toBe('Ny text');
    expect(res.body.languages).toEqual(['fi', 'sv', 'en']);
    expect(res.body.links.web.en).toBe(`https://news.example.test/${a.slug}/en`);
    await t.http.patch(`/api/newsrooms/${a.slug}`).set(b.auth).send({ timezone: 'UTC' }).expect(403);
  });
});

describe('brand colour', () => {
  it('takes a colour white text reads on (WCAG AA, 4.5:1), refuses a lighter one with 422, and shows it on pages and in email', async () => {
    const room = await buildNewsroom(t, { brandColor: '#7A1F5C' });
    expect(room.body.brandColor).toBe('#7a1f5c');
    // #777777 gives white text 4.48:1, just under; #767676 4.54:1, just over.
    const tooLight = await t.http.patch(`/api/newsrooms/${room.slug}`).set(room.auth).send({ brandColor: '#777777' }).expect(422);
    expect(tooLight.body.errors).toEqual([{ path: 'brandColor', message: expect.stringMatching(/too light.*4\.5:1 \(WCAG AA\)/) }]);
    const notColour = await t.http.patch(`/api/newsrooms/${room.slug}`).set(room.auth).send({ brandColor: 'purple' }).expect(422);
    expect(notColour.body.errors).toEqual([{ path: 'brandColor', message: expect.stringMatching(/#rrggbb/) }]);
    await t.http.patch(`/api/newsrooms/${room.slug}`).set(room.auth).send({ brandColor: '#767676' }).expect(200);
    await t.http.patch(`/api/newsrooms/${room.slug}`).set(room.auth).send({ brandColor: '#7a1f5c' }).expect(200);

    const page = (await t.http.get(`/${room.slug}/fi`).expect(200)).text;
    const href = /<link rel="stylesheet" href="https:\/\/news\.example\.test(\/[^"]+\/brand\.css\?c(?:=|&#x3D;)7a1f5c)">/.exec(page)?.[1]?.replace('&#x3D;', '=');
    expect(href).toBeDefined();
    const css = await t.http.get(href!).expect(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.text).toContain('--accent: #7a1f5c;');

    const cleared = await t.http.patch(`/api/newsrooms/${room.slug}`).set(room.auth).send({ brandColor: null }).expect(200);
    expect(cleared.body.brandColor).toBeNull();
    expect((await t.http.get(`/${room.slug}/fi`).expect(200)).text).not.toContain('brand.css');
    await t.http.get(`/${room.slug}/brand.css`).expect(404);
  });
});

describe('languages in use', () => {
  it('keeps a language that releases are written in or have keywords in', async () => {
    const newsroom = await buildNewsroom(t);
    await buildRelease(t, newsroom, { translations: { fi: { title: 'Otsikko' } }, keywords: { sv: ['nyckel'] } });
    const res = await t.http.patch(`/api/newsrooms/${newsroom.slug}`).set(newsroom.auth).send({ languages: ['fi'] }).expect(422);
    expect(res.body.errors).toEqual([{ path: 'languages', message: 'releases use "sv"' }]);
    await t.http.patch(`/api/newsrooms/${newsroom.slug}`).set(newsroom.auth).send({ languages: ['fi', 'sv', 'en'] }).expect(200);
  });
});

describe('tokens', () => {
  it('issues tokens that work until revoked, storing only a hash', async () => {
    const newsroom = await buildNewsroom(t);
    const created = await t.http.post(`/api/newsrooms/${newsroom.slug}/tokens`).set(t.admin).send({ name: 'second' }).expect(201);
    const auth = { Authorization: `Bearer ${created.body.token}` };
    await t.http.get(`/api/newsrooms/${newsroom.slug}/releases`).set(auth).expect(200);

    const stored = await t.ctx.db.selectFrom('api_tokens').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(created.body.token.split('.')[1]);

    const listed = await t.http.get(`/api/newsrooms/${newsroom.slug}/tokens`).set(t.admin).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);

    await t.http.delete(`/api/newsrooms/${newsroom.slug}/tokens/${created.body.id}`).set(t.admin).expect(204);
    await t.http.get(`/api/newsrooms/${newsroom.slug}/releases`).set(auth).expect(401);
    await t.http.delete(`/api/newsrooms/${newsroom.slug}/tokens/${created.body.id}`).set(t.admin).expect(404);
  });

  it('keeps token management to the admin', async () => {
    const newsroom = await buildNewsroom(t);
    await t.http.post(`/api/newsrooms/${newsroom.slug}/tokens`).set(newsroom.auth).send({ name: 'x' }).expect(403);
  });
});

describe('logo', () => {
  const png = (width: number, height: number, background: string) =>
    sharp({ create: { width, height, channels: 4, background } }).png().toBuffer();
  const hashOf = (url: string) => /\/files\/logo\/[^/]+\/([0-9a-f]{64})\.png$/.exec(url)![1]!;
  /** Blobs nothing names, whatever their age (a grace period ending a year ahead). */
  const unused = async () => unusedBlobs(t.ctx.db, t.ctx.store.dialect, -365 * 24 * 3_600_000, 10_000);

  it('is set through the API, shown on the site, served for long, replaced and removed', async () => {
    const room = await buildNewsroom(t);
    expect((await t.http.get(`/api/newsrooms/${room.slug}`).expect(200)).body.logoUrl).toBeNull();

    // A large JPEG is re-encoded to a PNG inside 800 x 400.
    const jpeg = await sharp({ create: { width: 2000, height: 500, channels: 3, background: '#2a6' } }).jpeg().toBuffer();
    const set = await t.http.put(`/api/newsrooms/${room.slug}/logo`).set(room.auth).attach('file', jpeg, 'logo.jpg').expect(200);
    const logoUrl: string = set.body.logoUrl;
    expect(logoUrl).toMatch(new RegExp(`^https://news\\.example\\.test/files/logo/${room.slug}/[0-9a-f]{64}\\.png$`));
    expect((await t.http.get(`/api/newsrooms/${room.slug}`).expect(200)).body.logoUrl).toBe(logoUrl);

    const path = new URL(logoUrl).pathname;
    const served = await t.http.get(path).buffer(true).expect(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(await sharp(served.body).metadata()).toMatchObject({ format: 'png', width: 800, height: 200 });

    // The newsroom's pages show it in the header, from the service's own origin.
    const release = await buildRelease(t, room);
    await t.http.post(`/api/releases/${release.id}/publish`).set(room.auth).expect(200);
    const img = `<img class="logo" src="${logoUrl}" width="800" height="200" alt="">`;
    expect((await t.http.get(`/${room.slug}/fi`).expect(200)).text).toContain(img);
    const releasePage = new URL((await t.http.get(`/${room.slug}/sv/${release.id}`).expect(301)).headers.location!).pathname;
    expect((await t.http.get(releasePage).expect(200)).text).toContain(img);

    // Replacing: a new URL on the pages; the old one still answers, for the emails that
    // name it, so its blob is kept.
    const replaced = await t.http.put(`/api/newsrooms/${room.slug}/logo`).set(room.auth).attach('file', await png(300, 100, '#c00f'), 'new.png').expect(200);
    expect(replaced.body.logoUrl).not.toBe(logoUrl);
    expect((await t.http.get(path).buffer(true).expect(200)).body).toEqual(served.body);
    expect((await t.http.get(`/${room.slug}/fi`).expect(200)).text).toContain(`src="${replaced.body.logoUrl}"`);
    expect(await unused()).not.toEqual(expect.arrayContaining([hashOf(logoUrl)]));
    expect(await unused()).not.toEqual(expect.arrayContaining([hashOf(replaced.body.logoUrl)]));

    // Removed from the pages and later emails; earlier URLs keep answering.
    await t.http.delete(`/api/newsrooms/${room.slug}/logo`).set(room.auth).expect(204);
    expect((await t.http.get(`/api/newsrooms/${room.slug}`).expect(200)).body.logoUrl).toBeNull();
    expect((await t.http.get(`/${room.slug}/fi`).expect(200)).text).not.toContain('class="logo"');
    await t.http.get(new URL(replaced.body.logoUrl).pathname).expect(200);

    // Only this newsroom's logos, and only by their exact name.
    const other = await buildNewsroom(t);
    await t.http.get(path.replace(`/${room.slug}/`, `/${other.slug}/`)).expect(404);
    await t.http.get(path.replace('.png', '.PNG')).expect(404);
    await t.http.get(`/files/logo/${room.slug}/${'0'.repeat(64)}.png`).expect(404);
  });

  it('takes only PNG, JPEG or WebP, read from the bytes, of at most 2 MB', async () => {
    const room = await buildNewsroom(t);
    const put = (bytes: Buffer, name: string) => t.http.put(`/api/newsrooms/${room.slug}/logo`).set(room.auth).attach('file', bytes, name);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
    for (const [bytes, name] of [[svg, 'logo.svg'], [minimalPdf, 'logo.png'], [Buffer.from('not an image'), 'logo.png']] as const) {
      const res = await put(bytes, name);
      expect([name, res.status]).toEqual([name, 415]);
      expect(res.body.detail).toBe('The logo must be a PNG, JPEG or WebP image (SVG and other formats are not taken).');
    }
    const gif = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } }).gif().toBuffer();
    expect((await put(gif, 'logo.gif')).status).toBe(415);
    expect((await put(Buffer.alloc(2 * 1024 * 1024 + 1), 'big.png')).status).toBe(413);
    const none = await t.http.put(`/api/newsrooms/${room.slug}/logo`).set(room.auth).field('caption', 'x');
    expect(none.status).toBe(422);
    const webp = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#00f' } }).webp().toBuffer();
    expect((await put(webp, 'logo.webp')).status).toBe(200);
  });

  it('is set and removed only by a token of its own newsroom (or the admin)', async () => {
    const room = await buildNewsroom(t);
    const other = await buildNewsroom(t);
    const logo = await png(40, 40, '#0a0f');
    await t.http.put(`/api/newsrooms/${room.slug}/logo`).set(other.auth).attach('file', logo, 'logo.png').expect(403);
    await t.http.put(`/api/newsrooms/${room.slug}/logo`).attach('file', logo, 'logo.png').expect(401);
    await t.http.put(`/api/newsrooms/${room.slug}/logo`).set(t.admin).attach('file', logo, 'logo.png').expect(200);
    await t.http.delete(`/api/newsrooms/${room.slug}/logo`).set(other.auth).expect(403);
    expect((await t.http.get(`/api/newsrooms/${room.slug}`).expect(200)).body.logoUrl).not.toBeNull();
    expect((await t.http.get(`/api/newsrooms/${other.slug}`).expect(200)).body.logoUrl).toBeNull();
  });
});
