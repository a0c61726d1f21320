import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, type NewsroomFixture } from './support/factories.js';

let t: TestApp;
let newsroom: NewsroomFixture;
let other: NewsroomFixture;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  other = await buildNewsroom(t);
});
afterAll(() => t.close());

const journalist = (overrides: Record<string, unknown> = {}) => ({
  name: 'Liisa Toimittaja',
  outlet: 'Päivän Sanomat',
  email: `liisa-${Math.random().toString(36).slice(2)}@example.org`,
  languages: ['sv', 'fi'],
  note: 'Covers city politics.',
  ...overrides,
});

describe('accredited journalists', () => {
  it('adds, lists, reads, changes, suspends, reactivates and removes a journalist', async () => {
    const base = `/api/newsrooms/${newsroom.slug}/journalists`;
    const input = journalist();
    const created = await t.http.post(base).set(newsroom.auth).send(input).expect(201);
    expect(created.body).toMatchObject({ ...input, newsroom: newsroom.slug, status: 'active' });
    const id = created.body.id;

    const list = await t.http.get(base).set(newsroom.auth).expect(200);
    expect(list.body.map((j: { id: string }) => j.id)).toContain(id);
    await t.http.get(`${base}/${id}`).set(newsroom.auth).expect(200);

    const patched = await t.http.patch(`${base}/${id}`).set(newsroom.auth).send({ outlet: 'Hufvudstadsbladet', languages: ['sv'] }).expect(200);
    expect(patched.body).toMatchObject({ outlet: 'Hufvudstadsbladet', languages: ['sv'], name: input.name });

    const suspended = await t.http.post(`${base}/${id}/suspend`).set(newsroom.auth).expect(200);
    expect(suspended.body.status).toBe('suspended');
    const active = await t.http.get(`${base}?status=active`).set(newsroom.auth).expect(200);
    expect(active.body.map((j: { id: string }) => j.id)).not.toContain(id);
    const back = await t.http.post(`${base}/${id}/reactivate`).set(newsroom.auth).expect(200);
    expect(back.body.status).toBe('active');

    await t.http.delete(`${base}/${id}`).set(newsroom.auth).expect(204);
    await t.http.get(`${base}/${id}`).set(newsroom.auth).expect(404);
  });

  it("defaults the languages to the newsroom's first, and refuses a second entry of one address (409)", async () => {
    const base = `/api/newsrooms/${newsroom.slug}/journalists`;
    const input = journalist({ languages: undefined });
    const created = await t.http.post(base).set(newsroom.auth).send(input).expect(201);
    expect(created.body.languages).toEqual(['fi']);
    await t.http.post(base).set(newsroom.auth).send({ ...input, email: input.email.toUpperCase() }).expect(409);
    // Another newsroom may accredit the same person.
    await t.http.post(`/api/newsrooms/${other.slug}/journalists`).set(other.auth).send(input).expect(201);
  });

  it('validates fields (422) and needs a token (401)', async () => {
    const base = `/api/newsrooms/${newsroom.slug}/journalists`;
    const bad = await t.http.post(base).set(newsroom.auth).send({ name: '', email: 'nope', languages: ['finnish'] }).expect(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['email', 'languages.0', 'name']);
    await t.http.get(base).expect(401);
  });

  it("keeps each newsroom's list to itself", async () => {
    const base = `/api/newsrooms/${newsroom.slug}/journalists`;
    const created = await t.http.post(base).set(newsroom.auth).send(journalist()).expect(201);
    await t.http.get(base).set(other.auth).expect(403);
    await t.http.get(`${base}/${created.body.id}`).set(other.auth).expect(403);
    await t.http.patch(`${base}/${created.body.id}`).set(other.auth).send({ name: 'X' }).expect(403);
    await t.http.post(`${base}/${created.body.id}/suspend`).set(other.auth).expect(403);
    await t.http.delete(`${base}/${created.body.id}`).set(other.auth).expect(403);
    // Through the other newsroom's own path, the journalist is not there.
    await t.http.get(`/api/newsrooms/${other.slug}/journalists/${created.body.id}`).set(other.auth).expect(404);
    const list = await t.http.get(`/api/newsrooms/${other.slug}/journalists`).set(other.auth).expect(200);
    expect(list.body.map((j: { id: string }) => j.id)).not.toContain(created.body.id);
    // The admin sees every newsroom's.
    await t.http.get(`${base}/${created.body.id}`).set(t.admin).expect(200);
  });
});
