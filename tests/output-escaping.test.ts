import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ParsedMail } from 'mailparser';
import sharp from 'sharp';
import { startDeliveryWorker } from '../src/delivery/worker.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { startSubscriptionMailWorker } from '../src/subscriptions/mail.js';
import { asText, startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';

/*
 * Hostile text (markup, quotes, `]]>`, control characters, CR/LF, formula starts) put in
 * every field staff and readers can fill, then read back from every output the way its
 * readers read it: feeds and the sitemap through Python's XML parser, pages as HTML,
 * the vCard by its lines, email as a mail client parses it, CSV as a spreadsheet splits
 * it. The rule: text is escaped for the format it lands in, and user HTML is sanitised.
 */

const BASE = 'https://news.example.test';
const MARKUP = '<img src=x onerror=alert(1)>';
const hostile = {
  name: `Evil ${MARKUP} "Town" & 'Co' ]]>`,
  title: `${MARKUP} "T" & 'q' ]]> =1+1`,
  lead: `<b onmouseover=alert(1)>lead</b> ]]> & "q"\u0007 'a'\nsecond line`,
  body: `Text ]]> <script>alert(1)</script> ${MARKUP} <a href="javascript:alert(1)">x</a>`,
  boilerplate: `About ]]> <b onmouseover=alert(1)>us</b> & "q"`,
  contactName: `<script>alert(1)</script> "Q"; Name, X\\`,
  contactTitle: `<i>chief</i> & "boss" ]]>`,
  keyword: `<i>kw</i>"]]>`,
  caption: `"><img src=x onerror=alert(1)>`,
  credit: `<b>credit</b> & "c"`,
  filename: `kuva"<b>.png`,
};
/** What XML outputs carry of the lead: XML 1.0 cannot hold the control character, so they drop it. */
const leadInXml = hostile.lead.replace('\u0007', '');

/** An element with an event handler, or a script: markup that runs, wherever it came from. */
const LIVE_MARKUP = /<[a-z][^>]*\son[a-z]+\s*=|<script(?![^>]*application\/ld\+json)/i;

let t: TestApp;
let sink: SmtpSink;
let workers: RunningWorker[];
let newsroom: NewsroomFixture;
let contact: Record<string, any>;
let release: Record<string, any>;

const local = (url: string) => url.replace(BASE, '');
const text = (url: string) =>
  asText(t.http.get(local(url)))
    .expect(200)
    .then((res) => res.body as string);

const python = (script: string, input: string) =>
  JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input, maxBuffer: 64 * 1024 * 1024 }).toString());

/** Every element's text (and attributes) of an XML document, by tag: what an XML parser gives a feed reader. */
const XML_TEXTS = `
import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
out = {}
for el in root.iter():
    tag = el.tag.split('}')[-1]
    out.setdefault(tag, []).append({'text': el.text or '', 'attrs': el.attrib})
print(json.dumps(out))
`;
type XmlTexts = Record<string, { text: string; attrs: Record<string, string> }[]>;
const xmlTexts = async (url: string): Promise<XmlTexts> => python(XML_TEXTS, await text(url));
const textsOf = (doc: XmlTexts, tag: string) => (doc[tag] ?? []).map((e) => e.text);

/** HTML text as a browser shows it (the few entities our escaping writes). */
const unescapeHtml = (html: string) =>
  html.replace(/&(lt|gt|quot|#39|#x27|#x3D|#x60|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#x3D': '=', '#x60': '`', amp: '&' })[e]!);

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'news@example.test' });
  workers = [await startDeliveryWorker(t.ctx), await startPublicationWorker(t.ctx), await startSubscriptionMailWorker(t.ctx)];
  newsroom = await buildNewsroom(t, {
    languages: ['fi'],
    name: { fi: hostile.name },
    boilerplate: { fi: hostile.boilerplate },
  });
  contact = await buildContact(t, newsroom, { name: hostile.contactName, title: { fi: hostile.contactTitle } });
  release = await buildRelease(t, newsroom, {
    translations: { fi: { title: hostile.title, lead: hostile.lead, body: hostile.body } },
    keywords: { fi: [hostile.keyword] },
    contactIds: [contact.id],
  });
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();
  await buildAttachment(t, newsroom, release.id, {
    bytes: png,
    filename: hostile.filename,
    fields: { caption_fi: hostile.caption, credit: hostile.credit },
  });
  await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, newsroom.slug), [{ email: 'reader@example.net', languages: ['fi'] }]);
  await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
  release = (await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200)).body;
});

afterAll(async () => {
  for (const worker of workers ?? []) await worker.close();
  await t?.ctx.subscriptionMail.queue.obliterate({ force: true }).catch(() => undefined);
  await t?.close();
  await sink?.close();
});

const feeds = (format: string) => [
  `${BASE}/${newsroom.slug}/fi/${format}`,
  `${BASE}/${newsroom.slug}/fi/keyword/${encodeURIComponent(hostile.keyword.toLowerCase())}/${format}`,
  `${BASE}/${format}`,
];

describe('feeds and the sitemap', () => {
  it('RSS: titles and descriptions are escaped HTML (no element reaches a reader), categories and author plain text', async () => {
    for (const url of feeds('rss.xml')) {
      const doc = await xmlTexts(url);
      const [channelTitle, itemTitle] = textsOf(doc, 'title');
      const descriptions = textsOf(doc, 'description');
      // Readers render these as HTML: the HTML they get holds no element at all, and shows the text as written.
      for (const html of [channelTitle!, itemTitle!, ...descriptions]) expect(html).not.toMatch(/</);
      expect(unescapeHtml(itemTitle!)).toBe(hostile.title);
      expect(descriptions.map(unescapeHtml)).toContain(leadInXml);
      if (!url.includes('/keyword/') && url !== `${BASE}/rss.xml`) {
        expect(unescapeHtml(channelTitle!)).toBe(hostile.name);
        expect(descriptions.map(unescapeHtml)).toContain(`About ]]> us & "q"`); // the boilerplate as text
      }
      expect(textsOf(doc, 'category')).toEqual([hostile.keyword]);
      expect(textsOf(doc, 'creator')).toEqual([hostile.name]);
      const [content] = textsOf(doc, 'encoded');
      expect(content).toContain('Text ]]&gt;');
      expect(content).not.toMatch(LIVE_MARKUP);
      expect(content).not.toContain('javascript:');
    }
  });

  it('Atom and JSON Feed carry the text as text', async () => {
    for (const url of feeds('atom.xml')) {
      const doc = await xmlTexts(url);
      expect(doc.title!.map((e) => e.attrs.type)).toEqual(['text', 'text']);
      expect(textsOf(doc, 'title')[1]).toBe(hostile.title);
      expect(textsOf(doc, 'summary')).toEqual([leadInXml]);
      expect(doc.category!.map((e) => e.attrs.term)).toEqual([hostile.keyword]);
      expect(textsOf(doc, 'content')[0]).not.toMatch(LIVE_MARKUP);
    }
    for (const url of feeds('feed.json')) {
      const feed = JSON.parse(await text(url));
      expect(feed.items[0]).toMatchObject({ title: hostile.title, summary: leadInXml, tags: [hostile.keyword], authors: [{ name: hostile.name }] });
      expect(feed.items[0].content_html).not.toMatch(LIVE_MARKUP);
    }
  });

  it('the sitemap names the newsroom and the title as written', async () => {
    const doc = await xmlTexts(`${BASE}/sitemap.xml`);
    expect(textsOf(doc, 'title')).toEqual([hostile.title]);
    expect(textsOf(doc, 'name')).toEqual([hostile.name]);
  });
});

describe('pages and the vCard', () => {
  it('show every text escaped, in content, attributes and JSON-LD', async () => {
    const pages = [
      release.links.web.fi,
      newsroom.body.links.web.fi,
      `${BASE}/${newsroom.slug}/fi/keyword/${encodeURIComponent(hostile.keyword)}`,
      `${BASE}/${newsroom.slug}/fi/search?q=lead`,
      `${BASE}/`,
    ];
    for (const url of pages) {
      const html = await text(url);
      expect(html).not.toMatch(LIVE_MARKUP);
      expect(html).not.toContain('javascript:');
      expect(html).not.toContain(MARKUP);
    }
    const html = await text(release.links.web.fi);
    expect(unescapeHtml(/<title>([^<]*)<\/title>/.exec(html)![1]!)).toBe(`${hostile.title} – ${hostile.name}`);
    expect(unescapeHtml(/<meta property="og:title" content="([^"]*)">/.exec(html)![1]!)).toBe(hostile.title);
    expect(html).toContain('alt="&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;"');
    const jsonLd = JSON.parse(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html)![1]!);
    expect(jsonLd).toMatchObject({ headline: hostile.title, description: hostile.lead, keywords: hostile.keyword });
  });

  it('the vCard holds each text on its own line, escaped per RFC 6350', async () => {
    const card = await text(`${BASE}/${newsroom.slug}/contacts/${contact.id}.vcf`);
    const lines = card.replace(/\r\n /g, '').split('\r\n').filter(Boolean);
    const value = (name: string) => lines.find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`))!.replace(/^[^:]*:/, '');
    const unescape = (v: string) => v.replace(/\\([\\,;])/g, '$1').replace(/\\n/g, '\n');
    expect(unescape(value('FN'))).toBe(hostile.contactName);
    expect(unescape(value('ORG'))).toBe(hostile.name);
    expect(unescape(value('TITLE'))).toBe(hostile.contactTitle);
    expect(lines.map((l) => /^[A-Z-]+/.exec(l)?.[0])).toEqual(['BEGIN', 'VERSION', 'FN', 'ORG', 'TITLE', 'TEL', 'EMAIL', 'URL', 'REV', 'END']);
  });
});

describe('email', () => {
  const mailTo = (address: string) => sink.received.filter((m) => m.to === address).map((m) => m.mail);

  const expectSafeHtml = (mail: ParsedMail) => {
    const html = mail.html as string;
    expect(html).not.toMatch(LIVE_MARKUP);
    expect(html).not.toContain(MARKUP);
    expect(html).not.toContain('javascript:');
  };

  it('a release email: subject and sender as written, HTML part escaped, text part as written', async () => {
    expect(await until(() => mailTo('reader@example.net').length > 0)).toBe(true);
    const [mail] = mailTo('reader@example.net');
    expect(mail!.subject).toBe(hostile.title);
    expect(mail!.from?.value).toEqual([{ name: hostile.name, address: 'news@example.test' }]);
    expectSafeHtml(mail!);
    for (const written of [hostile.title, hostile.contactName, hostile.keyword, hostile.caption]) expect(mail!.text).toContain(written);
  });

  it('a confirmation email: the newsroom name as written in the subject, the sender and the text', async () => {
    await t.http.post(`/api/newsrooms/${newsroom.slug}/subscriptions`).send({ email: 'new@example.net', languages: ['fi'] }).expect(202);
    expect(await until(() => mailTo('new@example.net').length > 0)).toBe(true);
    const [mail] = mailTo('new@example.net');
    expect(mail!.subject).toContain(hostile.name);
    expect(mail!.from?.value).toEqual([{ name: hostile.name, address: 'news@example.test' }]);
    expectSafeHtml(mail!);
    expect(mail!.text).toContain(hostile.name);
  });
});

describe('one-line texts', () => {
  const breaks = ['Two\r\nlines', 'Two\nlines', 'Bell\u0007', 'Tab\tin', 'Next\u0085line', 'Line\u2028separator'];

  it('names, titles and keywords with a line break or control character are refused (422), naming the field', async () => {
    for (const bad of breaks) {
      const cases: [ReturnType<typeof t.http.post>, string][] = [
        [t.http.post('/api/newsrooms').set(t.admin).send({ slug: 'one-line-test', languages: ['fi'], name: { fi: bad } }), 'name.fi'],
        [t.http.patch(`/api/newsrooms/${newsroom.slug}`).set(t.admin).send({ name: { fi: bad } }), 'name.fi'],
        [t.http.post(`/api/newsrooms/${newsroom.slug}/releases`).set(newsroom.auth).send({ translations: { fi: { title: bad } } }), 'translations.fi.title'],
        [t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth).send({ keywords: { fi: [bad] } }), 'keywords.fi.0'],
        [t.http.post(`/api/newsrooms/${newsroom.slug}/contacts`).set(newsroom.auth).send({ name: bad }), 'name'],
        [t.http.post(`/api/newsrooms/${newsroom.slug}/subscriptions`).send({ email: 'x@example.net', keywords: [bad] }), 'keywords.0'],
      ];
      for (const [request, path] of cases) {
        const res = await request.expect(422);
        expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
      }
    }
  });

  it('a name stored with a line break (before the rule) still reaches mail headers as one line', async () => {
    const id = await newsroomId(t.ctx.db, newsroom.slug);
    await t.ctx.db.updateTable('newsroom_translations').set({ name: 'Old\r\nName\u0007 Town' }).where('newsroom_id', '=', id).execute();
    await t.http.post(`/api/newsrooms/${newsroom.slug}/subscriptions`).send({ email: 'old@example.net', languages: ['fi'] }).expect(202);
    expect(await until(() => sink.received.some((m) => m.to === 'old@example.net'))).toBe(true);
    const received = sink.received.find((m) => m.to === 'old@example.net')!;
    expect(received.mail.from?.value).toEqual([{ name: 'Old Name Town', address: 'news@example.test' }]);
    expect(received.mail.subject).toContain('Old Name Town');
    const head = received.raw.toString('utf8').split('\r\n\r\n')[0]!;
    expect(head).not.toMatch(/=0D|=0A|=07/i);
  });
});

describe('CSV export', () => {
  it('quotes every field holding a comma or semicolon and leaves no formula for a spreadsheet to run, however it splits', async () => {
    const keywords = [`x;=cmd|' /C calc'!A0`, '=HYPERLINK("x")', '+1', '@SUM(A1)', '-2'];
    await t.http
      .post(`/api/newsrooms/${newsroom.slug}/subscribers/import`)
      .set(t.admin)
      .send({ consent: { source: '=cmd|calc;-1', collectedAt: '2025-01-01T00:00:00Z' }, subscribers: [{ email: 'sheet@example.net', keywords }] })
      .expect(200);
    const csv = (await t.http.get(`/api/newsrooms/${newsroom.slug}/subscribers/export`).set(newsroom.auth).expect(200)).text;

    // Read as written (comma-separated): the values, each formula start made text by an apostrophe.
    const row = (parseCsv(csv, { columns: true }) as Record<string, string>[]).find((r) => r.email === 'sheet@example.net')!;
    expect(row.keywords).toBe(`x;'=cmd|' /C calc'!A0, '=HYPERLINK("x"), '+1, '@SUM(A1), '-2`);
    expect(row.consent_source).toBe(`'=cmd|calc;'-1`);
    expect(csv).toContain(`"x;'=cmd|' /C calc'!A0, `);

    // Split the way Finnish and Swedish Excel does (semicolons), with quotes honoured and ignored alike: no formula.
    const line = csv.split('\n').find((l) => l.startsWith('sheet@example.net'))!;
    const cells = [
      ...(parseCsv(line, { delimiter: ';', relax_quotes: true, relax_column_count: true }) as string[][]).flat(),
      ...line.split(/[;,]/),
    ];
    for (const cell of cells) expect(cell.trim()).not.toMatch(/^[=+\-@]/);
  });
});
