import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease } from './support/factories.js';

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
