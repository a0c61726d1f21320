import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from './support/app.js';
import { buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';

let t: TestApp;
let newsroom: NewsroomFixture;
let other: NewsroomFixture;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  other = await buildNewsroom(t);
});
afterAll(() => t.close());

describe('contacts', () => {
  it('creates, lists, reads, patches and deletes a contact', async () => {
    const contact = await buildContact(t, newsroom);
    expect(contact).toMatchObject({
      name: 'Maija Meikäläinen',
      title: { fi: 'viestintäjohtaja', sv: 'kommunikationsdirektör' },
      phone: '+358 40 123 4567',
      email: 'maija@example.org',
    });
    const base = `/api/newsrooms/${newsroom.slug}/contacts`;
    const list = await t.http.get(base).set(newsroom.auth).expect(200);
    expect(list.body.map((c: { id: string }) => c.id)).toContain(contact.id);

    for (const path of [`${base}/${contact.id}`, `/api/contacts/${contact.id}`]) {
      const got = await t.http.get(path).set(newsroom.auth).expect(200);
      expect(got.body).toEqual(contact);
    }

    const patched = await t.http.patch(`${base}/${contact.id}`).set(newsroom.auth).send({ title: { sv: 'presschef' }, phone: null }).expect(200);
    expect(patched.body).toMatchObject({ title: { fi: 'viestintäjohtaja', sv: 'presschef' }, phone: null, email: 'maija@example.org' });

    await t.http.delete(`${base}/${contact.id}`).set(newsroom.auth).expect(204);
    await t.http.get(`${base}/${contact.id}`).set(newsroom.auth).expect(404);
  });

  it('validates fields and languages (422)', async () => {
    const base = `/api/newsrooms/${newsroom.slug}/contacts`;
    const bad = await t.http.post(base).set(newsroom.auth).send({ name: '', email: 'not-an-email', phone: 'call me' }).expect(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['email', 'name', 'phone']);
    const foreign = await t.http.post(base).set(newsroom.auth).send({ name: 'X', title: { de: 'Chef' } }).expect(422);
    expect(foreign.body.errors[0].path).toBe('title.de');
  });

  it("keeps each newsroom's contacts to itself", async () => {
    const contact = await buildContact(t, newsroom);
    await t.http.get(`/api/contacts/${contact.id}`).set(other.auth).expect(403);
    await t.http.patch(`/api/contacts/${contact.id}`).set(other.auth).send({ name: 'Hijacked' }).expect(403);
    await t.http.delete(`/api/contacts/${contact.id}`).set(other.auth).expect(403);
    await t.http.get(`/api/newsrooms/${newsroom.slug}/contacts`).set(other.auth).expect(403);
    // Reached through the other newsroom's path, the contact does not exist there.
    await t.http.get(`/api/newsrooms/${other.slug}/contacts/${contact.id}`).set(other.auth).expect(404);
    const still = await t.http.get(`/api/contacts/${contact.id}`).set(newsroom.auth).expect(200);
    expect(still.body.name).toBe(contact.name);
  });

  it('shows current contact details on releases, and a deleted contact leaves them', async () => {
    const contact = await buildContact(t, newsroom);
    const release = await buildRelease(t, newsroom, { contactIds: [contact.id] });
    await t.http.patch(`/api/contacts/${contact.id}`).set(newsroom.auth).send({ phone: '+358 9 000 0000' }).expect(200);
    const got = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(got.body.contacts[0].phone).toBe('+358 9 000 0000');
    await t.http.delete(`/api/contacts/${contact.id}`).set(newsroom.auth).expect(204);
    const after = await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);
    expect(after.body.contacts).toEqual([]);
  });
});
