import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { personalise, renderReleaseEmail } from '../src/delivery/render.js';
import { findNewsroomById } from '../src/newsrooms/repository.js';
import { getPublicRelease } from '../src/releases/public.js';
import { creditLine } from '../src/site/presenter.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';

/*
 * The release email as the delivery worker renders it (delivery/render.ts), from a
 * release published through the API: a text part that reads as text, and an HTML part
 * whose body headings, quotes, main image and credits look like a finished newsletter.
 */

let t: TestApp;
let newsroom: NewsroomFixture;
let email: { subject: string; html: string; text: string };

const BODY = [
  '## Aukioloajat',
  '',
  'Kirjasto on auki **joka päivä**. Lue [koko ohjelma](https://example.org/ohjelma) verkosta.',
  '',
  '- lainaus',
  '- palautus',
  '',
  '1. ensin',
  '2. sitten',
  '',
  '> Kirjasto on kaupungin olohuone, sanoo johtaja.',
  '',
  '| Päivä | Aukeaa |',
  '| --- | --- |',
  '| ma | 8.00 |',
  '| la | 10.00 |',
  '',
  '### Lisää',
  '',
  'Loppu.',
].join('\n');

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t, { brandColor: '#7a1f5c' });
  const release = await buildRelease(t, newsroom, {
    translations: { fi: { title: 'Uusi kirjasto avataan', lead: 'Kaupunki avaa kirjaston.', body: BODY } },
  });
  const png = await sharp({ create: { width: 1600, height: 900, channels: 3, background: { r: 30, g: 90, b: 160 } } }).png().toBuffer();
  await buildAttachment(t, newsroom, release.id, { bytes: png, filename: 'julkisivu.png', fields: { caption_fi: 'Kirjaston julkisivu', credit: 'Kuva: Matti Virtanen' } });
  await buildAttachment(t, newsroom, release.id, { bytes: png, filename: 'sali.png', fields: { caption_fi: 'Lukusali', credit: 'Anna Berg' } });
  await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
  const shown = await getPublicRelease(t.ctx, release.id);
  const room = (await findNewsroomById(t.ctx.db, shown.newsroomId))!;
  email = personalise(await renderReleaseEmail(t.ctx, shown, room, 'fi'), { unsubscribe: 'https://u.example/x', preferences: 'https://p.example/y' });
});
afterAll(() => t.close());

describe('the text part', () => {
  it('is text, not Markdown: no **, ## or [text](url)', () => {
    expect(email.text).not.toContain('**');
    expect(email.text).not.toMatch(/^#+ /m);
    expect(email.text).not.toMatch(/\[[^\]]*\]\([^)]*\)/);
    expect(email.text).toContain('joka päivä');
  });

  it('gives links as text <url>, lists as lists, quotes with >, tables in columns', () => {
    expect(email.text).toContain('koko ohjelma <https://example.org/ohjelma>');
    expect(email.text).toMatch(/^ \* lainaus$/m);
    expect(email.text).toMatch(/^ 1\. ensin$/m);
    expect(email.text).toMatch(/^> Kirjasto on kaupungin olohuone/m);
    expect(email.text).toMatch(/^Päivä +Aukeaa$/m);
    expect(email.text).toMatch(/^ma +8\.00$/m);
    // The newsroom's boilerplate is read as text too.
    expect(email.text).toContain('Länsi-Esimerkki on kaupunki.');
  });

  it('names the main image with its caption and credit, and the other files with theirs', () => {
    expect(email.text).toMatch(/\[Kirjaston julkisivu · Kuva: Matti Virtanen\] <https:\/\/news\.example\.test\/files\/[^>]+>/);
    expect(email.text).toMatch(/- sali\.png – Lukusali \(Kuva: Anna Berg\): </);
  });
});

describe('the HTML part', () => {
  it('keeps the body headings smaller than the title and sets quotes off', () => {
    const size = (tag: string) => Number(new RegExp(`<${tag}[^>]*font-size: ?(\\d+)px`).exec(email.html)?.[1]);
    expect(size('h1')).toBe(26);
    expect(size('h2')).toBeLessThan(size('h1'));
    expect(size('h3')).toBeLessThan(size('h1'));
    expect(email.html).toMatch(/<blockquote[^>]*border-left: ?4px solid/);
  });

  it("carries the newsroom's brand colour", () => {
    expect(email.html).toMatch(/border-top: ?6px solid #7a1f5c/);
    expect(email.html).toMatch(/<a href="https:\/\/example\.org\/ohjelma"[^>]*color: ?#7a1f5c/);
  });

  it('leads with the main image, captioned and credited, before the title', () => {
    const image = email.html.indexOf('alt="Kirjaston julkisivu"');
    expect(image).toBeGreaterThan(0);
    expect(image).toBeLessThan(email.html.indexOf('<h1'));
    expect(email.html).toContain('Kirjaston julkisivu · Kuva: Matti Virtanen');
    expect(email.html).toContain('(Kuva: Anna Berg)');
  });
});

describe('photo credit', () => {
  it("adds the language's prefix only when the credit has none", () => {
    expect(creditLine('Matti Virtanen', 'fi')).toBe('Kuva: Matti Virtanen');
    expect(creditLine('Matti Virtanen', 'sv')).toBe('Foto: Matti Virtanen');
    expect(creditLine('Matti Virtanen', 'en')).toBe('Photo: Matti Virtanen');
    for (const given of ['Kuva: Matti Virtanen', 'kuva Matti Virtanen', 'Foto: Anna Berg', 'Photo: Lehtikuva', '© Lehtikuva', 'Kuvaaja: Matti']) {
      expect(creditLine(given, 'fi')).toBe(given);
    }
    expect(creditLine('Kuvakulma Oy', 'fi')).toBe('Kuva: Kuvakulma Oy');
    expect(creditLine('  ', 'fi')).toBeNull();
    expect(creditLine(null, 'fi')).toBeNull();
  });
});
