import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { pino } from 'pino';
import sharp from 'sharp';
import supertest from 'supertest';
import { z } from 'zod';
import { buildApp } from '../src/app.js';
import { closeContext, createContext } from '../src/runtime.js';
import { asText, startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';

/*
 * Feeds, sitemap and robots.txt, read the way aggregators read them: every feed parsed
 * by Debian's python3-feedparser (not our code), the sitemap by Python's XML parser,
 * JSON Feed checked against the structure of its 1.1 specification.
 */

const BASE = 'https://news.example.test';
const formats = ['rss.xml', 'atom.xml', 'feed.json'] as const;

let t: TestApp;
let newsroom: NewsroomFixture;
let contact: Record<string, any>;
let release: Record<string, any>; // fi + sv, image and PDF, contact, keywords
let finnishOnly: Record<string, any>;
let image: Record<string, any>;
let pdf: Record<string, any>;

const path = (url: string) => url.replace(BASE, '');

/** GET as text, whatever the content type. */
const get = (url: string, headers: Record<string, string> = {}) => asText(t.http.get(path(url)).set(headers));

const python = (script: string, input: string) =>
  JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input, maxBuffer: 64 * 1024 * 1024 }).toString());

/** Parses a JSON list of feed documents, answering one result per document. */
const FEEDPARSER = `
import sys, json, re, html, feedparser
def shown(detail):
    # Text as the reader shows it: an HTML value (RSS titles and descriptions) as its text.
    if detail is None: return None
    value = detail.get('value')
    return html.unescape(re.sub(r'<[^>]*>', '', value)) if detail.get('type') == 'text/html' else value
def entry(e):
    return {
        'id': e.get('id'), 'guidislink': e.get('guidislink'), 'title': shown(e.get('title_detail')), 'link': e.get('link'),
        'author': e.get('author'), 'published': e.get('published'), 'summary': shown(e.get('summary_detail')) or '',
        'content': [c['value'] for c in e.get('content', [])],
        'tags': [x['term'] for x in e.get('tags', [])],
        'enclosures': [{'href': x.get('href'), 'length': x.get('length'), 'type': x.get('type')} for x in e.get('enclosures', [])],
    }
def parse(text):
    d = feedparser.parse(text.encode('utf-8'))
    return {
        'bozo': int(d.bozo), 'error': str(d.get('bozo_exception', '')), 'version': d.version,
        'feed': {'title': shown(d.feed.get('title_detail')), 'link': d.feed.get('link'), 'language': d.feed.get('language'),
                 'subtitle': shown(d.feed.get('subtitle_detail')), 'updated': d.feed.get('updated'),
                 'links': [{'rel': l.get('rel'), 'href': l.get('href'), 'type': l.get('type')} for l in d.feed.get('links', [])]},
        'entries': [entry(e) for e in d.entries],
    }
print(json.dumps([parse(text) for text in json.load(sys.stdin)]))
`;

const SITEMAP_PARSER = `
import sys, json, xml.etree.ElementTree as ET
NS = {'s': 'http://www.sitemaps.org/schemas/sitemap/0.9', 'x': 'http://www.w3.org/1999/xhtml',
      'n': 'http://www.google.com/schemas/sitemap-news/0.9'}
root = ET.fromstring(sys.stdin.buffer.read())
def news(u):
    n = u.find('n:news', NS)
    if n is None: return None
    return {'name': n.findtext('n:publication/n:name', namespaces=NS), 'language': n.findtext('n:publication/n:language', namespaces=NS),
            'date': n.findtext('n:publication_date', namespaces=NS), 'title': n.findtext('n:title', namespaces=NS)}
print(json.dumps({'root': root.tag, 'urls': [
    {'loc': u.findtext('s:loc', namespaces=NS), 'lastmod': u.findtext('s:lastmod', namespaces=NS),
     'links': [{'rel': l.get('rel'), 'hreflang': l.get('hreflang'), 'href': l.get('href')} for l in u.findall('x:link', NS)],
     'news': news(u)}
    for u in root.findall('s:url', NS)]}))
`;

interface Parsed {
  bozo: number;
  error: string;
  version: string;
  feed: { title: string; link: string; language: string | null; subtitle: string; updated: string; links: { rel: string; href: string; type: string }[] };
  entries: {
    id: string;
    guidislink: boolean;
    title: string;
    link: string;
    author: string;
    published: string;
    summary: string;
    content: string[];
    tags: string[];
    enclosures: { href: string; length: string; type: string }[];
  }[];
}

/** Feeds as a reader sees them: XML feeds through feedparser (one run for all), JSON Feed through its schema, in one shape. */
async function readFeeds(urls: string[]): Promise<Parsed[]> {
  const bodies = await Promise.all(
    urls.map(async (url) => {
      const res = await get(url).expect(200);
      const type = url.endsWith('.json') ? 'application/feed+json' : url.endsWith('rss.xml') ? 'application/rss+xml' : 'application/atom+xml';
      expect(res.headers['content-type']).toBe(`${type}; charset=utf-8`);
      return res.body as string;
    }),
  );
  const xml = urls.flatMap((url, i) => (url.endsWith('.json') ? [] : [bodies[i]!]));
  const parsed: Parsed[] = xml.length ? python(FEEDPARSER, JSON.stringify(xml)) : [];
  return urls.map((url, i) => (url.endsWith('.json') ? fromJsonFeed(bodies[i]!) : parsed.shift()!));
}

const readFeed = async (url: string) => (await readFeeds([url]))[0]!;

function fromJsonFeed(body: string): Parsed {
  const feed = jsonFeed.parse(JSON.parse(body));
  return {
    bozo: 0,
    error: '',
    version: feed.version,
    feed: { title: feed.title, link: feed.home_page_url!, language: feed.language ?? null, subtitle: feed.description!, updated: '', links: [{ rel: 'self', href: feed.feed_url!, type: 'application/feed+json' }] },
    entries: feed.items.map((item) => ({
      id: item.id,
      guidislink: false,
      title: item.title!,
      link: item.url!,
      author: item.authors![0]!.name!,
      published: item.date_published!,
      summary: item.summary ?? '',
      content: [item.content_html!],
      tags: item.tags ?? [],
      enclosures: (item.attachments ?? []).map((a) => ({ href: a.url, length: String(a.size_in_bytes), type: a.mime_type })),
    })),
  };
}

/** JSON Feed 1.1 (https://jsonfeed.org/version/1.1): the fields, their types and the required ones. */
const absoluteUrl = z.url({ protocol: /^https?$/ });
const rfc3339 = z.iso.datetime({ offset: true });
const author = z.strictObject({ name: z.string().optional(), url: absoluteUrl.optional(), avatar: absoluteUrl.optional() });
const jsonFeed = z.strictObject({
  version: z.literal('https://jsonfeed.org/version/1.1'),
  title: z.string().min(1),
  home_page_url: absoluteUrl.optional(),
  feed_url: absoluteUrl.optional(),
  description: z.string().optional(),
  hubs: z.array(z.strictObject({ type: z.string().min(1), url: absoluteUrl })).optional(), // JSON Feed 1.1: WebSub

  language: z.string().optional(),
  authors: z.array(author).optional(),
  items: z.array(
    z
      .strictObject({
        id: z.string().min(1),
        url: absoluteUrl.optional(),
        title: z.string().optional(),
        content_html: z.string().optional(),
        content_text: z.string().optional(),
        summary: z.string().optional(),
        image: absoluteUrl.optional(),
        date_published: rfc3339.optional(),
        date_modified: rfc3339.optional(),
        authors: z.array(author).optional(),
        tags: z.array(z.string()).optional(),
        language: z.string().optional(),
        attachments: z
          .array(z.strictObject({ url: absoluteUrl, mime_type: z.string().min(1), title: z.string().optional(), size_in_bytes: z.number().int().nonnegative().optional() }))
          .optional(),
      })
      .refine((item) => item.content_html !== undefined || item.content_text !== undefined, 'an item has content_html or content_text'),
  ),
});

const feedUrls = (slug: string, lang: string) => formats.map((f) => `${BASE}/${slug}/${lang}/${f}`);
const keywordUrls = (slug: string, lang: string, keyword: string) =>
  formats.map((f) => `${BASE}/${slug}/${lang}/keyword/${encodeURIComponent(keyword)}/${f}`);
const allUrls = formats.map((f) => `${BASE}/${f}`);
const guidOf = (id: string, lang: string) => `urn:newsroom:release:${id}:${lang}`;

async function publish(id: string) {
  await t.http.post(`/api/releases/${id}/publish`).set(newsroom.auth).expect(200);
  return (await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200)).body as Record<string, any>;
}

async function sitemap() {
  const res = await get(`${BASE}/sitemap.xml`).expect(200);
  expect(res.headers['content-type']).toMatch(/^application\/xml/);
  return python(SITEMAP_PARSER, res.body as string) as {
    root: string;
    urls: { loc: string; lastmod: string | null; links: { rel: string; hreflang: string; href: string }[]; news: Record<string, string> | null }[];
  };
}

/** Which of these releases each feed (and the sitemap) shows, by guid / page URL. */
async function visibleIn(urls: string[], id: string, lang: string) {
  return (await readFeeds(urls)).map((feed) => {
    expect(feed.bozo).toBe(0);
    return feed.entries.some((e) => e.id === guidOf(id, lang));
  });
}
const inSitemap = async (id: string) => (await sitemap()).urls.some((u) => u.loc.includes(`/${id}/`));

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  contact = await buildContact(t, newsroom);
  release = await buildRelease(t, newsroom, { contactIds: [contact.id], keywords: { fi: ['Kirjasto', 'kulttuuri'], sv: ['bibliotek'] } });
  // The PDF first: the feed must still put the image first.
  pdf = await buildAttachment(t, newsroom, release.id);
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();
  image = await buildAttachment(t, newsroom, release.id, { bytes: png, filename: 'kuva.png', fields: { caption_fi: 'Kirjaston julkisivu', credit: 'Kaupunki' } });
  release = await publish(release.id);
  finnishOnly = await buildRelease(t, newsroom, {
    translations: { fi: { title: 'Vain suomeksi & <tärkeää>', lead: 'Lyhyt ingressi.', body: 'Teksti.' } },
    keywords: { fi: ['liikenne'] },
  });
  finnishOnly = await publish(finnishOnly.id);
  await buildRelease(t, newsroom, { translations: { fi: { title: 'Luonnos', lead: '', body: 'Ei julkinen.' } } });
});
afterAll(() => t.close());

describe('newsroom feeds', () => {
  it('RSS 2.0 parses without error and carries every field of each release', async () => {
    const feed = await readFeed(newsroom.body.links.rss.fi);
    expect(feed).toMatchObject({ bozo: 0, version: 'rss20' });
    expect(feed.feed).toMatchObject({
      title: 'Länsi-Esimerkin kaupunki',
      link: newsroom.body.links.web.fi,
      language: 'fi',
      subtitle: 'Länsi-Esimerkki on kaupunki.', // the boilerplate as text
    });
    expect(feed.feed.links).toContainEqual({ rel: 'self', href: newsroom.body.links.rss.fi, type: 'application/rss+xml' });
    expect(feed.entries.map((e) => e.title)).toEqual(['Vain suomeksi & <tärkeää>', 'Uusi kirjasto avataan']);

    const entry = feed.entries[1]!;
    expect(entry).toMatchObject({
      id: guidOf(release.id, 'fi'),
      guidislink: false,
      link: release.links.web.fi,
      author: 'Länsi-Esimerkin kaupunki',
      summary: 'Kaupunki avaa uuden kirjaston.',
      tags: ['Kirjasto', 'kulttuuri'],
    });
    expect(new Date(entry.published).toISOString()).toBe(new Date(Math.floor(Date.parse(release.publishedAt) / 1000) * 1000).toISOString());
    const content = entry.content[0]!;
    expect(content).toContain('<p>Kirjasto avataan <strong>maanantaina</strong>.</p>'); // the stored sanitised body
    expect(content).toContain('Maija Meikäläinen');
    expect(content).toContain('mailto:maija@example.org');
    // One enclosure per attachment, the image first, with the real sizes and types.
    expect(entry.enclosures).toEqual([
      { href: image.url, length: String(image.size), type: 'image/png' },
      { href: pdf.url, length: String(pdf.size), type: 'application/pdf' },
    ]);
  });

  it('Atom 1.0 and JSON Feed 1.1 hold the same entries', async () => {
    const [rss, atom, json] = await readFeeds(feedUrls(newsroom.slug, 'fi'));
    expect(atom).toMatchObject({ bozo: 0, version: 'atom10' });
    expect(json!.version).toBe('https://jsonfeed.org/version/1.1');
    for (const feed of [atom!, json!]) {
      expect(feed.feed.title).toBe(rss!.feed.title);
      expect(feed.feed.link).toBe(rss!.feed.link);
      expect(feed.entries.map((e) => [e.id, e.title, e.link, e.author, e.tags, e.enclosures])).toEqual(
        rss!.entries.map((e) => [e.id, e.title, e.link, e.author, e.tags, e.enclosures]),
      );
    }
    // feedparser drops tel: links from the XML formats' HTML; JSON Feed is read as sent.
    expect(atom!.entries[1]!.content[0]).toBe(rss!.entries[1]!.content[0]);
    expect(json!.entries[1]!.content[0]).toContain('<a href="tel:+358401234567">+358 40 123 4567</a>');
    expect(atom!.feed.links).toContainEqual({ rel: 'self', href: `${BASE}/${newsroom.slug}/fi/atom.xml`, type: 'application/atom+xml' });
  });

  it('each language has its own feed with that language version of each release', async () => {
    for (const feed of await readFeeds(feedUrls(newsroom.slug, 'sv'))) {
      expect(feed.bozo).toBe(0);
      expect(feed.entries.map((e) => [e.id, e.title, e.link])).toEqual([[guidOf(release.id, 'sv'), 'Nytt bibliotek öppnas', release.links.web.sv]]);
      expect(feed.entries[0]!.author).toBe('Västra Exempel stad');
    }
  });

  it('a keyword feed holds the releases with that keyword, in any case; an unknown keyword is an empty valid feed', async () => {
    for (const feed of await readFeeds(keywordUrls(newsroom.slug, 'fi', 'kirjasto'))) {
      expect(feed.bozo).toBe(0);
      expect(feed.feed.title).toBe('Länsi-Esimerkin kaupunki: Kirjasto');
      expect(feed.entries.map((e) => e.id)).toEqual([guidOf(release.id, 'fi')]);
    }
    for (const feed of await readFeeds(keywordUrls(newsroom.slug, 'fi', 'ei-ole'))) {
      expect(feed.bozo).toBe(0);
      expect(feed.entries).toEqual([]);
    }
  });

  it('the feed of all newsrooms shows each release in its first language', async () => {
    const other = await buildNewsroom(t, { languages: ['en'], name: { en: 'Other Town' }, boilerplate: {} });
    const otherRelease = await t.http
      .post(`/api/newsrooms/${other.slug}/releases`)
      .set(other.auth)
      .send({ translations: { en: { title: 'Harbour opens', lead: 'The harbour opens.', body: 'Boats.' } } })
      .expect(201);
    await t.http.post(`/api/releases/${otherRelease.body.id}/publish`).set(other.auth).expect(200);
    for (const feed of await readFeeds(allUrls)) {
      expect(feed.bozo).toBe(0);
      const ids = feed.entries.map((e) => e.id);
      expect(ids).toEqual(expect.arrayContaining([guidOf(release.id, 'fi'), guidOf(finnishOnly.id, 'fi'), guidOf(otherRelease.body.id, 'en')]));
      expect(ids).not.toContain(guidOf(release.id, 'sv'));
      expect(feed.entries.find((e) => e.id === guidOf(otherRelease.body.id, 'en'))!.author).toBe('Other Town');
    }
  });

  it('unknown newsroom, a language the newsroom lacks, or a malformed one: 404', async () => {
    for (const url of [...feedUrls('no-such-newsroom', 'fi'), ...feedUrls(newsroom.slug, 'en'), ...feedUrls(newsroom.slug, 'xx'), ...keywordUrls(newsroom.slug, 'en', 'kirjasto')]) {
      const res = await get(url).expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    await get(`${BASE}/${newsroom.slug}/FI/rss.xml`).expect(404);
  });

  it('keeps every guid when a release is edited', async () => {
    const before = await readFeeds(feedUrls(newsroom.slug, 'fi'));
    await t.http
      .patch(`/api/releases/${release.id}`)
      .set(newsroom.auth)
      .send({ translations: { fi: { title: 'Uusi pääkirjasto avataan' } }, change: { kind: 'minor' } })
      .expect(200);
    const after = await readFeeds(feedUrls(newsroom.slug, 'fi'));
    for (const [i, feed] of after.entries()) {
      const edited = feed.entries.find((e) => e.title === 'Uusi pääkirjasto avataan')!;
      expect(edited.id).toBe(guidOf(release.id, 'fi'));
      expect(before[i]!.entries.map((e) => e.id)).toEqual(feed.entries.map((e) => e.id));
      expect(edited.link).toMatch(/\/uusi-paakirjasto-avataan$/);
    }
  });
});

describe('conditional requests and caching', () => {
  const conditionalUrls = () => [...feedUrls(newsroom.slug, 'fi'), ...allUrls, `${BASE}/sitemap.xml`];

  it('answers If-None-Match and If-Modified-Since with 304 and sends strong validators', async () => {
    for (const url of conditionalUrls()) {
      const first = await get(url).expect(200);
      const etag = first.headers.etag as string;
      const lastModified = first.headers['last-modified'] as string;
      expect(etag).toMatch(/^"[^"]+"$/); // strong: no W/
      expect(Date.parse(lastModified)).not.toBeNaN();
      expect(first.headers['cache-control']).toBe('public, no-cache');
      await get(url, { 'If-None-Match': etag }).expect(304);
      await get(url, { 'If-Modified-Since': lastModified }).expect(304);
      await get(url, { 'If-None-Match': '"something-else"' }).expect(200);
    }
  });

  it('answers 304 when the validators match, also to a request that says Cache-Control: no-cache (as Node\'s fetch does)', async () => {
    for (const url of conditionalUrls()) {
      const first = await get(url).expect(200);
      const reload = { 'Cache-Control': 'no-cache', Pragma: 'no-cache' };
      await get(url, { ...reload, 'If-None-Match': first.headers.etag as string }).expect(304);
      await get(url, { ...reload, 'If-Modified-Since': first.headers['last-modified'] as string }).expect(304);
      await get(url, { ...reload, 'If-None-Match': '"something-else"' }).expect(200);
    }
  });

  it('tells nothing of what staff do in private: drafts and scheduled releases leave every public answer as it was', async () => {
    const urls = [
      ...conditionalUrls(),
      newsroom.body.links.web.fi,
      `${BASE}/${newsroom.slug}/fi/keyword/kirjasto`,
      `${BASE}/`,
      newsroom.body.links.ninjs.fi,
      release.links.ninjs.fi,
      newsroom.body.links.calendar.fi,
    ];
    const answers = () => Promise.all(urls.map(async (url) => get(url).expect(200)));
    const before = await answers();

    t.clock.advance(2000); // Last-Modified counts whole seconds
    const draft = await buildRelease(t, newsroom, { keywords: { fi: ['kirjasto'] } });
    t.clock.advance(2000);
    await t.http.patch(`/api/releases/${draft.id}`).set(newsroom.auth).send({ translations: { fi: { lead: 'Muutettu.' } } }).expect(200);
    const scheduled = await buildRelease(t, newsroom, { keywords: { fi: ['kirjasto'] } });
    const inOneHour = new Date(t.clock.now().getTime() + 3600_000).toISOString();
    await t.http.post(`/api/releases/${scheduled.id}/schedule`).set(newsroom.auth).send({ publishAt: inOneHour }).expect(200);
    t.clock.advance(2000);
    await t.http.patch(`/api/releases/${scheduled.id}`).set(newsroom.auth).send({ translations: { fi: { title: 'Salainen' } } }).expect(200);
    // Its time comes closer: nothing counts down to it.
    const inTenSeconds = new Date(t.clock.now().getTime() + 10_000).toISOString();
    await t.http.post(`/api/releases/${scheduled.id}/schedule`).set(newsroom.auth).send({ publishAt: inTenSeconds }).expect(200);
    t.clock.advance(2000);
    const during = await answers();
    await t.http.post(`/api/releases/${scheduled.id}/unschedule`).set(newsroom.auth).expect(200);
    for (const id of [draft.id, scheduled.id]) await t.http.delete(`/api/releases/${id}`).set(newsroom.auth).expect(204);
    const after = await answers();

    for (const [i, url] of urls.entries()) {
      for (const res of [during[i]!, after[i]!]) {
        const shown = (r: typeof res) => [url, r.headers.etag, r.headers['last-modified'], r.headers['cache-control'], r.body];
        expect(shown(res)).toEqual(shown(before[i]!)); // the body: RSS lastBuildDate and Atom updated too
      }
    }
  });

  it('answers 200 with new validators after a change', async () => {
    const before = await Promise.all(conditionalUrls().map((url) => get(url).expect(200)));
    t.clock.advance(2000); // Last-Modified counts whole seconds
    await t.http
      .patch(`/api/releases/${release.id}`)
      .set(newsroom.auth)
      .send({ translations: { fi: { lead: 'Kaupunki avaa uuden pääkirjaston.' } }, change: { kind: 'minor' } })
      .expect(200);
    for (const [i, url] of conditionalUrls().entries()) {
      const { etag, 'last-modified': lastModified } = before[i]!.headers as Record<string, string>;
      const res = await get(url, { 'If-None-Match': etag! }).expect(200);
      expect(res.headers.etag).not.toBe(etag);
      await get(url, { 'If-Modified-Since': lastModified! }).expect(200);
    }
  });
});

describe('the sitemap and robots.txt', () => {
  it('lists every public release page with hreflang alternates, newsroom pages, and Google News entries', async () => {
    const map = await sitemap();
    expect(map.root).toBe('{http://www.sitemaps.org/schemas/sitemap/0.9}urlset');
    const byLoc = new Map(map.urls.map((u) => [u.loc, u]));
    const current = (await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200)).body;

    const pages = { fi: current.links.web.fi as string, sv: current.links.web.sv as string };
    for (const [lang, loc] of Object.entries(pages)) {
      const entry = byLoc.get(loc)!;
      expect(entry).toBeDefined();
      // Each version names every version (including itself) and x-default, the first language.
      expect(entry.links).toEqual([
        { rel: 'alternate', hreflang: 'fi', href: pages.fi },
        { rel: 'alternate', hreflang: 'sv', href: pages.sv },
        { rel: 'alternate', hreflang: 'x-default', href: pages.fi },
      ]);
      expect(entry.news).toEqual({
        name: lang === 'fi' ? 'Länsi-Esimerkin kaupunki' : 'Västra Exempel stad',
        language: lang,
        date: current.publishedAt,
        title: current.translations[lang].title,
      });
      expect(Date.parse(entry.lastmod!)).toBe(Date.parse(current.updatedAt));
    }
    expect(byLoc.get(finnishOnly.links.web.fi)!.news!.title).toBe('Vain suomeksi & <tärkeää>');
    expect(byLoc.get(newsroom.body.links.web.fi)!.links.map((l) => l.hreflang)).toEqual(['fi', 'sv', 'x-default']);
    expect(byLoc.has(newsroom.body.links.web.sv)).toBe(true);
    expect(byLoc.has(`${BASE}/`)).toBe(true);
    // Nothing unpublished: every release URL is one the API gave out for a published release.
    const releaseLocs = map.urls.filter((u) => u.loc.split('/').length > 6).map((u) => u.loc);
    expect(releaseLocs.every((loc) => loc.includes(release.id) || loc.includes(finnishOnly.id) || !loc.includes(newsroom.slug))).toBe(true);
  });

  it('serves robots.txt naming the sitemap by its absolute URL', async () => {
    const res = await get(`${BASE}/robots.txt`).expect(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toMatch(/^User-agent: \*$/m);
    expect(res.body).toMatch(/^Sitemap: https:\/\/news\.example\.test\/sitemap\.xml$/m);
  });
});

describe('embargo and withdrawal', () => {
  jest.setTimeout(60_000); // many feeds parsed per step
  const everyFeed = () => [...feedUrls(newsroom.slug, 'fi'), ...keywordUrls(newsroom.slug, 'fi', 'kirjasto'), ...allUrls];

  it('a scheduled release is in no feed and not in the sitemap before its time, and in all of them at it, with no job run', async () => {
    const scheduled = await buildRelease(t, newsroom, { keywords: { fi: ['kirjasto'] } });
    // Far enough ahead that parsing every feed before it cannot reach it in real time.
    const publishAt = new Date(t.clock.now().getTime() + 60_000).toISOString();
    await t.http.post(`/api/releases/${scheduled.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);

    expect(await visibleIn(everyFeed(), scheduled.id, 'fi')).toEqual(everyFeed().map(() => false));
    expect(await inSitemap(scheduled.id)).toBe(false);
    // No cache may keep the pre-publication state past publishAt.
    const rss = await get(newsroom.body.links.rss.fi).expect(200);
    const maxAge = Number(/max-age=(\d+)/.exec(rss.headers['cache-control'] as string)?.[1] ?? 0);
    expect(maxAge * 1000).toBeLessThanOrEqual(Date.parse(publishAt) - t.clock.now().getTime());

    t.clock.advance(61_000);
    expect(await visibleIn(everyFeed(), scheduled.id, 'fi')).toEqual(everyFeed().map(() => true));
    expect(await inSitemap(scheduled.id)).toBe(true);
    // Nothing recorded it: the row still says scheduled.
    const row = await t.ctx.db.selectFrom('releases').select('status').where('id', '=', scheduled.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('scheduled');
  });

  it('a withdrawn release leaves every feed and the sitemap at once', async () => {
    expect(await visibleIn(everyFeed(), release.id, 'fi')).toEqual(everyFeed().map(() => true));
    await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).expect(200);
    expect(await visibleIn(everyFeed(), release.id, 'fi')).toEqual(everyFeed().map(() => false));
    expect(await visibleIn(feedUrls(newsroom.slug, 'sv'), release.id, 'sv')).toEqual([false, false, false]);
    expect(await inSitemap(release.id)).toBe(false);
  });

  it('a second web process on the same database never serves a stale state', async () => {
    // Another process: its own connection, its own render cache, the same database and clock.
    const other = await createContext(t.ctx.config, { clock: t.clock, logger: pino({ level: 'silent' }), databaseSchema: t.ctx.store.schema });
    const otherHttp = supertest(buildApp(other));
    try {
      const shown = await buildRelease(t, newsroom, { keywords: { fi: ['kirjasto'] } });
      await publish(shown.id);
      expect(await visibleIn(everyFeed(), shown.id, 'fi')).toEqual(everyFeed().map(() => true)); // now cached here

      // Withdrawn through the other process: gone here at once.
      await otherHttp.post(`/api/releases/${shown.id}/withdraw`).set(newsroom.auth).expect(200);
      expect(await visibleIn(everyFeed(), shown.id, 'fi')).toEqual(everyFeed().map(() => false));
      expect(await inSitemap(shown.id)).toBe(false);

      // Scheduled through the other process: hidden here until its time, then shown with no job run.
      const scheduled = await buildRelease(t, newsroom, { keywords: { fi: ['kirjasto'] } });
      const publishAt = new Date(t.clock.now().getTime() + 60_000).toISOString();
      await otherHttp.post(`/api/releases/${scheduled.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);
      expect(await visibleIn(everyFeed(), scheduled.id, 'fi')).toEqual(everyFeed().map(() => false));
      t.clock.advance(61_000);
      expect(await visibleIn(everyFeed(), scheduled.id, 'fi')).toEqual(everyFeed().map(() => true));
    } finally {
      await closeContext(other);
    }
  });

  it('drops Google News entries two days after publication, keeping the pages', async () => {
    t.clock.advance(2 * 24 * 3600 * 1000 + 1000);
    const map = await sitemap();
    const entry = map.urls.find((u) => u.loc === finnishOnly.links.web.fi)!;
    expect(entry).toBeDefined();
    expect(entry.news).toBeNull();
  });
});
