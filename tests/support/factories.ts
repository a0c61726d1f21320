import { randomBytes } from 'node:crypto';
import type { TestApp } from './app.js';

/*
 * Test data built through the public API, so every factory also exercises the
 * route it stands on. Each returns the parsed JSON the API gave back.
 */

const unique = () => randomBytes(4).toString('hex');

export interface NewsroomFixture {
  slug: string;
  body: Record<string, any>;
  token: string;
  auth: { Authorization: string };
}

export async function buildNewsroom(t: TestApp, overrides: Record<string, unknown> = {}): Promise<NewsroomFixture> {
  const slug = `newsroom-${unique()}`;
  const created = await t.http
    .post('/api/newsrooms')
    .set(t.admin)
    .send({
      slug,
      languages: ['fi', 'sv'],
      name: { fi: 'Länsi-Esimerkin kaupunki', sv: 'Västra Exempel stad' },
      boilerplate: { fi: 'Länsi-Esimerkki on **kaupunki**.', sv: 'Västra Exempel är en **stad**.' },
      timezone: 'Europe/Helsinki',
      website: 'https://example.org',
      social: { x: '@example', linkedin: 'https://www.linkedin.com/company/example' },
      ...overrides,
    })
    .expect(201);
  const token = await t.http
    .post(`/api/newsrooms/${created.body.slug}/tokens`)
    .set(t.admin)
    .send({ name: 'comms desk' })
    .expect(201);
  return {
    slug: created.body.slug,
    body: created.body,
    token: token.body.token,
    auth: { Authorization: `Bearer ${token.body.token}` },
  };
}

export async function buildContact(t: TestApp, newsroom: NewsroomFixture, overrides: Record<string, unknown> = {}) {
  const res = await t.http
    .post(`/api/newsrooms/${newsroom.slug}/contacts`)
    .set(newsroom.auth)
    .send({
      name: 'Maija Meikäläinen',
      title: { fi: 'viestintäjohtaja', sv: 'kommunikationsdirektör' },
      phone: '+358 40 123 4567',
      email: 'maija@example.org',
      ...overrides,
    })
    .expect(201);
  return res.body as Record<string, any>;
}

export function releaseInput(overrides: Record<string, unknown> = {}) {
  return {
    type: 'press-release',
    translations: {
      fi: { title: 'Uusi kirjasto avataan', lead: 'Kaupunki avaa uuden kirjaston.', body: 'Kirjasto avataan **maanantaina**.' },
      sv: { title: 'Nytt bibliotek öppnas', lead: 'Staden öppnar ett nytt bibliotek.', body: 'Biblioteket öppnas **på måndag**.' },
    },
    keywords: { fi: ['kirjasto', 'kulttuuri'], sv: ['bibliotek'] },
    contactIds: [],
    ...overrides,
  };
}

export async function buildRelease(t: TestApp, newsroom: NewsroomFixture, overrides: Record<string, unknown> = {}) {
  const res = await t.http
    .post(`/api/newsrooms/${newsroom.slug}/releases`)
    .set(newsroom.auth)
    .send(releaseInput(overrides))
    .expect(201);
  return res.body as Record<string, any>;
}

/** The smallest bytes that file-type takes for a PDF. */
export const minimalPdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

export async function buildAttachment(
  t: TestApp,
  newsroom: NewsroomFixture,
  releaseId: string,
  file: { bytes?: Buffer; filename?: string; fields?: Record<string, string> } = {},
) {
  const req = t.http.post(`/api/releases/${releaseId}/attachments`).set(newsroom.auth);
  for (const [name, value] of Object.entries(file.fields ?? {})) req.field(name, value);
  const res = await req.attach('file', file.bytes ?? minimalPdf, file.filename ?? 'document.pdf').expect(201);
  return res.body as Record<string, any>;
}
