import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import { createContactBody } from '../src/contacts/schemas.js';
import { fieldErrorCodes, fieldErrorsOf, problemCodes } from '../src/lib/errors.js';
import { interfaceLanguages, keysOf, t as translate } from '../src/lib/i18n.js';
import { createNewsroomBody } from '../src/newsrooms/schemas.js';
import { createReleaseBody, scheduleBody } from '../src/releases/schemas.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/app.js';
import { buildContact, buildNewsroom, type NewsroomFixture } from './support/factories.js';
import { StaffClient } from './support/staff.js';

/*
 * The staff app words field errors and refusals in its interface language; the API
 * keeps answering in English, in the same shape.
 */

let t: TestApp;
let newsroom: NewsroomFixture;
let other: NewsroomFixture;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  other = await buildNewsroom(t);
});
afterAll(() => t.close());

async function staffIn(lang: string, token = newsroom.token) {
  const staff = new StaffClient(t);
  await staff.signIn(token);
  await staff.get(`/admin/releases/new?lang=${lang}`);
  return staff;
}

const editorForm = (overrides: Record<string, string | string[]> = {}) => ({
  type: 'press-release',
  'translations.fi.title': 'Uusi silta avataan',
  'translations.fi.lead': '',
  'translations.fi.body': 'Silta avataan maanantaina.',
  'keywords.fi': 'silta',
  'translations.sv.title': 'Ny bro öppnas',
  'translations.sv.lead': '',
  'translations.sv.body': '',
  'keywords.sv': 'bro',
  ...overrides,
});

const tooLong = { 'translations.fi.title': 'x'.repeat(301), 'keywords.sv': `bro, ${'y'.repeat(61)}` };

/** The text next to a field (its error paragraph), unescaped enough for these strings. */
const errorAt = (html: string, id: string) => new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(html)?.[1]?.trim();
const contactsError = (html: string) => /<fieldset class="contacts has-error"[^>]*>[\s\S]*?<p class="field-error">([^<]*)<\/p>/.exec(html)?.[1]?.trim();

const expected = {
  fi: { title: 'enintään 300 merkkiä', keyword: 'enintään 60 merkkiä', contact: 'yhteyshenkilöä ei ole tässä uutishuoneessa', problem: 'Tarkista merkityt kohdat.' },
  sv: { title: 'högst 300 tecken', keyword: 'högst 60 tecken', contact: 'kontaktpersonen finns inte i det här nyhetsrummet', problem: 'Kontrollera de markerade fälten.' },
  en: { title: 'must be at most 300 characters', keyword: 'must be at most 60 characters', contact: 'no such contact in this newsroom', problem: 'Please check the marked fields.' },
} as const;

describe('field errors in the staff app', () => {
  for (const lang of ['fi', 'sv', 'en'] as const) {
    it(`are in the interface language (${lang}), next to the fields and in the summary`, async () => {
      const staff = await staffIn(lang);
      const words = expected[lang];

      const res = await staff.post('/admin/releases/new', editorForm(tooLong));
      expect(res.status).toBe(422);
      expect(errorAt(res.text, 'f-translations-fi-title')).toBe(words.title);
      expect(errorAt(res.text, 'f-keywords-sv')).toBe(words.keyword);
      expect(res.text).toContain(`<a href="#f-translations-fi-title">translations.fi.title: ${words.title}</a>`);
      expect(res.text).toContain(`<p>${words.problem}</p>`);
      expect(res.text).not.toContain('Too big');
      expect(res.text).not.toContain('breaks the rules');

      // A contact of another newsroom is as unknown as one that does not exist.
      const theirs = await buildContact(t, other);
      const unknown = await staff.post('/admin/releases/new', editorForm({ contactIds: [theirs.id as string] }));
      expect(unknown.status).toBe(422);
      expect(contactsError(unknown.text)).toBe(words.contact);
    });
  }

  it('words the schemas’ own rules and the conflicts too (fi, sv)', async () => {
    const room = await buildNewsroom(t);
    const fi = await staffIn('fi', room.token);
    await fi.get('/admin/settings');
    const settings = await fi.post('/admin/settings', { languages: 'fi, sv', 'name.fi': 'Nimi', 'name.sv': '', 'boilerplate.fi': '', 'boilerplate.sv': '', timezone: 'Mars/Olympus', website: 'ftp://x', social: 'x = @ok' });
    expect(settings.status).toBe(422);
    expect(errorAt(settings.text, 'f-timezone')).toBe('anna IANA-aikavyöhyke, esimerkiksi Europe/Helsinki');
    expect(errorAt(settings.text, 'f-website')).toBe('anna http- tai https-osoite, esimerkiksi https://example.com');

    const sv = await staffIn('sv', room.token);
    const created = await sv.post('/admin/releases/new', editorForm());
    const id = /\/admin\/releases\/([^?]+)\?saved=1/.exec(created.headers.location!)![1]!;
    await sv.get(`/admin/releases/${id}`);
    const stale = await sv.post(`/admin/releases/${id}`, { ...editorForm(), version: '0' });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('Någon annan ändrade meddelandet under tiden; ladda det på nytt och försök igen.');
    expect(stale.text).not.toContain('changed by someone else');

    const admin = new StaffClient(t);
    await admin.signIn(ADMIN_TOKEN);
    await admin.get('/admin/newsrooms?lang=fi');
    const taken = await admin.post('/admin/newsrooms', { slug: room.slug, languages: 'fi', name: 'Nimi', timezone: 'Europe/Helsinki' });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain(`Osoitenimi ”${room.slug}” on jo käytössä.`);
    const reserved = await admin.post('/admin/newsrooms', { slug: 'admin', languages: 'fi', name: 'Nimi', timezone: 'Europe/Helsinki' });
    expect(errorAt(reserved.text, 'f-slug')).toBe('tämä nimi on varattu');
  });
});

describe('the API, for the same input', () => {
  it('answers in English with path and message only, as before', async () => {
    const body = {
      translations: { fi: { title: 'x'.repeat(301) }, sv: { title: 'Ny bro öppnas' } },
      keywords: { sv: ['bro', 'y'.repeat(61)] },
    };
    const res = await t.http.post(`/api/newsrooms/${newsroom.slug}/releases`).set(newsroom.auth).send(body);
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'urn:newsroom:problem:unprocessable',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'The request body breaks the rules of this endpoint.',
      instance: `/api/newsrooms/${newsroom.slug}/releases`,
      errors: [
        { path: 'translations.fi.title', message: 'Too big: expected string to have <=300 characters' },
        { path: 'keywords.sv.1', message: 'Too big: expected string to have <=60 characters' },
      ],
    });

    const theirs = await buildContact(t, other);
    const unknown = await t.http
      .post(`/api/newsrooms/${newsroom.slug}/releases`)
      .set(newsroom.auth)
      .send({ translations: { fi: { title: 'Otsikko' } }, contactIds: [theirs.id] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toBe('The release does not fit its newsroom.');
    expect(unknown.body.errors).toEqual([{ path: 'contactIds.0', message: 'no such contact in this newsroom' }]);

    const slug = await t.http.post('/api/newsrooms').set(t.admin).send({ slug: newsroom.slug, languages: ['fi'], name: { fi: 'Nimi' } });
    expect(slug.status).toBe(409);
    expect(slug.body).toEqual({
      type: 'urn:newsroom:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: `The slug "${newsroom.slug}" is taken.`,
      instance: '/api/newsrooms',
      errors: [],
    });
  });
});

describe('the catalogue of error texts', () => {
  const keys = Object.fromEntries(interfaceLanguages.map((lang) => [lang, new Set(keysOf(lang))]));
  const wanted = [...fieldErrorCodes.map((code) => `admin.fieldError.${code}`), ...problemCodes.map((code) => `admin.problem.${code}`)];

  it('has every field error and problem code in fi, sv and en, and no string for a code that is gone', () => {
    for (const lang of interfaceLanguages) {
      expect(wanted.filter((key) => !keys[lang]!.has(key))).toEqual([]);
      const stale = [...keys[lang]!].filter((key) => /^admin\.(fieldError|problem)\./.test(key) && !wanted.includes(key));
      expect(stale).toEqual([]);
    }
  });

  it('is really translated, not English copies', () => {
    const copies = wanted.filter((key) => translate('fi', key) === translate('en', key) || translate('sv', key) === translate('en', key));
    expect(copies).toEqual([]);
  });

  it('gives a code to every error the schemas find (their own rules included)', () => {
    const bad: [z.ZodType, unknown][] = [
      [createNewsroomBody, { slug: 'Admin--', languages: ['fin', 'fi', 'fi'], name: { fi: '' }, timezone: 'Mars/Olympus', website: 'ftp://x', social: { 'Bad Net': ':x' }, extra: 1 }],
      [createNewsroomBody, { slug: 'admin', languages: [], name: {}, social: Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`n${i}`, 'h'])) }],
      [createContactBody, { name: '', title: { fi: 'x'.repeat(201) }, phone: 'call me', email: 'nobody' }],
      [createReleaseBody, { type: 'poem', translations: {}, keywords: { fi: Array(31).fill('k') }, contactIds: ['not-an-id'] }],
      [scheduleBody, { publishAt: 'tomorrow' }],
      [scheduleBody, { publishAt: '1999-01-01T00:00:00Z' }],
      [scheduleBody, {}],
    ];
    for (const [schema, input] of bad) {
      const result = schema.safeParse(input);
      expect(result.success).toBe(false);
      const uncoded = fieldErrorsOf(result.error!).filter((e) => e.code === undefined);
      expect(uncoded).toEqual([]);
    }
  });
});
