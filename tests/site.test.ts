import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import supertest from 'supertest';
import { buildApp } from '../src/app.js';
import { startTestApp, type TestApp } from './support/app.js';
import { expectValidHtml } from './support/html.js';
import { buildAttachment, buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { contactVcard, escapeText, foldLine } from '../src/site/vcard.js';
import { bodyForPage, socialLinks } from '../src/site/presenter.js';
import { highlight } from '../src/site/pages.js';
import { MATCH_END, MATCH_START } from '../src/releases/public.js';

/*
 * The public pages, rendered by the real app over a real database: every page type in
 * both languages validated as HTML, their links to each other, caching, and embargo.
 */

const BASE = 'https://news.example.test';

let t: TestApp;
let newsroom: NewsroomFixture;
let contact: Record<string, any>;
let release: Record<string, any>;
let image: Record<string, any>;
let pdf: Record<string, any>;

const path = (url: string) => {
  expect(url.startsWith(`${BASE}/`)).toBe(true);
  return url.slice(BASE.length);
};
const get = (url: string) => t.http.get(path(url));

const attr = (html: string, pattern: RegExp) => pattern.exec(html)?.[1];
const alternatesOf = (html: string) =>
  Object.fromEntries([...html.matchAll(/<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">/g)].map((m) => [m[1], m[2]]));
const jsonLdOf = (html: string) =>
  JSON.parse(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html)![1]!) as Record<string, any>;
const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=').replace(/&quot;/g, '"').replace(/&#x27;/g, "'");

async function publish(id: string) {
  await t.http.post(`/api/releases/${id}/publish`).set(newsroom.auth).expect(200);
}

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t, {
    social: {
      x: '@example',
      linkedin: 'https://www.linkedin.com/company/example',
      facebook: 'https://evil.example/facebook.com',
      youtube: 'http://www.youtube.com/example',
    },
  });
  contact = await buildContact(t, newsroom, { name: 'Maija "M" Meikäläinen; PR, <b>', email: 'maija@example.org' });
  release = await buildRelease(t, newsroom, {
    contactIds: [contact.id],
    keywords: { fi: ['Kirjasto', 'kulttuuri'], sv: ['bibliotek'] },
    translations: {
      fi: {
        title: 'Uusi kirjasto & "lukusali" avataan <heti>',
        lead: 'Kaupunki avaa uuden kirjaston keskustaan.',
        body: 'Kirjasto avataan **maanantaina**. Lainaaminen on ilmaista.\n\n<iframe src="https://www.youtube.com/embed/abc" title="Esittely"></iframe>',
      },
      sv: { title: 'Nytt bibliotek öppnas', lead: 'Staden öppnar ett nytt bibliotek.', body: 'Biblioteket öppnas **på måndag**.' },
    },
  });
  const png = await sharp({ create: { width: 2400, height: 1200, channels: 3, background: { r: 30, g: 90, b: 160 } } }).png().toBuffer();
  image = await buildAttachment(t, newsroom, release.id, {
    bytes: png,
    filename: 'kirjasto.png',
    fields: { caption_fi: 'Kirjaston julkisivu', caption_sv: 'Bibliotekets fasad', credit: 'Kaupunki' },
  });
  pdf = await buildAttachment(t, newsroom, release.id, { filename: 'esite.pdf' });
  await publish(release.id);
  release = (await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200)).body;
});
afterAll(() => t.close());

describe('release page', () => {
  it('shows everything about the release in Finnish, as valid HTML under a strict CSP', async () => {
    const res = await get(release.links.web.fi).expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    const html = res.text;
    await expectValidHtml(html);
    expect(html).toContain('<html lang="fi">');
    expect(html).toContain('Länsi-Esimerkin kaupunki');
    expect(html).toContain('Tiedote');
    // The publication time in the newsroom's zone, the Finnish way.
    const published = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Helsinki', day: 'numeric', month: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(new Date(release.publishedAt));
    const p = Object.fromEntries(published.map((x) => [x.type, x.value]));
    expect(html).toContain(`${Number(p.day)}.${Number(p.month)}.${p.year} klo ${p.hour}.${p.minute}`);
    // Text is escaped, the stored body is not.
    expect(html).toContain('<h1>Uusi kirjasto &amp; &quot;lukusali&quot; avataan &lt;heti&gt;</h1>');
    expect(html).toContain('Kirjasto avataan <strong>maanantaina</strong>.');
    // The embedded player becomes a link: no third-party frame.
    expect(html).not.toContain('<iframe');
    expect(html).toContain('<a href="https://www.youtube.com/embed/abc" rel="noopener noreferrer nofollow">Esittely</a>');
    // Keywords link to keyword pages.
    expect(html).toContain(`href="${BASE}/${newsroom.slug}/fi/keyword/kirjasto" rel="tag">Kirjasto</a>`);
    // Contact card: tel:, mailto:, vCard; the name escaped.
    expect(html).toContain('href="tel:+358401234567"');
    expect(html).toContain('href="mailto:maija@example.org"');
    expect(html).toContain(`${BASE}/${newsroom.slug}/contacts/${contact.id}.vcf`);
    expect(html).toContain('Maija &quot;M&quot; Meikäläinen; PR, &lt;b&gt;');
    expect(html).toContain('viestintäjohtaja');
    // The image: rendition with srcset, caption as alt text, credit, size; the PDF with type and size.
    expect(html).toContain(`src="${image.webUrl}" srcset="${image.webUrl} 1600w"`);
    expect(html).toContain('width="1600" height="800" alt="Kirjaston julkisivu"');
    expect(html).toContain('Kuva: Kaupunki');
    expect(html).toContain('2400 × 1200 px');
    expect(html).toContain(`href="${pdf.url}" download>esite.pdf</a> <span class="file">(PDF,`);
    // Boilerplate, social links (only https on the network's own host become links), language links.
    expect(html).toContain('Länsi-Esimerkki on <strong>kaupunki</strong>.');
    expect(html).toContain('<a href="https://www.linkedin.com/company/example" rel="noopener noreferrer">');
    // Named links: the X handle becomes one too.
    expect(html).toContain('<a href="https://x.com/example" rel="noopener noreferrer">X @example</a>');
    expect(html).toContain('<a href="https://www.linkedin.com/company/example" rel="noopener noreferrer">LinkedIn</a>');
    expect(html).toContain('Facebook: https://evil.example/facebook.com');
    expect(html).toContain('YouTube: http://www.youtube.com/example');
    expect(html).toContain(`<a href="${release.links.web.sv}" hreflang="sv" lang="sv">Svenska</a>`);
    // The subscribe form posts without script to the subscriptions endpoint.
    expect(html).toContain(`<form action="${BASE}/api/newsrooms/${newsroom.slug}/subscriptions" method="post">`);
    expect(html).toContain('<input type="checkbox" name="languages" value="fi" checked> Suomi');
    expect(html).toContain('<input type="checkbox" name="languages" value="sv"> Ruotsi');
    expect(html).not.toMatch(/<script(?! type="application\/ld\+json")/);
    expect(html).not.toContain('style=');
  });

  it('is written wholly in Swedish in Swedish', async () => {
    const res = await get(release.links.web.sv).expect(200);
    const html = res.text;
    await expectValidHtml(html);
    expect(html).toContain('<html lang="sv">');
    expect(html).toContain('Pressmeddelande');
    expect(html).toMatch(/Publicerad <time datetime="[^"]+">\d+\.\d+\.\d{4} kl\. \d{2}\.\d{2}<\/time>/);
    expect(html).toContain('Västra Exempel stad');
    expect(html).toContain('alt="Bibliotekets fasad"');
    expect(html).toContain('Foto: Kaupunki');
    expect(html).toContain('kommunikationsdirektör');
    expect(html).toContain('Prenumerera');
    expect(html).toContain('> Finska</label>');
    for (const finnish of ['Julkaistu', 'Tiedote', 'Lisätietoja', 'Tilaa', 'Kuvat', 'Liitteet', 'Avainsanat']) {
      expect(html).not.toContain(`>${finnish}<`);
    }
  });

  it('links its language versions both ways, with x-default, canonical and OpenGraph under PUBLIC_URL', async () => {
    const fi = (await get(release.links.web.fi)).text;
    const sv = (await get(release.links.web.sv)).text;
    const expected = { fi: release.links.web.fi, sv: release.links.web.sv, 'x-default': release.links.web.fi };
    expect(alternatesOf(fi)).toEqual(expected);
    expect(alternatesOf(sv)).toEqual(expected);
    expect(decode(attr(fi, /<link rel="canonical" href="([^"]+)">/)!)).toBe(release.links.web.fi);
    expect(decode(attr(sv, /<link rel="canonical" href="([^"]+)">/)!)).toBe(release.links.web.sv);
    expect(decode(attr(fi, /<meta property="og:url" content="([^"]+)">/)!)).toBe(release.links.web.fi);
    expect(decode(attr(fi, /<meta property="og:image" content="([^"]+)">/)!)).toBe(image.webUrl);
    expect(attr(fi, /<meta name="twitter:card" content="([^"]+)">/)).toBe('summary_large_image');
    for (const url of [...fi.matchAll(/(?:href|src|content)="(https?:[^"]+)"/g)].map((m) => decode(m[1]!))) {
      const host = new URL(url).host;
      // Absolute URLs are ours, except the outgoing links a reader may follow.
      if (host !== 'news.example.test') expect(['example.org', 'www.linkedin.com', 'www.youtube.com', 'schema.org', 'x.com']).toContain(host);
    }
    // Feed autodiscovery.
    expect(fi).toContain(`<link rel="alternate" type="application/rss+xml" title="Länsi-Esimerkin kaupunki – RSS-syöte" href="${BASE}/${newsroom.slug}/fi/rss.xml">`);
    expect(fi).toContain(`type="application/atom+xml"`);
    expect(fi).toContain(`type="application/feed+json"`);
  });

  it('describes itself as a schema.org NewsArticle in JSON-LD', async () => {
    const data = jsonLdOf((await get(release.links.web.fi)).text);
    expect(data).toMatchObject({
      '@context': 'https://schema.org',
      '@type': 'NewsArticle',
      headline: 'Uusi kirjasto & "lukusali" avataan <heti>',
      datePublished: release.publishedAt,
      inLanguage: 'fi',
      keywords: 'Kirjasto, kulttuuri',
      image: [image.webUrl],
      publisher: { '@type': 'Organization', name: 'Länsi-Esimerkin kaupunki', url: 'https://example.org' },
    });
    // `<` in the data cannot close the script element.
    expect((await get(release.links.web.fi)).text).toContain('avataan \\u003cheti>');
  });

  it('redirects an old or wrong title slug to the canonical address (301)', async () => {
    const wrong = release.links.web.fi.replace(/\/[^/]+$/, '/vanha-otsikko');
    const res = await get(wrong).expect(301);
    expect(res.headers.location).toBe(release.links.web.fi);
    const bare = await get(release.links.web.fi.replace(/\/[^/]+$/, '')).expect(301);
    expect(bare.headers.location).toBe(release.links.web.fi);
  });

  it('shows an "updated" line once edited after publication', async () => {
    expect((await get(release.links.web.fi)).text).not.toContain('Päivitetty');
    t.clock.advance(60_000);
    await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ translations: { sv: { lead: 'Staden öppnar ett nytt stort bibliotek.' } }, change: { kind: 'minor' } }).expect(200);
    const html = (await get(release.links.web.fi)).text;
    expect(html).toMatch(/Päivitetty <time datetime="[^"]+">/);
    expect(jsonLdOf(html).dateModified).not.toBe(release.publishedAt);
  });

  it('answers conditional requests: strong ETag, Last-Modified, 304, revalidated on every reuse', async () => {
    const first = await get(release.links.web.fi).expect(200);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(first.headers['last-modified']).toBeDefined();
    expect(first.headers['cache-control']).toBe('public, no-cache');
    await get(release.links.web.fi).set('If-None-Match', etag).expect(304);
    await get(release.links.web.fi).set('If-Modified-Since', first.headers['last-modified']!).expect(304);
    // Node's fetch (and some feed readers) send no-cache with every conditional request: it is for caches, not for us.
    await get(release.links.web.fi).set({ 'If-None-Match': etag, 'Cache-Control': 'no-cache', Pragma: 'no-cache' }).expect(304);
    await get(release.links.web.fi).set({ 'If-None-Match': '"other"', 'Cache-Control': 'no-cache' }).expect(200);
    const second = await get(release.links.web.fi).expect(200);
    expect(second.headers.etag).toBe(etag);
  });
});

describe('compression', () => {
  /** A GET over a real socket: the bytes as sent, undecoded (supertest would decode them). */
  const rawGet = (url: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const server = t.app.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        http
          .get({ host: '127.0.0.1', port, path: path(url), headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              server.close();
              resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
            });
          })
          .on('error', reject);
      });
    });

  it('answers by Accept-Encoding (Brotli first among equals) with Vary and a strong ETag per encoding, each 304 on its own', async () => {
    for (const url of [release.links.web.fi, newsroom.body.links.rss.fi]) {
      const plain = await rawGet(url, { 'Accept-Encoding': 'identity' });
      const gzip = await rawGet(url, { 'Accept-Encoding': 'gzip' });
      const br = await rawGet(url, { 'Accept-Encoding': 'gzip, deflate, br' });
      const gzipPreferred = await rawGet(url, { 'Accept-Encoding': 'br;q=0.5, gzip' });
      expect([plain.status, gzip.status, br.status]).toEqual([200, 200, 200]);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(gzip.headers['content-encoding']).toBe('gzip');
      expect(br.headers['content-encoding']).toBe('br');
      expect(gzipPreferred.headers['content-encoding']).toBe('gzip');
      for (const res of [plain, gzip, br]) {
        expect(res.headers.vary).toMatch(/Accept-Encoding/);
        expect(res.headers.etag).toMatch(/^"[^"]+"$/);
      }
      expect(gunzipSync(gzip.body)).toEqual(plain.body);
      expect(brotliDecompressSync(br.body)).toEqual(plain.body);
      expect(br.body.length).toBeLessThan(plain.body.length / 2);
      expect(new Set([plain.headers.etag, gzip.headers.etag, br.headers.etag]).size).toBe(3);
      // Compressed once, when kept: the same bytes again.
      expect((await rawGet(url, { 'Accept-Encoding': 'br' })).headers.etag).toBe(br.headers.etag);
      const notModified = await rawGet(url, { 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag! });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.vary).toMatch(/Accept-Encoding/);
      // Another encoding's ETag does not match this one.
      expect((await rawGet(url, { 'Accept-Encoding': 'gzip', 'If-None-Match': br.headers.etag! })).status).toBe(200);
    }
  });

  it('leaves small outputs as they are', async () => {
    const robots = await rawGet(`${BASE}/robots.txt`, { 'Accept-Encoding': 'br, gzip' });
    expect(robots.status).toBe(200);
    expect(robots.headers['content-encoding']).toBeUndefined();
  });
});

describe('newsroom, keyword, search and front pages', () => {
  it('renders the newsroom page in both languages with releases, contacts, feeds, subscribe form', async () => {
    for (const lang of ['fi', 'sv'] as const) {
      const res = await get(newsroom.body.links.web[lang]).expect(200);
      await expectValidHtml(res.text);
      expect(res.text).toContain(`<html lang="${lang}">`);
      expect(res.text).toContain(release.links.web[lang]);
      expect(res.text).toContain(`${BASE}/${newsroom.slug}/contacts/${contact.id}.vcf`);
      expect(res.text).toContain(`href="${newsroom.body.links.rss[lang]}"`);
      expect(res.text).toContain(`/api/newsrooms/${newsroom.slug}/subscriptions`);
      expect(alternatesOf(res.text)).toEqual({
        fi: newsroom.body.links.web.fi,
        sv: newsroom.body.links.web.sv,
        'x-default': newsroom.body.links.web.fi,
      });
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    }
    expect((await get(newsroom.body.links.web.sv)).text).toContain('Senaste meddelanden');
  });

  it('sends a newsroom address without a language to its first language', async () => {
    const res = await t.http.get(`/${newsroom.slug}`).expect(302);
    expect(res.headers.location).toBe(newsroom.body.links.web.fi);
  });

  it('paginates the newsroom page, and a page past the end is a 404', async () => {
    const res = await t.http.get(`/${newsroom.slug}/fi?page=2`).expect(404);
    expect(res.text).toContain('<html lang="fi">');
    await t.http.get(`/${newsroom.slug}/fi?page=x`).expect(404);
  });

  it('renders keyword pages, matching the keyword in any case', async () => {
    const res = await t.http.get(`/${newsroom.slug}/fi/keyword/KIRJASTO`).expect(200);
    await expectValidHtml(res.text);
    expect(res.text).toContain('<h1>Avainsana: Kirjasto</h1>');
    expect(res.text).toContain(`href="${BASE}/${newsroom.slug}/fi/keyword/kirjasto/atom.xml"`);
    expect(res.text).toContain(release.links.web.fi);
    const sv = await t.http.get(`/${newsroom.slug}/sv/keyword/bibliotek`).expect(200);
    await expectValidHtml(sv.text);
    expect(sv.text).toContain('Nyckelord: bibliotek');
    await t.http.get(`/${newsroom.slug}/sv/keyword/kirjasto`).expect(404);
  });

  it('searches title, lead, body and keywords with highlighted, escaped matches', async () => {
    const byBody = await t.http.get(`/${newsroom.slug}/fi/search`).query({ q: 'lainaaminen' }).expect(200);
    await expectValidHtml(byBody.text);
    expect(byBody.text).toContain(release.links.web.fi);
    expect(byBody.text).toMatch(/<mark>Lainaaminen<\/mark>/);
    const byTitle = await t.http.get(`/${newsroom.slug}/fi/search`).query({ q: 'kirjasto lukusali' }).expect(200);
    expect(byTitle.text).toContain('&amp; &quot;<mark>lukusali</mark>&quot;');
    expect(byTitle.text).toContain('&lt;heti&gt;');
    const byKeyword = await t.http.get(`/${newsroom.slug}/fi/search`).query({ q: 'kulttuuri' }).expect(200);
    expect(byKeyword.text).toContain(release.links.web.fi);
    const sv = await t.http.get(`/${newsroom.slug}/sv/search`).query({ q: 'måndag' }).expect(200);
    await expectValidHtml(sv.text);
    expect(sv.text).toContain(release.links.web.sv);
    const none = await t.http.get(`/${newsroom.slug}/fi/search`).query({ q: 'olematon' }).expect(200);
    expect(none.text).toContain('Haulla ei löytynyt tiedotteita.');
    const hostile = await t.http.get(`/${newsroom.slug}/fi/search`).query({ q: '"<script>alert(1)</script> OR * NEAR(' }).expect(200);
    expect(hostile.text).not.toContain('<script>alert');
    await expectValidHtml(hostile.text);
    // Ranked: a match in the title comes before a match in the body.
    const inBody = await buildRelease(t, newsroom, {
      translations: { fi: { title: 'Kesän tapahtumat', lead: 'Paljon tekemistä.', body: 'Myös uimahalli on auki.' } },
      keywords: {},
    });
    const inTitle = await buildRelease(t, newsroom, {
      translations: { fi: { title: 'Uimahalli remontoidaan', lead: 'Uimahalli suljetaan.', body: 'Uimahalli on kiinni.' } },
      keywords: {},
    });
    await publish(inBody.id);
    await publish(inTitle.id);
    const ranked = (await t.http.get(`/${newsroom.slug}/fi/search`).query({ q: 'uimahalli' }).expect(200)).text;
    expect(ranked.indexOf(inTitle.id)).toBeGreaterThan(0);
    expect(ranked.indexOf(inTitle.id)).toBeLessThan(ranked.indexOf(inBody.id));
    const empty = await t.http.get(`/${newsroom.slug}/fi/search`).expect(200);
    await expectValidHtml(empty.text);
  });

  it('renders the front page with every newsroom', async () => {
    const res = await t.http.get('/').expect(200);
    await expectValidHtml(res.text);
    expect(res.text).toContain(release.links.web.fi);
    expect(res.text).toContain(newsroom.body.links.web.fi);
    expect(res.text).toContain(`<link rel="alternate" type="application/rss+xml" title="Newsroom – RSS feed" href="${BASE}/rss.xml">`);
    // Each release's time in its own newsroom's zone (Europe/Helsinki here), as on its pages.
    const published = (await t.http.get(`/api/releases/${release.id}`).expect(200)).body.publishedAt as string;
    const helsinki = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Helsinki', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(published));
    expect(res.text).toContain(`<time datetime="${published}">`);
    expect(res.text).toMatch(new RegExp(`<time datetime="${published}">[^<]* at ${helsinki}</time>`));
    expect(res.headers.etag).toBeDefined();
  });

  it("speaks the visitor's language (Accept-Language, or the switch), lists each release once and has one main heading", async () => {
    const fi = await t.http.get('/').set('Accept-Language', 'fi-FI,fi;q=0.9,en;q=0.8').expect(200);
    expect(fi.headers.vary).toMatch(/Accept-Language/);
    expect(fi.text).toContain('<html lang="fi">');
    expect(fi.text.match(/<h1[ >]/g)).toHaveLength(1);
    expect(fi.text).not.toContain(`<h2 id="latest-heading">`);
    // The Finnish version, once, with a link to the Swedish one.
    expect(fi.text.split(`href="${release.links.web.fi}"`).length - 1).toBe(1);
    expect(fi.text).toContain(`<a href="${release.links.web.sv}" hreflang="sv" lang="sv">Svenska</a>`);
    expect(fi.text).toContain(`href="${BASE}/?lang&#x3D;sv"`);

    const sv = await t.http.get('/?lang=sv').set('Accept-Language', 'fi').expect(200);
    expect(sv.text).toContain('<html lang="sv">');
    expect(sv.text.split(`href="${release.links.web.sv}"`).length - 1).toBe(1);
    expect(sv.text).not.toContain(`href="${release.links.web.fi}" lang="fi"`);
    await expectValidHtml(sv.text);
    expect((await t.http.get('/').set('Accept-Language', 'de').expect(200)).text).toContain('<html lang="en">');
  });
});

describe('vCards', () => {
  it('serves a vCard for a contact on a public release', async () => {
    const res = await t.http.get(`/${newsroom.slug}/contacts/${contact.id}.vcf`).expect(200);
    expect(res.headers['content-type']).toBe('text/vcard; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename=".+\.vcf"$/);
    const text = res.text;
    expect(text.startsWith('BEGIN:VCARD\r\nVERSION:4.0\r\n')).toBe(true);
    expect(text).toContain('FN:Maija "M" Meikäläinen\\; PR\\, <b>');
    expect(text).toContain('TEL;VALUE=uri;TYPE=work,voice:tel:+358401234567');
    expect(text).toContain('EMAIL;TYPE=work:maija@example.org');
    expect(text).toContain('TITLE;LANGUAGE=sv;ALTID=1:kommunikationsdirektör');
  });

  it('does not serve contacts that are on no public release', async () => {
    const hidden = await buildContact(t, newsroom, { name: 'Sisäinen' });
    await t.http.get(`/${newsroom.slug}/contacts/${hidden.id}.vcf`).expect(404);
    await t.http.get(`/${newsroom.slug}/contacts/not-an-id.vcf`).expect(404);
  });

  it('escapes and folds per RFC 6350', () => {
    expect(escapeText('a\\b,c;d\ne')).toBe('a\\\\b\\,c\\;d\\ne');
    expect(escapeText('a\r\nb\u0007\u0000c')).toBe('a\\nbc');
    const folded = foldLine(`NOTE:${'ä'.repeat(60)}`);
    for (const line of folded.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(folded.replace(/\r\n /g, '')).toBe(`NOTE:${'ä'.repeat(60)}`);
    const card = contactVcard({
      contact: { id: 'x', newsroomId: 'n', name: 'N', title: {}, phone: null, email: null, createdAt: '', updatedAt: '2026-01-02T03:04:05.000Z' },
      organisation: 'Org; Inc',
      languages: ['fi'],
      url: 'https://x.test/a',
    });
    expect(card).toContain('ORG:Org\\; Inc\r\n');
    expect(card).toContain('REV:20260102T030405Z\r\n');
  });
});

describe('small parts', () => {
  it('makes a social handle a link only for https on the network\'s own host', () => {
    expect(socialLinks({
      x: 'https://x.com/example',
      twitter: 'https://mobile.twitter.com/example',
      facebook: 'http://facebook.com/example',
      instagram: 'https://instagram.com.evil.example/x',
      youtube: 'https://user:pw@youtube.com/x',
      mastodon: 'https://mastodon.social/@example',
    }).map((l) => l.href)).toEqual(['https://x.com/example', 'https://mobile.twitter.com/example', null, null, null, null]);
    // A bare handle of a network with profile addresses becomes a named link.
    expect(socialLinks({ x: '@example', instagram: 'example.city', linkedin: 'example' })).toEqual([
      { label: 'X', name: 'X @example', text: '@example', href: 'https://x.com/example' },
      { label: 'Instagram', name: 'Instagram @example.city', text: 'example.city', href: 'https://www.instagram.com/example.city/' },
      { label: 'LinkedIn', name: 'LinkedIn', text: 'example', href: null },
    ]);
  });

  it('highlights matches with everything else escaped', () => {
    expect(highlight(`a <b> ${MATCH_START}c&d${MATCH_END}`)).toBe('a &lt;b&gt; <mark>c&amp;d</mark>');
  });

  it('turns embedded players and foreign images into links', () => {
    const html = bodyForPage('<p>x <img src="https://cdn.example/a.png" alt="A &amp; B"> <img src="https://news.example.test/files/1/web" alt=""></p>', BASE, 'en');
    expect(html).toBe('<p>x <a href="https://cdn.example/a.png" rel="noopener noreferrer nofollow">A &amp; B</a> <img src="https://news.example.test/files/1/web" alt=""></p>');
  });
});

describe('errors', () => {
  it('answers unknown addresses with an HTML 404 page, in the newsroom language when it names one', async () => {
    const unknown = await t.http.get('/no-such-newsroom/fi').expect(404);
    expect(unknown.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(unknown.text).toContain('<html lang="en">');
    await expectValidHtml(unknown.text);
    const inNewsroom = await t.http.get(`/${newsroom.slug}/sv/nothing/here/at/all`).expect(404);
    expect(inNewsroom.text).toContain('<html lang="sv">');
    expect(inNewsroom.text).toContain('Sidan hittades inte');
    await expectValidHtml(inNewsroom.text);
    // Under /api the answer stays problem+json.
    const api = await t.http.get('/api/nothing').expect(404);
    expect(api.headers['content-type']).toContain('application/problem+json');
  });

  it('serves its stylesheets itself, cached', async () => {
    const html = (await get(release.links.web.fi)).text;
    const css = decode(attr(html, /<link rel="stylesheet" href="([^"]+)">/)!);
    const res = await get(css).expect(200);
    expect(res.headers['content-type']).toContain('text/css');
    expect(res.headers['cache-control']).toMatch(/max-age=\d{4,}/);
    const print = decode(attr(html, /<link rel="stylesheet" href="([^"]+)" media="print">/)!);
    await get(print).expect(200);
  });

  it('answers /favicon.ico with the icon as an ICO, for clients that read no page', async () => {
    const res = await t.http
      .get('/favicon.ico')
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toBe('image/x-icon');
    const ico = res.body as Buffer;
    expect([...ico.subarray(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]); // an icon holding one image
    const png = ico.subarray(ico.readUInt32LE(18));
    expect(png.length).toBe(ico.readUInt32LE(14));
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 32, height: 32 });
    await t.http.get('/favicon.ico').set('If-None-Match', res.headers.etag!).expect(304);
  });
});

describe('embargo, withdrawal and preview', () => {
  let scheduled: Record<string, any>;
  const publicUrls = () => [
    newsroom.body.links.web.fi,
    `${BASE}/${newsroom.slug}/fi/keyword/kirjasto`,
    `${BASE}/${newsroom.slug}/fi/search?q=salainen`,
    `${BASE}/`,
    newsroom.body.links.ninjs.fi,
    newsroom.body.links.calendar.fi,
    release.links.web.fi,
  ];
  /** The release's own addresses for aggregators: its ninjs and its event's .ics. */
  const ownUrls = () => [scheduled.links.ninjs.fi, scheduled.links.ics.fi];

  beforeAll(async () => {
    const embargoContact = await buildContact(t, newsroom, { name: 'Embargo Person' });
    scheduled = await buildRelease(t, newsroom, {
      type: 'invitation',
      event: { startsAt: '2030-01-15T10:00:00+02:00', place: 'Salainen paikka' },
      contactIds: [embargoContact.id],
      keywords: { fi: ['kirjasto'] },
      translations: { fi: { title: 'Salainen uutinen', lead: 'Salainen ingressi.', body: 'Salainen teksti.' } },
    });
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
    await buildAttachment(t, newsroom, scheduled.id, { bytes: png, filename: 'salainen.png' });
    const publishAt = new Date(t.clock.now().getTime() + 5_000).toISOString();
    scheduled = (await t.http.post(`/api/releases/${scheduled.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200)).body;
  });

  it('before publishAt: 404 exactly like unknown, and absent from every list, search, "more from" and OpenGraph', async () => {
    const page = await get(scheduled.links.web.fi).expect(404);
    const unknown = await get(scheduled.links.web.fi.replace(scheduled.id, '00000000-0000-4000-8000-000000000000')).expect(404);
    expect(page.text).toBe(unknown.text);
    expect(page.headers['cache-control']).toBe('no-store');
    const contactId = scheduled.contacts[0].id;
    await t.http.get(`/${newsroom.slug}/contacts/${contactId}.vcf`).expect(404);
    for (const url of ownUrls()) {
      const own = await get(url).expect(404);
      const none = await get(url.replace(scheduled.id, '00000000-0000-4000-8000-000000000000')).expect(404);
      expect(own.text.replace(scheduled.id, '00000000-0000-4000-8000-000000000000')).toBe(none.text);
      expect(own.headers['cache-control']).toBe('no-store');
    }
    for (const url of publicUrls()) {
      const res = await get(url).expect(200);
      expect(res.text).not.toContain(scheduled.id);
      expect(res.text).not.toContain('Salainen');
      expect(res.text).not.toContain('Embargo Person');
      expect(res.text).not.toContain(scheduled.attachments[0].id);
      // Nothing is reused without asking us, so nothing outlives the embargo; and the header
      // is the one every page has, so it does not tell when the embargo lifts.
      expect(res.headers['cache-control']).toBe('public, no-cache');
    }
  });

  it('at publishAt: present everywhere without any job having run', async () => {
    t.clock.advance(6_000);
    const page = await get(scheduled.links.web.fi).expect(200);
    expect(page.text).toContain('Salainen uutinen');
    expect(page.text).toContain('<dd>Salainen paikka</dd>');
    for (const url of publicUrls().slice(0, 6)) {
      expect((await get(url).expect(200)).text).toContain(scheduled.id);
    }
    for (const url of ownUrls()) expect((await get(url).expect(200)).text).toContain('Salainen');
    expect((await get(release.links.web.fi)).text).toContain('Salainen uutinen'); // "more from this newsroom"
    await t.http.get(`/${newsroom.slug}/contacts/${scheduled.contacts[0].id}.vcf`).expect(200);
  });

  it('withdrawn: a 410 page in its language saying when, and gone from lists and search', async () => {
    // A second web process on the same database, with its own render cache, warmed up now.
    const second = supertest(buildApp(t.ctx));
    expect((await second.get(path(newsroom.body.links.web.fi)).expect(200)).text).toContain(scheduled.id);
    await second.get(path(scheduled.links.web.fi)).expect(200);
    await t.http.post(`/api/releases/${scheduled.id}/withdraw`).set(newsroom.auth).expect(200);
    expect((await second.get(path(newsroom.body.links.web.fi)).expect(200)).text).not.toContain(scheduled.id);
    await second.get(path(scheduled.links.web.fi)).expect(410);
    const res = await get(scheduled.links.web.fi).expect(410);
    await expectValidHtml(res.text);
    expect(res.text).toContain('<html lang="fi">');
    expect(res.text).toContain('Tiedote on vedetty pois');
    expect(res.text).toMatch(/Julkaisija veti tämän tiedotteen pois \d+\.\d+\.\d{4} klo \d{2}\.\d{2}\./);
    expect(res.text).not.toContain('Salainen');
    for (const url of publicUrls()) {
      const page = await get(url).expect(200);
      expect(page.text).not.toContain(scheduled.id);
    }
    // Gone as its pages are; the ninjs says so to wire services, with nothing of the content.
    for (const url of ownUrls()) expect((await get(url).expect(410)).text).not.toContain('Salainen');
  });

  it('preview: the page as it will look, for the newsroom staff only, never cached', async () => {
    const draft = await buildRelease(t, newsroom, {
      translations: { fi: { title: 'Luonnos', lead: 'Ingressi.', body: 'Teksti.' } },
      keywords: {},
    });
    const url = `/api/releases/${draft.id}/preview/fi`;
    const res = await t.http.get(url).set(newsroom.auth).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    await expectValidHtml(res.text);
    expect(res.text).toContain('<h1>Luonnos</h1>');
    expect(decode(attr(res.text, /<link rel="canonical" href="([^"]+)">/)!)).toBe(draft.links.web.fi);
    await t.http.get(url).expect(401);
    const other = await buildNewsroom(t);
    await t.http.get(url).set(other.auth).expect(403);
    await t.http.get(`/api/releases/${draft.id}/preview/sv`).set(newsroom.auth).expect(404);
    // The draft itself is nowhere public.
    await get(draft.links.web.fi).expect(404);
  });
});
