import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from './support/app.js';
import { buildContact, buildNewsroom, buildRelease, type NewsroomFixture, releaseInput } from './support/factories.js';

let t: TestApp;
let newsroom: NewsroomFixture;
let other: NewsroomFixture;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  other = await buildNewsroom(t);
});
afterAll(() => t.close());

const inAnHour = () => new Date(t.clock.now().getTime() + 3_600_000);
const nextYear = new Date().getUTCFullYear() + 1;

describe('writing releases', () => {
  it('creates a bilingual draft in the shape of the contract', async () => {
    const contact = await buildContact(t, newsroom);
    const release = await buildRelease(t, newsroom, { contactIds: [contact.id] });
    expect(release).toMatchObject({
      newsroom: newsroom.slug,
      type: 'press-release',
      status: 'draft',
      translations: releaseInput().translations,
      keywords: { fi: ['kirjasto', 'kulttuuri'], sv: ['bibliotek'] },
      contacts: [expect.objectContaining({ id: contact.id, name: 'Maija Meikäläinen' })],
      attachments: [],
      publishAt: null,
      publishedAt: null,
    });
    expect(release.createdAt).toMatch(/Z$/);
    expect(release.links.web.fi).toMatch(
      new RegExp(`^https://news\\.example\\.test/${newsroom.slug}/fi/${release.id}/uusi-kirjasto-avataan$`),
    );
    expect(release.links.web.sv).toMatch(/\/sv\/.*\/nytt-bibliotek-oppnas$/);
    const got = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(got.body).toEqual(release);
  });

  it('refuses translations and keywords in languages the newsroom lacks (422)', async () => {
    const res = await t.http
      .post(`/api/newsrooms/${newsroom.slug}/releases`)
      .set(newsroom.auth)
      .send(releaseInput({ translations: { de: { title: 'Hallo', body: 'x' } }, keywords: { en: ['x'] } }))
      .expect(422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['keywords.en', 'translations.de']);
  });

  it("refuses another newsroom's contacts (422)", async () => {
    const foreign = await buildContact(t, other);
    const res = await t.http
      .post(`/api/newsrooms/${newsroom.slug}/releases`)
      .set(newsroom.auth)
      .send(releaseInput({ contactIds: [foreign.id] }))
      .expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'contactIds.0' })]);
  });

  it('tidies keywords: trimmed, inner space folded, repeats dropped', async () => {
    const release = await buildRelease(t, newsroom, { keywords: { fi: ['  Kirjasto ', 'kirjasto', 'avoin   data'] } });
    expect(release.keywords).toEqual({ fi: ['Kirjasto', 'avoin data'] });
  });

  it('patches one language without touching the other, and null removes a language', async () => {
    const release = await buildRelease(t, newsroom);
    const fi = { title: 'Kirjasto avataan tiistaina', lead: 'Muutos.', body: 'Uusi päivä.' };
    const patched = await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { fi } }).expect(200);
    expect(patched.body.translations).toEqual({ fi: { ...fi, bodyHtml: '<p>Uusi päivä.</p>' }, sv: release.translations.sv });
    expect(patched.body.keywords).toEqual(release.keywords);

    // Fields left out of a language stay as they were.
    const retitled = await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { sv: { title: 'Ny rubrik' } } }).expect(200);
    expect(retitled.body.translations.sv).toEqual({ ...release.translations.sv, title: 'Ny rubrik' });
    expect(Date.parse(patched.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(release.updatedAt));

    const removed = await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { sv: null } }).expect(200);
    expect(Object.keys(removed.body.translations)).toEqual(['fi']);
    expect(Object.keys(removed.body.links.web)).toEqual(['fi']);

    const partial = await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { sv: { body: 'Bara text.' } } }).expect(422);
    expect(partial.body.errors).toEqual([expect.objectContaining({ path: 'translations.sv.title' })]);

    const last = await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { fi: null } }).expect(422);
    expect(last.body.errors[0].path).toBe('translations');
  });

  it('sanitises the Markdown body once for every output', async () => {
    const release = await buildRelease(t, newsroom, {
      translations: {
        fi: {
          title: 'Turvallisuus',
          body: '**ok** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> <iframe src="https://evil.example/"></iframe>',
        },
      },
    });
    const row = await t.ctx.db
      .selectFrom('release_translations')
      .select('body_html')
      .where('release_id', '=', release.id)
      .executeTakeFirstOrThrow();
    expect(row.body_html).toContain('<strong>ok</strong>');
    for (const bad of ['<script', 'href="javascript:', 'onerror', '<iframe']) expect(row.body_html).not.toContain(bad);
    // The API gives back the Markdown as written.
    expect(release.translations.fi.body).toContain('<script>');
  });

  it('lists releases by status, newest first, with a Link to the next page', async () => {
    const own = await buildNewsroom(t);
    const a = await buildRelease(t, own);
    const b = await buildRelease(t, own);
    const c = await buildRelease(t, own);
    await t.http.post(`/api/releases/${b.id}/publish`).set(own.auth).expect(200);
    await t.http.post(`/api/releases/${c.id}/schedule`).set(own.auth).send({ publishAt: inAnHour().toISOString() }).expect(200);

    const ids = async (query: string) =>
      (await t.http.get(`/api/newsrooms/${own.slug}/releases${query}`).set(own.auth).expect(200)).body.map((r: { id: string }) => r.id);
    expect(await ids('')).toEqual([c.id, b.id, a.id]);
    expect(await ids('?status=draft')).toEqual([a.id]);
    expect(await ids('?status=published')).toEqual([b.id]);
    expect(await ids('?status=scheduled')).toEqual([c.id]);
    expect(await ids('?status=withdrawn')).toEqual([]);

    const page = await t.http.get(`/api/newsrooms/${own.slug}/releases?limit=2`).set(own.auth).expect(200);
    expect(page.body).toHaveLength(2);
    const next = new URL(/<([^>]+)>; rel="next"/.exec(page.headers.link!)![1]!);
    const rest = await t.http.get(next.pathname + next.search).set(own.auth).expect(200);
    expect(rest.body.map((r: { id: string }) => r.id)).toEqual([a.id]);
    expect(rest.headers.link).toBeUndefined();
    const exact = await t.http.get(`/api/newsrooms/${own.slug}/releases?limit=3`).set(own.auth).expect(200);
    expect([exact.body.length, exact.headers.link]).toEqual([3, undefined]);

    await t.http.get(`/api/newsrooms/${own.slug}/releases?status=live`).set(own.auth).expect(400);
  });
});

describe('access', () => {
  it('answers 401 without a token and 403 to another newsroom', async () => {
    const release = await buildRelease(t, newsroom);
    // Without a token a draft is not there at all (see "public reading").
    await t.http.get(`/api/releases/${release.id}`).expect(404);
    await t.http.patch(`/api/releases/${release.id}`).send({}).expect(401);
    for (const [method, path] of [
      ['get', `/api/releases/${release.id}`],
      ['patch', `/api/releases/${release.id}`],
      ['delete', `/api/releases/${release.id}`],
      ['post', `/api/releases/${release.id}/publish`],
      ['post', `/api/releases/${release.id}/schedule`],
      ['get', `/api/releases/${release.id}/deliveries`],
      ['get', `/api/newsrooms/${newsroom.slug}/releases`],
      ['post', `/api/newsrooms/${newsroom.slug}/releases`],
    ] as const) {
      // An empty body breaks the rules of POST .../releases, but the token is refused first.
      const res = await t.http[method](path).set(other.auth).send(method === 'get' || method === 'delete' ? undefined : {});
      expect([path, res.status]).toEqual([path, 403]);
    }
    // Nothing changed.
    const after = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(after.body).toEqual(release);
  });

  it('lets the admin token act in every newsroom', async () => {
    const release = await buildRelease(t, newsroom);
    await t.http.get(`/api/releases/${release.id}`).set(t.admin).expect(200);
  });

  it('answers 404 for an unknown release', async () => {
    const res = await t.http.get('/api/releases/00000000-0000-4000-8000-000000000000').set(newsroom.auth).expect(404);
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found' });
    await t.http.get('/api/releases/does-not-exist').set(newsroom.auth).expect(404);
    await t.http.post('/api/releases/does-not-exist/publish').set(newsroom.auth).expect(404);
  });
});

describe('public reading (issue 5)', () => {
  it('answers GET /api/releases/:id without a token for a published release only, with bodyHtml', async () => {
    const own = await buildNewsroom(t);
    const draft = await buildRelease(t, own);
    const embargoed = await buildRelease(t, own);
    const published = await buildRelease(t, own);
    const withdrawn = await buildRelease(t, own);
    await t.http.post(`/api/releases/${embargoed.id}/schedule`).set(own.auth).send({ publishAt: inAnHour().toISOString() }).expect(200);
    for (const r of [published, withdrawn]) await t.http.post(`/api/releases/${r.id}/publish`).set(own.auth).expect(200);
    await t.http.post(`/api/releases/${withdrawn.id}/withdraw`).set(own.auth).expect(200);

    const res = await t.http.get(`/api/releases/${published.id}`).expect(200);
    expect(res.body).toMatchObject({ id: published.id, status: 'published' });
    expect(res.body.translations.fi.bodyHtml).toBe('<p>Kirjasto avataan <strong>maanantaina</strong>.</p>');
    await t.http.get(`/api/releases/${draft.id}`).expect(404);
    await t.http.get(`/api/releases/${embargoed.id}`).expect(404);
    await t.http.get(`/api/releases/${withdrawn.id}`).expect(410);
    // A bad token is still a 401, so that a client learns it is bad.
    await t.http.get(`/api/releases/${published.id}`).set({ Authorization: 'Bearer nope' }).expect(401);

    // At its time, the embargoed one is public whether or not a job ran.
    t.clock.advance(2 * 3_600_000);
    await t.http.get(`/api/releases/${embargoed.id}`).expect(200);
  });

  it('lists published releases only without a token; asking for others needs one', async () => {
    const own = await buildNewsroom(t);
    const draft = await buildRelease(t, own);
    const embargoed = await buildRelease(t, own);
    const first = await buildRelease(t, own);
    const second = await buildRelease(t, own);
    await t.http.post(`/api/releases/${embargoed.id}/schedule`).set(own.auth).send({ publishAt: inAnHour().toISOString() }).expect(200);
    await t.http.post(`/api/releases/${first.id}/publish`).set(own.auth).expect(200);
    t.clock.advance(1000);
    await t.http.post(`/api/releases/${second.id}/publish`).set(own.auth).expect(200);

    const ids = (res: { body: { id: string }[] }) => res.body.map((r) => r.id);
    const anonymous = await t.http.get(`/api/newsrooms/${own.slug}/releases`).expect(200);
    expect(ids(anonymous)).toEqual([second.id, first.id]);
    expect(ids(await t.http.get(`/api/newsrooms/${own.slug}/releases?status=published`).expect(200))).toEqual([second.id, first.id]);
    for (const status of ['draft', 'scheduled', 'withdrawn']) {
      await t.http.get(`/api/newsrooms/${own.slug}/releases?status=${status}`).expect(401);
    }
    expect(ids(anonymous)).not.toContain(draft.id);
    await t.http.get('/api/newsrooms/no-such-newsroom/releases').expect(404);
  });
});

describe('lists (issue 9)', () => {
  it('leave bodies out unless include=body, and page at most 100', async () => {
    const own = await buildNewsroom(t);
    const release = await buildRelease(t, own);
    const plain = await t.http.get(`/api/newsrooms/${own.slug}/releases`).set(own.auth).expect(200);
    expect(plain.body[0].translations.fi).toEqual({ title: release.translations.fi.title, lead: release.translations.fi.lead });
    const full = await t.http.get(`/api/newsrooms/${own.slug}/releases?include=body`).set(own.auth).expect(200);
    expect(full.body[0].translations.fi).toEqual(release.translations.fi);
    expect(full.body[0].translations.fi.bodyHtml).toContain('<strong>');
    await t.http.get(`/api/newsrooms/${own.slug}/releases?limit=101`).set(own.auth).expect(400);
    await t.http.get(`/api/newsrooms/${own.slug}/releases?limit=100`).set(own.auth).expect(200);
  });

  it('default to 20 a page, and build the next link from PUBLIC_URL, the path and the query only', async () => {
    const own = await buildNewsroom(t);
    for (let i = 0; i < 21; i++) await buildRelease(t, own);
    const first = await t.http.get(`/api/newsrooms/${own.slug}/releases?include=body`).set(own.auth).expect(200);
    expect(first.body).toHaveLength(20);
    expect(first.headers.link).toBe(
      `<https://news.example.test/api/newsrooms/${own.slug}/releases?include=body&limit=20&offset=20>; rel="next"`,
    );
    // An absolute-form request target (as to a proxy) gave a 500 before.
    const absolute = await rawGet(`http://evil.example/api/newsrooms/${own.slug}/releases?limit=5`, own.auth.Authorization);
    expect(absolute.status).toBe(200);
    expect(absolute.link).toBe(`<https://news.example.test/api/newsrooms/${own.slug}/releases?limit=5&offset=5>; rel="next"`);
  });
});

/** A GET with the request target written as given (supertest and fetch would normalise it). */
async function rawGet(target: string, authorization: string): Promise<{ status: number; link?: string }> {
  const http = await import('node:http');
  const server = http.createServer(t.app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: target, headers: { Authorization: authorization } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, link: res.headers.link as string | undefined }));
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.close();
  }
}

describe('lifecycle', () => {
  it('schedules, moves, unschedules and deletes a draft', async () => {
    const release = await buildRelease(t, newsroom);
    const at = inAnHour();
    const scheduled = await t.http
      .post(`/api/releases/${release.id}/schedule`)
      .set(newsroom.auth)
      .send({ publishAt: `${nextYear}-11-24T09:00:00+02:00` })
      .expect(200);
    expect(scheduled.body).toMatchObject({ status: 'scheduled', publishAt: `${nextYear}-11-24T07:00:00.000Z`, publishedAt: null });

    // ISO 8601 allows the offset without a colon, and the time without seconds.
    const basic = await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: `${nextYear}-11-24T09:00+0200` }).expect(200);
    expect(basic.body.publishAt).toBe(`${nextYear}-11-24T07:00:00.000Z`);

    const moved = await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: at.toISOString() }).expect(200);
    expect(moved.body.publishAt).toBe(at.toISOString());

    const draft = await t.http.post(`/api/releases/${release.id}/unschedule`).set(newsroom.auth).expect(200);
    expect(draft.body).toMatchObject({ status: 'draft', publishAt: null });

    await t.http.delete(`/api/releases/${release.id}`).set(newsroom.auth).expect(204);
    await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(404);
  });

  it('refuses a publication time that is not in the future (422)', async () => {
    const release = await buildRelease(t, newsroom);
    const past = new Date(t.clock.now().getTime() - 1000).toISOString();
    const res = await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: past }).expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'publishAt' })]);
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: `${nextYear}-01-01T09:00:00` }).expect(422);
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({}).expect(422);
  });

  it.each([
    // Year 10000 in UTC: stored as "+010000-...", it sorted as due on SQLite and broke the embargo (issue 9).
    ['9999-12-31T23:59:59-23:59', 'must be between 2000 and 9999'],
    ['1999-12-31T23:59:59Z', 'must be between 2000 and 9999'],
    [`${new Date().getUTCFullYear() + 6}-01-01T00:00:00Z`, 'must be at most 5 years ahead'],
  ])('refuses the publication time %s (422), and the release stays a draft', async (publishAt, message) => {
    const release = await buildRelease(t, newsroom);
    const res = await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(422);
    expect(res.body.errors).toEqual([{ path: 'publishAt', message }]);
    const after = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(after.body).toMatchObject({ status: 'draft', publishAt: null });
  });

  it('takes a publication time up to 5 calendar years ahead, to the millisecond, and not one more', async () => {
    // The clock stands still, so that the boundary is exact.
    const running = t.clock.now;
    const now = new Date(Math.floor(running().getTime() / 1000) * 1000);
    t.clock.now = () => new Date(now);
    try {
      const limit = new Date(now);
      limit.setUTCFullYear(limit.getUTCFullYear() + 5);
      const schedule = async (at: Date, status: number) => {
        const release = await buildRelease(t, newsroom);
        return t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: at.toISOString() }).expect(status);
      };
      expect((await schedule(limit, 200)).body.publishAt).toBe(limit.toISOString());
      for (const over of [1, 24 * 3_600_000]) {
        const res = await schedule(new Date(limit.getTime() + over), 422);
        expect(res.body.errors).toEqual([{ path: 'publishAt', message: 'must be at most 5 years ahead' }]);
      }
    } finally {
      t.clock.now = running;
    }
  });

  it('refuses a body whose HTML nests too deep, naming the field (422)', async () => {
    const res = await t.http
      .post(`/api/newsrooms/${newsroom.slug}/releases`)
      .set(newsroom.auth)
      .send(releaseInput({ translations: { fi: { title: 'x', body: '<a>'.repeat(5_000) } } }))
      .expect(422);
    expect(res.body.errors).toEqual([{ path: 'translations.fi.body', message: expect.stringContaining('nests HTML') }]);
    const many = await t.http
      .post(`/api/newsrooms/${newsroom.slug}/releases`)
      .set(newsroom.auth)
      .send(releaseInput({ translations: { fi: { title: 'x', body: '<a>'.repeat(66_000) } } }))
      .expect(422);
    expect(many.body.errors).toEqual([{ path: 'translations.fi.body', message: 'has more than 20000 HTML elements' }]);
  });

  it('publishes, keeps an edited release published, and withdraws', async () => {
    const release = await buildRelease(t, newsroom);
    const published = await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    expect(published.body.status).toBe('published');
    expect(Date.parse(published.body.publishedAt)).toBeLessThanOrEqual(t.clock.now().getTime());

    t.clock.advance(60_000);
    const edited = await t.http
      .patch(`/api/releases/${release.id}`)
      .set(newsroom.auth)
      .send({ translations: { fi: { title: 'Korjattu otsikko', lead: '', body: 'Korjattu.' } }, change: { kind: 'minor' } })
      .expect(200);
    expect(edited.body.status).toBe('published');
    expect(edited.body.publishedAt).toBe(published.body.publishedAt);
    expect(Date.parse(edited.body.updatedAt)).toBeGreaterThan(Date.parse(edited.body.publishedAt));

    const withdrawn = await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).expect(200);
    expect(withdrawn.body).toMatchObject({ status: 'withdrawn', publishedAt: published.body.publishedAt });
    expect(withdrawn.body.withdrawnAt).toMatch(/Z$/);
  });

  it.each([
    ['draft', 'unschedule'],
    ['draft', 'withdraw'],
    ['published', 'publish'],
    ['published', 'schedule'],
    ['published', 'unschedule'],
    ['published', 'delete'],
    ['scheduled', 'withdraw'],
    ['scheduled', 'delete'],
    ['withdrawn', 'publish'],
    ['withdrawn', 'schedule'],
    ['withdrawn', 'withdraw'],
    ['withdrawn', 'edit'],
  ])('answers 409 to a %s release asked to %s', async (state, action) => {
    const release = await buildRelease(t, newsroom);
    const go = (path: string, body?: object) => t.http.post(`/api/releases/${release.id}/${path}`).set(newsroom.auth).send(body);
    if (state === 'scheduled') await go('schedule', { publishAt: inAnHour().toISOString() }).expect(200);
    if (state === 'published' || state === 'withdrawn') await go('publish').expect(200);
    if (state === 'withdrawn') await go('withdraw').expect(200);
    const before = (await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth)).body;

    const res =
      action === 'delete'
        ? await t.http.delete(`/api/releases/${release.id}`).set(newsroom.auth)
        : action === 'edit'
          ? await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ type: 'news' })
          : await go(action, action === 'schedule' ? { publishAt: inAnHour().toISOString() } : undefined);
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const after = (await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth)).body;
    expect(after).toEqual(before);
  });

  it('publishes a release that has only a title (lead and body are optional)', async () => {
    const release = await buildRelease(t, newsroom, { translations: { fi: { title: 'Vain otsikko' } } });
    expect(release.translations).toEqual({ fi: { title: 'Vain otsikko', lead: '', body: '', bodyHtml: '' } });
    const res = await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    expect(res.body.status).toBe('published');
  });

  it('reports delivery counts (none before any delivery)', async () => {
    const release = await buildRelease(t, newsroom);
    const res = await t.http.get(`/api/releases/${release.id}/deliveries`).set(newsroom.auth).expect(200);
    expect(res.body).toMatchObject({ total: 0, queued: 0, sent: 0, failed: 0, skipped: 0, languages: {}, firstSentAt: null });
  });
});

describe('publication time lives in the database', () => {
  it('is published at its time even if no job ever ran', async () => {
    const release = await buildRelease(t, newsroom);
    const at = inAnHour();
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: at.toISOString() }).expect(200);
    await t.ctx.publication.queue.obliterate({ force: true }); // Redis forgot everything

    t.clock.advance(3_600_000 + 1);
    const got = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(got.body).toMatchObject({ status: 'published', publishedAt: at.toISOString() });
    const published = await t.http.get(`/api/newsrooms/${newsroom.slug}/releases?status=published`).set(newsroom.auth);
    expect(published.body.map((r: { id: string }) => r.id)).toContain(release.id);

    // Once it is public, it cannot be pulled back to draft.
    await t.http.post(`/api/releases/${release.id}/unschedule`).set(newsroom.auth).expect(409);
  });
});
